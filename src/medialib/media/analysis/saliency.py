"""Where a picture's subject is when no face says so: a focal point from saliency.

The measure is libvips' "attention" (its smartcrop) redone on a 32x32 copy with numpy, since
workers never load libvips: detail (the magnitude of a Laplacian of the luminance), strongly
saturated colour and skin tones are summed per pixel, the sum is blurred (a Gaussian, as two
matrix products) so the point lands on a region rather than one sharp pixel, weighted towards
the middle (as subjects are framed), and the maximum is the focus. A flat background scores
nothing, so a small detailed or colourful object on it wins.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from medialib.media.analysis.records import FocalPoint, FocusSource

# RGB (0..1) to luminance and the two colour differences of BT.601 (Cb, Cr centred on 0).
_RGB_TO_YCC = np.array(
    [[0.299, -0.168736, 0.5], [0.587, -0.331264, -0.418688], [0.114, 0.5, -0.081312]],
    dtype=np.float32,
)
# The weights were set on scikit-image's photos (astronaut, chelsea, coffee, rocket, camera):
# at full weight the texture of a 32x32 copy outvotes a face; skin alone picks wooden tables.
_DETAIL = 0.5
_SATURATED = 0.35  # chroma below this (pale tints, noise in greys) adds nothing
_SKIN = 0.6  # a skin-toned pixel's score
_BLUR_SIGMA = 0.08  # of the side
_CENTRE_BIAS = 0.5  # the score at an edge is worth this much less than in the middle


def salient_point(picture: Image.Image) -> FocalPoint:
    """The most salient point of an RGB picture (a small copy: 32x32 is plenty), as fractions
    of its width and height."""
    rgb = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0
    h, w = rgb.shape[:2]
    ycc = rgb @ _RGB_TO_YCC
    score = _DETAIL * _detail(ycc[..., 0]) + _saturation(rgb) + _skin(ycc)
    blurred = (_gaussian(h) @ score @ _gaussian(w).T) * _centred(h)[:, None] * _centred(w)
    if float(blurred.max()) <= 1e-6:  # nothing stands out: the centre
        return FocalPoint(0.5, 0.5, FocusSource.SALIENCY)
    y, x = divmod(int(np.argmax(blurred)), w)
    return FocalPoint((x + 0.5) / w, (y + 0.5) / h, FocusSource.SALIENCY)


def _detail(luminance: np.ndarray) -> np.ndarray:
    """|Laplacian| of the luminance, edges repeated outward (as two matrix products)."""
    h, w = luminance.shape
    laplacian = _second_difference(h) @ luminance + luminance @ _second_difference(w).T
    detail: np.ndarray = np.abs(laplacian)
    return detail


def _saturation(rgb: np.ndarray) -> np.ndarray:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    saturated: np.ndarray = np.maximum(chroma - _SATURATED, 0.0)
    return saturated


def _skin(ycc: np.ndarray) -> np.ndarray:
    """The usual YCbCr box for skin of any colour (Cb 77..127, Cr 133..173 of 255), lit."""
    cb, cr = ycc[..., 1], ycc[..., 2]
    inside = (cb > -0.2) & (cb < -0.004) & (cr > 0.02) & (cr < 0.18) & (ycc[..., 0] > 0.2)
    return inside * np.float32(_SKIN)


@functools.cache
def _second_difference(size: int) -> np.ndarray:
    """The matrix of 2 x[i] - x[i-1] - x[i+1] along a column, the edge value repeated."""
    matrix = 2 * np.eye(size, dtype=np.float32)
    for i in range(size):
        matrix[i, max(i - 1, 0)] -= 1
        matrix[i, min(i + 1, size - 1)] -= 1
    return matrix


@functools.cache
def _centred(size: int) -> np.ndarray:
    """Photographers frame subjects away from the edges: 1 in the middle, less outward."""
    weights: np.ndarray = 1 - _CENTRE_BIAS * np.linspace(-1, 1, size, dtype=np.float32) ** 2
    return weights


@functools.cache
def _gaussian(size: int) -> np.ndarray:
    """The matrix that blurs a column of `size` values (rows normalised: edges keep their
    level)."""
    sigma = max(1.0, size * _BLUR_SIGMA)
    offsets = np.arange(size)[:, None] - np.arange(size)[None, :]
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    matrix: np.ndarray = (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
    return matrix
