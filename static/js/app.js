// ShopApp's own behaviour on top of htmx. No inline scripts anywhere: a strict CSP can forbid them.

// Searches and filters leave empty fields out of the URL htmx requests and pushes to the
// address bar, so bookmarked and shared addresses stay short: "/?q=mug" rather than
// "/?q=mug&category=&shop=&min_price=…". The server reads a missing field as an empty one.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get") {
    return;
  }
  const data = event.detail.formData;
  for (const [name, value] of Array.from(data.entries())) {
    if (value === "") {
      data.delete(name);
    }
  }
});

// Image uploads: show what was chosen before it is sent, each file with an alt text of its own (the
// plain form's single alt field is set aside while they show), a file over the size limit marked at once,
// and how far the upload has got.
function showChosenImages(input) {
  const previews = document.querySelector(input.dataset.preview);
  const shared = document.querySelector(input.dataset.sharedAlt);
  const sharedAlt = shared.querySelector("input");
  const maxBytes = Number(input.dataset.maxBytes);
  previews.replaceChildren();
  for (const [index, file] of Array.from(input.files).entries()) {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    img.alt = `Preview of ${file.name}`;
    img.onload = () => URL.revokeObjectURL(img.src);
    const caption = document.createElement("figcaption");
    const label = document.createElement("label");
    label.htmlFor = `alt-new-${index}`;
    label.textContent = `Alt text of ${file.name}`;
    const alt = document.createElement("input");
    Object.assign(alt, { id: `alt-new-${index}`, name: "alt", type: "text", maxLength: sharedAlt.maxLength });
    alt.placeholder = sharedAlt.placeholder;
    caption.append(label, alt);
    if (file.size > maxBytes) {
      const warning = document.createElement("p");
      warning.className = "field-error";
      warning.textContent = `${file.name} is ${(file.size / 1048576).toFixed(1)} MB: larger than ${Math.floor(maxBytes / 1048576)} MB, so it will be refused.`;
      caption.append(warning);
    }
    figure.append(img, caption);
    previews.append(figure);
  }
  const perFile = input.files.length > 0;
  shared.hidden = perFile;
  for (const field of shared.querySelectorAll("input")) {
    field.disabled = perFile;
  }
}

document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.dataset.preview) {
    showChosenImages(input);
  }
  if (input instanceof HTMLInputElement && input.dataset.selectAll) {
    for (const row of document.querySelectorAll(`input[name="product_ids"][form="${input.dataset.selectAll}"]`)) {
      row.checked = input.checked;
    }
  }
});

// The products table's "Select all on this page" box works only with JavaScript: it stays hidden without it
// (the bulk bar's "All on this page" does the same job then). htmx:load fires for the page and each swap.
document.addEventListener("htmx:load", (event) => {
  for (const box of event.detail.elt.querySelectorAll("input[data-select-all]")) {
    box.hidden = false;
  }
});

document.addEventListener("htmx:xhr:progress", (event) => {
  const bar = event.target.querySelector?.(".upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});

document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.classList.contains("upload-form")) {
    form.querySelector(".upload-progress").hidden = true;
    const status = event.detail.xhr?.status ?? 0;
    if (status >= 200 && status < 300) {
      form.reset();
      showChosenImages(form.querySelector("input[type=file]"));
    }
  }
});

// Images: drag one onto another's place to move it there. The drop picks that place in the dragged image's own
// "Move" form and sends it, as choosing the position and pressing "Move" does without JavaScript.
let draggedImage = null;

function imageItemOf(event) {
  return event.target instanceof Element ? event.target.closest(".image-item[draggable]") : null;
}

document.addEventListener("dragstart", (event) => {
  draggedImage = imageItemOf(event);
  if (draggedImage) {
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", "");
  }
});

document.addEventListener("dragover", (event) => {
  const item = imageItemOf(event);
  if (draggedImage && item && item.parentElement === draggedImage.parentElement) {
    event.preventDefault();
    item.classList.toggle("drop-target", item !== draggedImage);
  }
});

document.addEventListener("dragleave", (event) => imageItemOf(event)?.classList.remove("drop-target"));

document.addEventListener("drop", (event) => {
  const item = imageItemOf(event);
  if (!draggedImage || !item || item === draggedImage || item.parentElement !== draggedImage.parentElement) {
    return;
  }
  event.preventDefault();
  item.classList.remove("drop-target");
  const form = draggedImage.querySelector(".move-form");
  form.elements.position.value = String(Array.from(item.parentElement.children).indexOf(item));
  draggedImage = null;
  form.requestSubmit();
});

document.addEventListener("dragend", () => {
  draggedImage = null;
});

// A request htmx did not swap (a server error, a proxy's page, no connection) still says what happened.
function showRequestError(text) {
  const region = document.getElementById("request-error");
  if (!region) {
    return;
  }
  const box = document.createElement("div");
  box.className = "form-errors";
  box.setAttribute("role", "alert");
  const message = document.createElement("p");
  message.textContent = text;
  box.append(message);
  region.replaceChildren(box);
  region.scrollIntoView({ block: "nearest" });
}

document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500 || status < 400) {
    showRequestError(`Something went wrong on our side (${status}). Please try again in a moment.`);
  }
});

document.addEventListener("htmx:sendError", () => {
  showRequestError("The server could not be reached. Check your connection and try again.");
});

// A request that went through clears the last error message.
document.addEventListener("htmx:beforeRequest", () => {
  document.getElementById("request-error")?.replaceChildren();
});

// The catalog's filters on a phone: folded on arrival under their "Filters and sort" heading, so the first
// results show right under the search box; open on a wider screen, where they sit beside the results. Without
// JavaScript they are simply open.
const narrowScreen = window.matchMedia("(max-width: 768px)");
function fitFiltersPanel() {
  for (const panel of document.querySelectorAll("details.filters-panel")) {
    panel.open = !narrowScreen.matches;
  }
}
document.addEventListener("DOMContentLoaded", fitFiltersPanel);
narrowScreen.addEventListener("change", fitFiltersPanel);
