// Progressive enhancement only: every page works without this file.
// Confirms destructive forms (marked data-confirm) before they are sent.
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
