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

// Image uploads: show what was chosen before it is sent, and how far the upload has got.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.preview) {
    return;
  }
  const previews = document.querySelector(input.dataset.preview);
  previews.replaceChildren();
  for (const file of input.files) {
    const img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    img.alt = `Preview of ${file.name}`;
    img.onload = () => URL.revokeObjectURL(img.src);
    previews.append(img);
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
    if (event.detail.successful) {
      form.reset();
      form.querySelector(".previews").replaceChildren();
    }
  }
});
