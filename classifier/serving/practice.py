"""Fingerspelling practice: how a hand's fingers differ from a letter's shape, and the letter's shape
drawn.

What a letter's fingers should look like comes from the hand generator (`data.handgen`), which
poses each letter within its joint ranges and sees it from the letter's views: each finger's
*extension* (how far its tip reaches from its knuckle, as a share of the finger's length: 1 is
straight, about 0.4 a fist) is measured on many generated hands of the letter, and the middle 90%
of them is the letter's range. A real hand's finger outside its range, by more than `TOLERANCE`,
is off: "bend it more" or "straighten it". Both are measured the same way on the same rows the
hand-shape model reads (x and y, as it reads them), so a generated hand of the letter is never off.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..data import handgen
from ..inputs.landmarks import BONES, N_POINTS, hand_row

FINGER_CHAINS = {"thumb": handgen.THUMB_POINTS, **handgen.FINGER_POINTS}   # each finger's landmarks, knuckle to tip
SAMPLES = 400      # generated hands a letter, for its ranges
TOLERANCE = 0.2    # how far outside its range a finger is before it is called off


@dataclass(frozen=True)
class Off:
    """A finger whose shape differs from the letter's."""

    finger: str
    advice: str      # "bend it more" or "straighten it"
    by: float        # how far outside the letter's range (extension units)

    def __str__(self) -> str:
        return f"your {self.finger} finger: {self.advice}" if self.finger != "thumb" else f"your thumb: {self.advice}"


def extensions(row: np.ndarray) -> dict[str, float]:
    """Each finger's extension in a hand's row of 63 numbers (`landmarks.hand_row`): the distance
    from its first to its last point over the sum of its bones' lengths, in the picture's plane."""
    p = np.asarray(row, dtype=np.float64).reshape(N_POINTS, 3)[:, :2]
    out = {}
    for finger, chain in FINGER_CHAINS.items():
        pts = p[list(chain)]
        length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
        out[finger] = float(np.linalg.norm(pts[-1] - pts[0]) / max(length, 1e-6))
    return out


@cache
def ranges(letter: str) -> dict[str, tuple[float, float]]:
    """The 5th to 95th percentile of each finger's extension over generated hands of `letter`."""
    rng = np.random.default_rng(0)
    seen = [extensions(hand_row(handgen.sample(letter, rng), "Right")) for _ in range(SAMPLES)]
    return {f: (float(np.percentile([s[f] for s in seen], 5)), float(np.percentile([s[f] for s in seen], 95)))
            for f in FINGER_CHAINS}


def telling(letter: str, other: str) -> set[str]:
    """The fingers whose ranges for two letters do not overlap: those that tell them apart."""
    a, b = ranges(letter), ranges(other)
    return {f for f in FINGER_CHAINS if a[f][0] > b[f][1] or b[f][0] > a[f][1]}


def fingers_off(row: np.ndarray, letter: str, read: str | None = None) -> list[Off]:
    """The fingers of a hand (its 63-number row) outside `letter`'s ranges, furthest first. With
    `read`, the letter the hand was read as, only the fingers that tell the two apart (`telling`):
    a finger as far from both letters' shapes does not explain the reading, and MediaPipe's guess
    at a finger hidden behind others (a folded little finger, most often) is the likelier cause."""
    if letter not in handgen.LETTERS:
        return []
    told = telling(letter, read) if read is not None and read in handgen.LETTERS else set(FINGER_CHAINS)
    found = []
    for finger, value in extensions(row).items():
        if finger not in told:
            continue
        lo, hi = ranges(letter)[finger]
        if value < lo - TOLERANCE:
            found.append(Off(finger, "straighten it", lo - value))
        elif value > hi + TOLERANCE:
            found.append(Off(finger, "bend it more", value - hi))
    return sorted(found, key=lambda o: -o.by)


@cache
def shape_svg(letter: str, size: int = 140) -> str:
    """A generated hand making `letter`, drawn as its bones (an inline SVG), seen as the letter is
    usually seen."""
    if letter not in handgen.LETTERS:
        return ""
    spec = handgen.LETTERS[letter]

    def centre(r: tuple[float, float]) -> tuple[float, float]:
        return (r[0] + r[1]) / 2, (r[0] + r[1]) / 2

    view = spec.views[0]
    mid = handgen.Letter({f: tuple(centre(r) for r in joints) for f, joints in spec.fingers.items()},
                         handgen.Thumb(*(centre(r) for r in (spec.thumb.spread, spec.thumb.lift, spec.thumb.mcp,
                                                             spec.thumb.ip))),
                         {f: centre(r) for f, r in spec.spread.items()},
                         (handgen.View(*(centre(r) for r in (view.roll, view.yaw, view.pitch))),))
    rng = np.random.default_rng(1)
    p = hand_row(handgen.view(handgen.pose(mid, rng), mid, rng), "Right").reshape(N_POINTS, 3)[:, :2]
    lo, hi = p.min(0), p.max(0)
    scale = (size - 16) / max(float((hi - lo).max()), 1e-6)
    xy = (p - (lo + hi) / 2) * scale + size / 2
    lines = "".join(f'<line x1="{xy[a, 0]:.1f}" y1="{xy[a, 1]:.1f}" x2="{xy[b, 0]:.1f}" y2="{xy[b, 1]:.1f}"/>'
                    for a, b in BONES)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>' for x, y in xy)
    return (f'<svg class="hand-shape" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
            f'aria-label="the letter {html.escape(letter)} as a generated hand makes it">'
            f'<g stroke="currentColor" stroke-width="3" stroke-linecap="round">{lines}</g>'
            f'<g fill="currentColor">{dots}</g></svg>')
