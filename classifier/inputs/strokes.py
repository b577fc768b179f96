"""A drawing sent as strokes instead of a picture: checked, then drawn as the canvas drew it.

The format is Quick, Draw!'s simplified one: each stroke is `[[x0, x1, ...], [y0, y1, ...]]` in
canvas pixels, with the canvas size and the brush width beside them:

    {"strokes": [[[10, 50, 90], [20, 20, 80]], ...], "width": 400, "height": 400, "brush": 14}

`rasterize` draws it with PIL (black on white, the same width, round caps and joins), so the
drawing kind's pipeline and model take it unchanged: Python stays the one source of truth for
preprocessing. Everything is validated first, with a message that says what is wrong. Its "not
sure" and outliers are the drawing's: a drawing given as strokes is a drawing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .drawing import DRAWING
from .imageprep import ImageInputError
from .kind import InputKind, Prepared, Wording

MAX_STROKES = 300
MAX_POINTS = 5000        # over all strokes
MAX_SIDE = 4000          # a canvas side, in pixels
MAX_BRUSH = 200


@dataclass(frozen=True)
class Strokes:
    strokes: list[list[tuple[float, float]]]   # each stroke its points, (x, y) in canvas pixels
    width: int
    height: int
    brush: float


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ImageInputError(f"{what} must be a finite number, not {value!r:.40}.")
    return float(value)


def parse(payload: Any) -> Strokes:
    """Check a strokes payload (a dict, or its JSON text) and return it, or raise ImageInputError."""
    if isinstance(payload, (str, bytes)):
        if len(payload) > 1_000_000:
            raise ImageInputError("A strokes payload is at most 1 MB of JSON.")
        try:
            payload = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ImageInputError(f"The strokes are not valid JSON ({e.msg if hasattr(e, 'msg') else e}).") from None
    if not isinstance(payload, dict):
        raise ImageInputError('Strokes come as {"strokes": [...], "width": W, "height": H, "brush": B}.')
    width, height = (_number(payload.get(k), k) for k in ("width", "height"))
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE) or width != int(width) or height != int(height):
        raise ImageInputError(f"The canvas is 1 to {MAX_SIDE} whole pixels a side (got {width:g} x {height:g}).")
    DRAWING.limits.check(int(width), int(height))
    brush = _number(payload.get("brush", 14), "brush")
    if not 1 <= brush <= MAX_BRUSH:
        raise ImageInputError(f"The brush is 1 to {MAX_BRUSH} pixels wide (got {brush:g}).")
    raw = payload.get("strokes")
    if not isinstance(raw, list):
        raise ImageInputError("'strokes' must be a list of strokes, each [[x0, x1, ...], [y0, y1, ...]].")
    if len(raw) > MAX_STROKES:
        raise ImageInputError(f"A drawing has at most {MAX_STROKES} strokes (got {len(raw)}).")
    strokes, total = [], 0
    for k, stroke in enumerate(raw):
        if not (isinstance(stroke, list) and len(stroke) >= 2 and all(isinstance(c, list) for c in stroke[:2])):
            raise ImageInputError(f"Stroke {k} must be [[x0, x1, ...], [y0, y1, ...]].")
        xs, ys = stroke[0], stroke[1]
        if len(xs) != len(ys) or not xs:
            raise ImageInputError(f"Stroke {k} needs as many x as y values, at least one.")
        total += len(xs)
        if total > MAX_POINTS:
            raise ImageInputError(f"A drawing has at most {MAX_POINTS} points in all.")
        points = [(_number(x, f"stroke {k}'s x"), _number(y, f"stroke {k}'s y")) for x, y in zip(xs, ys, strict=True)]
        if any(not (0 <= x <= width and 0 <= y <= height) for x, y in points):
            raise ImageInputError(f"Stroke {k} leaves the {width:g} x {height:g} canvas.")
        strokes.append(points)
    return Strokes(strokes, int(width), int(height), brush)


def rasterize(drawing: Strokes) -> Image.Image:
    """The strokes drawn black on white at the canvas's size, round caps and joins, as the page draws them.

    Each segment is a line and each point a disk as wide as the brush: PIL's wide polyline (even with
    its curved joints) leaves slivers of paper inside a curve drawn as many short segments, which a
    canvas's round joins do not."""
    image = Image.new("L", (drawing.width, drawing.height), 255)
    draw = ImageDraw.Draw(image)
    r, width = drawing.brush / 2, max(1, round(drawing.brush))
    for points in drawing.strokes:
        for a, b in zip(points, points[1:], strict=False):
            draw.line([a, b], fill=0, width=width)
        for x, y in points:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=0)
    return image


class StrokesKind(InputKind):
    name = "strokes"
    limits = DRAWING.limits
    wording = Wording(
        tab=DRAWING.wording.tab, how=DRAWING.wording.how, empty=DRAWING.wording.empty,
        api="Classify a drawn {noun} sent as strokes, as the Draw tab's pad sends it.",
        api_value="{example} (a 7): each stroke its x and y lists in canvas pixels (Quick, Draw!'s format), "
                  "or that as JSON text",
    )
    payload = ('strokes: {"strokes": [[[x0, x1, ...], [y0, y1, ...]], ...], "width": W, "height": H, '
             '"brush": B} in canvas pixels (an object or its JSON text)')

    def prepare(self, value: Any, box: Any = None, confidence: Callable[[np.ndarray], np.ndarray] | None = None,
                live: bool = False) -> Prepared | None:
        """A strokes payload (a dict or its JSON text) -> the digit its drawing is, or None if empty."""
        return DRAWING.prepare(rasterize(parse(value)))


STROKES = StrokesKind()
