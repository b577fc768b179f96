"""Simple symbols drawn as the stroke pad sends them, for teaching the pad and measuring it.

Six symbols (circle, square, triangle, cross, arrow, check), each a template of strokes in a unit
square. A drawer (`seed`) has a hand of their own: a slant, a size, a place on the pad, a wobble;
each drawing of theirs varies again (turned, scaled, moved, every point jittered), so examples of
one drawer and new drawings of another are not copies. Payloads are Quick, Draw!'s format, as
`/classify_strokes` and `/teach_drawing` take them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from studio.canvas import BRUSH, SIDE

Stroke = list[tuple[float, float]]


def _arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int = 24) -> Stroke:
    angles = [a0 + (a1 - a0) * k / n for k in range(n + 1)]
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in angles]


def _line(*points: tuple[float, float], per: int = 8) -> Stroke:
    out: Stroke = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        out += [(x0 + (x1 - x0) * k / per, y0 + (y1 - y0) * k / per) for k in range(1, per + 1)]
    return out


TEMPLATES: dict[str, list[Stroke]] = {
    "circle": [_arc(0.5, 0.5, 0.4, -math.pi / 2, 1.5 * math.pi)],
    "square": [_line((0.15, 0.15), (0.85, 0.15), (0.85, 0.85), (0.15, 0.85), (0.15, 0.15))],
    "triangle": [_line((0.5, 0.1), (0.9, 0.85), (0.1, 0.85), (0.5, 0.1))],
    "cross": [_line((0.15, 0.15), (0.85, 0.85)), _line((0.85, 0.15), (0.15, 0.85))],
    "arrow": [_line((0.1, 0.5), (0.9, 0.5)), _line((0.6, 0.25), (0.9, 0.5), (0.6, 0.75))],
    "check": [_line((0.1, 0.55), (0.38, 0.85), (0.9, 0.15))],
}
SYMBOLS = tuple(TEMPLATES)


def drawer(seed: int) -> dict[str, float]:
    """A drawer's own hand: how they slant, size and place their drawings, and how shaky they are."""
    rng = np.random.default_rng(10_000 + seed)
    return {"slant": rng.normal(0, 0.12), "size": rng.uniform(0.55, 0.85), "dx": rng.uniform(-0.08, 0.08),
            "dy": rng.uniform(-0.08, 0.08), "aspect": rng.uniform(0.85, 1.15), "wobble": rng.uniform(0.005, 0.02)}


def draw(symbol: str, style: dict[str, float], rng: np.random.Generator) -> dict[str, Any]:
    """One drawing of `symbol` in `style` (from `drawer`), varied by `rng`: a strokes payload."""
    angle = style["slant"] + rng.normal(0, 0.12)
    size = style["size"] * rng.uniform(0.85, 1.15)
    sx, sy = size * style["aspect"], size / style["aspect"]
    dx, dy = style["dx"] + rng.normal(0, 0.04), style["dy"] + rng.normal(0, 0.04)
    cos, sin = math.cos(angle), math.sin(angle)
    strokes = []
    for stroke in TEMPLATES[symbol]:
        drift = rng.normal(0, 0.01, size=2)
        xs, ys = [], []
        for x, y in stroke:
            u, v = (x - 0.5) * sx, (y - 0.5) * sy
            u, v = u * cos - v * sin, u * sin + v * cos
            u += 0.5 + dx + drift[0] + rng.normal(0, style["wobble"])
            v += 0.5 + dy + drift[1] + rng.normal(0, style["wobble"])
            xs.append(round(float(np.clip(u, 0.01, 0.99)) * SIDE, 1))
            ys.append(round(float(np.clip(v, 0.01, 0.99)) * SIDE, 1))
        strokes.append([xs, ys])
    return {"strokes": strokes, "width": SIDE, "height": SIDE, "brush": BRUSH}


def drawings(symbols: tuple[str, ...], per_symbol: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """`per_symbol` drawings of each symbol by drawer `seed`: (symbol, payload), symbol by symbol."""
    style, rng = drawer(seed), np.random.default_rng(seed)
    return [(s, draw(s, style, rng)) for s in symbols for _ in range(per_symbol)]
