"""The analysis of one picture as typed records, and how an asset stores them.

Positions and sizes are fractions (0..1) of the picture as displayed: after its EXIF
orientation, so a portrait shot turned on its side has its faces where a viewer sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FocusSource(StrEnum):
    FACES = "faces"  # the centre of the faces' box, weighted by their size
    SALIENCY = "saliency"  # where the picture's detail and colour are (no faces found)
    EDITOR = "editor"  # placed by a person in the web view; imports of the entry keep it


@dataclass(frozen=True)
class Box:
    """A face: its top left corner and its size."""

    x: float
    y: float
    width: float
    height: float

    def as_json(self) -> dict[str, float]:
        return {
            "x": round(self.x, 4),
            "y": round(self.y, 4),
            "width": round(self.width, 4),
            "height": round(self.height, 4),
        }


@dataclass(frozen=True)
class FocalPoint:
    x: float
    y: float
    source: FocusSource

    def as_json(self) -> dict[str, Any]:
        return {"x": round(self.x, 4), "y": round(self.y, 4), "source": self.source.value}


@dataclass(frozen=True)
class Analysis:
    """Everything the analysis stores of one picture."""

    phash: int  # 64 bits, unsigned: the perceptual hash near-duplicates are found by
    placeholder: str  # a ThumbHash, base64
    color: str  # the dominant colour, "#rrggbb"
    focal_point: FocalPoint
    faces: tuple[Box, ...]

    def asset_fields(self) -> dict[str, Any]:
        """The fields an image asset (or a video's poster) gets."""
        return {
            "perceptualHash": f"{self.phash:016x}",
            "placeholder": self.placeholder,
            "color": self.color,
            "focalPoint": self.focal_point.as_json(),
            "faces": [face.as_json() for face in self.faces],
        }


ANALYSIS_FIELDS = ("perceptualHash", "placeholder", "color", "focalPoint", "faces")
