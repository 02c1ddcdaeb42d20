"""ThumbHash placeholders: a picture in about 25 bytes that a page paints as a blurred preview
while the thumbnail loads (its aspect ratio and mean colour ride along).

A faithful port of Evan Wallace's reference (github.com/evanw/thumbhash, MIT): the same DCT
terms, the same quantisation and bit layout, so any ThumbHash decoder reads what we write. The
loops over pixels become matrix products: one `cos` table per axis, `Y @ channel @ X.T` for all
of a channel's terms at once. JavaScript's `Math.round` (halves go up) is `_round` here.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

MAX_SIDE = 100  # the reference refuses larger pictures: more pixels add nothing


def encode(picture: Image.Image) -> str:
    """The ThumbHash of a picture of at most 100x100 pixels (RGB or RGBA), base64."""
    return base64.b64encode(rgba_to_thumbhash(picture)).decode("ascii")


def rgba_to_thumbhash(picture: Image.Image) -> bytes:
    w, h = picture.size
    if w > MAX_SIDE or h > MAX_SIDE:
        raise ValueError(f"{w}x{h} does not fit in {MAX_SIDE}x{MAX_SIDE}")
    rgb, alpha = _rgb_and_alpha(picture)
    has_alpha = alpha is not None
    l_limit = 5 if has_alpha else 7  # fewer luminance terms when alpha needs room
    lx = max(1, _round(l_limit * w / max(w, h)))
    ly = max(1, _round(l_limit * h / max(w, h)))
    lpq = rgb @ _RGB_TO_LPQ  # luminance, yellow-blue, red-green
    l_dc, l_ac, l_scale = _encode_channel(lpq[..., 0], max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(lpq[..., 1], 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(lpq[..., 2], 3, 3)

    landscape = w > h
    header24 = (
        _round(63 * l_dc)
        | (_round(31.5 + 31.5 * p_dc) << 6)
        | (_round(31.5 + 31.5 * q_dc) << 12)
        | (_round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx)
        | (_round(63 * p_scale) << 3)
        | (_round(63 * q_scale) << 9)
        | (int(landscape) << 15)
    )
    head = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    factors = [l_ac, p_ac, q_ac]
    if alpha is not None:
        a_dc, a_ac, a_scale = _encode_channel(alpha, 5, 5)
        head.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
        factors.append(a_ac)
    nibbles = np.floor(15 * np.concatenate(factors) + 0.5).astype(np.uint8)
    if len(nibbles) % 2:
        nibbles = np.append(nibbles, np.uint8(0))
    return bytes(head) + (nibbles[0::2] | (nibbles[1::2] << 4)).tobytes()


# (r, g, b) @ this = (l, p, q): l = (r + g + b) / 3, p = (r + g) / 2 - b, q = r - g.
_RGB_TO_LPQ = np.array(
    [[1 / 3, 0.5, 1.0], [1 / 3, 0.5, -1.0], [1 / 3, -1.0, 0.0]], dtype=np.float64
)


def _rgb_and_alpha(picture: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB in 0..1 composited on the average colour (as the reference does), and the alpha
    when some pixel is not opaque."""
    if picture.mode == "RGB":
        return np.asarray(picture, dtype=np.float64) / 255.0, None
    rgba = np.asarray(picture.convert("RGBA"), dtype=np.float64) / 255.0
    alpha = rgba[..., 3]
    total_alpha = float(alpha.sum())
    if total_alpha >= alpha.size:
        return rgba[..., :3], None
    average = (rgba[..., :3] * alpha[..., None]).sum(axis=(0, 1))
    if total_alpha:
        average /= total_alpha
    rgb = average * (1 - alpha[..., None]) + rgba[..., :3] * alpha[..., None]
    return rgb, alpha


def _encode_channel(channel: np.ndarray, nx: int, ny: int) -> tuple[float, np.ndarray, float]:
    """The DC term, the AC terms scaled to 0..1 (in the reference's triangular order), and the
    scale they were divided by."""
    h, w = channel.shape
    cx, cy = _terms(nx, ny)
    all_terms = _cosines(ny, h) @ channel @ _cosines(nx, w).T / (w * h)
    terms = all_terms[cy, cx]
    dc, ac = float(terms[0]), terms[1:]
    scale = float(np.abs(ac).max(initial=0.0))
    if scale:
        ac = 0.5 + 0.5 / scale * ac
    return dc, ac, scale


@functools.cache
def _cosines(terms: int, size: int) -> np.ndarray:
    """cos(pi / size * k * (x + 0.5)) for k < terms (rows) and x < size (columns)."""
    return np.cos(np.pi / size * np.arange(terms)[:, None] * (np.arange(size) + 0.5))


