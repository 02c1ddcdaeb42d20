"""Copies of a decoded picture made with Pillow alone: smaller, in RGB on white, grey. Both sides
of the analysis use them: the worker (pixels.py) to make the copy it sends, the analysis process
(measures.py, child.py) to make the smaller ones it measures; neither needs numpy for them."""

from __future__ import annotations

from PIL import Image

# The long side of the copy the worker decodes (pixels.py says why not less) and sends...
ANALYSIS_SIDE = 64
# ...or, when faces are looked for, of the grey copy the detector looks at (bench/faces.py).
FACES_SIDE = 160
_WHITE = (255, 255, 255)


def shrink(picture: Image.Image, side: int) -> Image.Image:
    """A copy whose long side is at most `side` (the picture itself when it already fits)."""
    w, h = picture.size
    long = max(w, h)
    if long <= side:
        return picture
    size = (max(1, round(w * side / long)), max(1, round(h * side / long)))
    # A box reduce by whole factors first, then bilinear: cheap and without aliasing.
    return picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def as_rgb(image: Image.Image) -> Image.Image:
    """The picture in RGB, transparent areas painted on white (the picture itself if RGB)."""
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, _WHITE)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def grey_copy(picture: Image.Image, side: int = FACES_SIDE) -> Image.Image:
    """The grey copy the face detector looks at: its long side `side`, never enlarged. Halved
    by averaging first when it is twice as large or more (a third of the CPU of a resize)."""
    if picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")  # what the worker sends; others are converted
    factor = max(picture.size) // side
    grey = (picture.reduce(factor) if factor > 1 else picture).convert("L")
    scale = side / max(grey.size)
    if scale < 1:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    return grey
