// Placeholders painted while thumbnails load (web/pictures.py): the page paints a picture's
// colour itself; this decodes its ThumbHash (a canvas with data-thumbhash) into the canvas,
// which the stylesheet stretches over the thumbnail's box, behind the thumbnail. Decoding is
// the browser's work, not the server's (web/pictures.py says why): 0.1 to 0.2 ms each in V8.
// Cards that htmx adds later (the next page) are painted as they come.
import { thumbHashToRGBA } from "./thumbhash.js";

function decode(text) {
  const bytes = atob(text);
  return Uint8Array.from(bytes, (c) => c.charCodeAt(0));
}

function paint(root) {
  for (const canvas of root.querySelectorAll("canvas[data-thumbhash]:not([data-painted])")) {
    canvas.dataset.painted = "";
    try {
      const { w, h, rgba } = thumbHashToRGBA(decode(canvas.dataset.thumbhash));
      canvas.width = w;
      canvas.height = h;
      canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), w, h), 0, 0);
    } catch {
      canvas.hidden = true; // not a ThumbHash: the colour alone stays
    }
  }
}

paint(document);
document.addEventListener("htmx:load", (event) => {
  if (event.target instanceof Element) paint(event.target);
});