@functools.cache
def _terms(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """The (cx, cy) the reference keeps: row by row, `cx * ny < nx * (ny - cy)`; (0, 0) first."""
    pairs = [(x, y) for y in range(ny) for x in range(nx) if x * ny < nx * (ny - y)]
    return np.array([x for x, _ in pairs]), np.array([y for _, y in pairs])


def _round(value: float) -> int:
    return math.floor(value + 0.5)


# --- Decoding: for tests, the web view and anything that wants the preview server-side -------


_Values = np.ndarray | float  # one value, or one per pixel


@dataclass(frozen=True)
class _Header:
    l_dc: float
    p_dc: float
    q_dc: float
    l_scale: float
    p_scale: float
    q_scale: float
    has_alpha: bool
    landscape: bool
    lx: int
    ly: int
    a_dc: float
    a_scale: float


def _decoded(hash_b64: str) -> bytes:
    try:
        raw = base64.b64decode(hash_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a base64 ThumbHash") from exc
    if len(raw) < 5 or (raw[2] & 0x80 and len(raw) < 6):
        raise ValueError("too short for a ThumbHash")
    return raw


def _header(raw: bytes) -> _Header:
    header24 = raw[0] | (raw[1] << 8) | (raw[2] << 16)
    header16 = raw[3] | (raw[4] << 8)
    has_alpha = bool(header24 >> 23)
    landscape = bool(header16 >> 15)
    limit = 5 if has_alpha else 7
    return _Header(
        l_dc=(header24 & 63) / 63,
        p_dc=((header24 >> 6) & 63) / 31.5 - 1,
        q_dc=((header24 >> 12) & 63) / 31.5 - 1,
        l_scale=((header24 >> 18) & 31) / 31,
        p_scale=((header16 >> 3) & 63) / 63,
        q_scale=((header16 >> 9) & 63) / 63,
        has_alpha=has_alpha,
        landscape=landscape,
        lx=max(3, limit if landscape else header16 & 7),
        ly=max(3, header16 & 7 if landscape else limit),
        a_dc=(raw[5] & 15) / 15 if has_alpha else 1.0,
        a_scale=(raw[5] >> 4) / 15 if has_alpha else 0.0,
    )


def aspect_ratio(hash_b64: str) -> float:
    """Width over height, as the hash knows it (approximately: lx / ly)."""
    raw = _decoded(hash_b64)
    has_alpha = raw[2] & 0x80
    landscape = raw[4] & 0x80
    lx = (5 if has_alpha else 7) if landscape else raw[3] & 7
    ly = raw[3] & 7 if landscape else (5 if has_alpha else 7)
    if not lx or not ly:
        raise ValueError("not a ThumbHash: a side of no terms")
    return lx / ly


def average_rgba(hash_b64: str) -> tuple[float, float, float, float]:
    """The picture's mean colour, each channel 0..1."""
    head = _header(_decoded(hash_b64))
    r, g, b = _lpq_to_rgb(head.l_dc, head.p_dc, head.q_dc)
    return (_unit(r), _unit(g), _unit(b), head.a_dc)


def to_rgba(hash_b64: str) -> tuple[int, int, bytes]:
    """The preview the hash holds: width, height (32 on the long side) and RGBA bytes."""
    raw = _decoded(hash_b64)
    head = _header(raw)
    nibbles = [n for byte in raw[6 if head.has_alpha else 5 :] for n in (byte & 15, byte >> 4)]
    l_terms, p_terms = _terms(head.lx, head.ly), _terms(3, 3)
    a_terms = _terms(5, 5)
    counts = [len(l_terms[0]) - 1, len(p_terms[0]) - 1, len(p_terms[0]) - 1]
    counts += [len(a_terms[0]) - 1] if head.has_alpha else []
    if len(nibbles) < sum(counts):
        raise ValueError("too short for a ThumbHash")
    values = np.array(nibbles[: sum(counts)], dtype=np.float64) / 7.5 - 1
    channels = np.split(values, np.cumsum(counts)[:-1])
    l_ac, p_ac, q_ac = channels[:3]
    ratio = aspect_ratio(hash_b64)
    w = _round(32 if ratio > 1 else 32 * ratio)
    h = _round(32 / ratio if ratio > 1 else 32)
    lum = _decode_channel(head.l_dc, l_ac * head.l_scale, l_terms, w, h)
    p = _decode_channel(head.p_dc, p_ac * head.p_scale * 1.25, p_terms, w, h)  # 1.25: saturation
    q = _decode_channel(head.q_dc, q_ac * head.q_scale * 1.25, p_terms, w, h)
    if head.has_alpha:
        a = _decode_channel(head.a_dc, channels[3] * head.a_scale, a_terms, w, h)
    else:
        a = np.ones((h, w))
    r, g, b = _lpq_to_rgb(lum, p, q)
    rgba = np.stack([r, g, b, a], axis=-1)
    # The reference stores max(0, 255 * min(1, v)) in a Uint8Array: truncation toward zero.
    pixels = (np.clip(rgba, 0, 1) * 255).astype(np.uint8)
    return w, h, pixels.tobytes()


def _decode_channel(
    dc: float, ac: np.ndarray, terms: tuple[np.ndarray, np.ndarray], w: int, h: int
) -> np.ndarray:
    cx, cy = terms[0][1:], terms[1][1:]
    x_cos = np.cos(np.pi / w * (np.arange(w)[:, None] + 0.5) * cx)  # w x terms
    y_cos = np.cos(np.pi / h * (np.arange(h)[:, None] + 0.5) * cy) * 2  # h x terms
    channel: np.ndarray = dc + (y_cos * ac) @ x_cos.T
    return channel


def _lpq_to_rgb(lum: _Values, p: _Values, q: _Values) -> tuple[_Values, _Values, _Values]:
    b = lum - 2 / 3 * p
    r = (3 * lum - b + q) / 2
    return r, r - q, b


def _unit(value: _Values) -> float:
    return max(0.0, min(1.0, float(value)))


def to_picture(hash_b64: str) -> Image.Image:
    """The preview as a Pillow picture (for tests and server-side previews)."""
    w, h, pixels = to_rgba(hash_b64)
    return Image.frombytes("RGBA", (w, h), pixels)
