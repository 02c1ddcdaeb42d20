// What the pages do in the browser besides htmx and upload.js. It lives here, never inline: the
// policy of /ui (web/headers.py) runs no inline handler and no `javascript:` URL.
// - a form with data-confirm="<question>" is sent only when the question is answered yes;
// - a link with data-back goes back in the history (to its href when there is no history);
// - an element with data-counts="<field id>" shows how many characters the field holds;
// - a click on the entry page's picture (pages/focus.py) sends the size the picture is shown
//   at, which the click's coordinates are of; a key that presses the button has no point to
//   send (the browser would send the top left corner) and sends nothing.
// Listening on the document, it serves forms and links that htmx swaps in later as well.
(function () {
  "use strict";
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) return;
    for (const counter of document.querySelectorAll("[data-counts]")) {
      // Characters as the server counts them (code points, not UTF-16 units).
      if (counter.dataset.counts === field.id) counter.textContent = [...field.value].length;
    }
  });
  document.addEventListener("click", (event) => {
    const picture = event.target;
    if (!(picture instanceof HTMLInputElement && picture.type === "image" && picture.form)) return;
    if (event.detail === 0) {
      event.preventDefault();
      return;
    }
    const shown = picture.getBoundingClientRect();
    picture.form.elements.namedItem("shownWidth").value = shown.width;
    picture.form.elements.namedItem("shownHeight").value = shown.height;
  });
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[data-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
