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
