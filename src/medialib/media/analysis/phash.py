"""A 64-bit perceptual hash (pHash): near-duplicates differ in few bits, unrelated pictures in
about half of them.

The picture is shrunk to 32x32 grey; its 2-D DCT (two matrix products) keeps the lowest 8x8
frequencies, where the layout of light and dark lives and where re-encoding, resizing and
small colour changes barely reach. The DC term (the mean brightness) says nothing about the
layout, so it gives its place to the next horizontal frequency; each bit says whether its
coefficient is above the median of the 64. 64 bits fit a BIGINT and the four 16-bit bands of
the near-duplicate index.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_SIDE = 32
_KEPT = 8


def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix: `D @ x` is the DCT of the column `x`."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix: np.ndarray = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


# Only the first rows of the DCT are ever needed: 9 x 32 (the 9th column replaces the DC).
_DCT = _dct_matrix(_SIDE)[: _KEPT + 1].astype(np.float32)
# The 8x8 low frequencies in row-major order, (0, 0) swapped for (0, 8).
_ROWS = np.array([0, *[r for r in range(_KEPT) for c in range(_KEPT)][1:]])
_COLUMNS = np.array([_KEPT, *[c for r in range(_KEPT) for c in range(_KEPT)][1:]])
_WEIGHTS = (1 << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


def phash(picture: Image.Image) -> int:
    """The picture's 64-bit hash, unsigned; the first coefficient is the top bit."""
    grey = picture.convert("L").resize((_SIDE, _SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, dtype=np.float32)
    low = _DCT @ pixels @ _DCT.T  # 9 x 9: rows are vertical, columns horizontal frequencies
    coefficients = low[_ROWS, _COLUMNS]
    middle = np.sort(coefficients)[31:33]  # np.median costs ten times as much
    bits = coefficients > (middle[0] + middle[1]) / 2
    return int(_WEIGHTS[bits].sum())


def distance(a: int, b: int) -> int:
    """How many of the 64 bits differ."""
    return (a ^ b).bit_count()
