// What the pages do in the browser besides htmx and upload.js. It lives here, never inline: the
// policy of /ui (web/headers.py) runs no inline handler and no `javascript:` URL.
// - a form with data-confirm="<question>" is sent only when the question is answered yes;
// - a link with data-back goes back in the history (to its href when there is no history).
// Listening on the document, it serves forms and links that htmx swaps in later as well.
(function () {
  "use strict";
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[data-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
