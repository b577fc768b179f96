"""Generated hand motions: ASL's two moving letters, J and Z, and what is not them, as sequences of
21 landmarks the way MediaPipe reports a video of them. No data we may ship has such sequences, so
the motion model (`classifier.serving.motion`) learns from these.

A motion is a hand posed by `handgen` (its proportions and joint angles drawn once) and then
turned and moved frame by frame, seen by the same camera model as `handgen.view` (`handgen.seen`):

- **J**: the I handshape (little finger up); the hand moves down about a hand's length while it
  twists (the palm turning towards the signer) and the little finger's path hooks sideways at the
  end, so that its tip draws a J.
- **Z**: the index finger pointing up, the other fingers closed; the hand moves so that the index
  tip draws a Z: across, diagonally back and down, across again.
- **none**: everything else a stream shows: a static letter held (with a hand's small drift), a
  change from one letter to another, a double letter's slide, and the I and index shapes held or
  moved in a straight line (the shapes J and Z start from).

Each motion is a few hundred milliseconds to over a second long, at 10-30 frames a second, with
a hold of its first shape before it. Points are in picture units where the hand's wrist-to-middle-
knuckle length is about 1; z as `handgen.view` makes it.
"""

from __future__ import annotations

import math

import numpy as np

from .handgen import FIST, HOLDING, LETTERS, STRAIGHT, Letter, _fingers, pose, seen

MOTIONS = ("J", "Z", "none")
# The index finger up, the others closed under the thumb: Z's handshape (as ASL's number 1).
INDEX_UP = Letter(_fingers(STRAIGHT, FIST, FIST, FIST), HOLDING)


def _ease(u: np.ndarray) -> np.ndarray:
    """0..1 -> 0..1, slow at both ends, as a hand moves."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0, 1))


class _Camera:
    """One clip's camera and hand: a pose, a base view, the landmarker's jitter."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.distance = rng.uniform(5.0, 14.0)
        self.depth = rng.uniform(0.35, 0.65)
        self.roll, self.yaw, self.pitch = rng.uniform(-15, 25), rng.uniform(-30, 10), rng.uniform(-10, 15)
        self.scale = rng.uniform(40, 160)   # pixels per hand unit
        self.fps = rng.uniform(10, 30)

    def frame(self, points: np.ndarray, at: np.ndarray, roll: float = 0.0, yaw: float = 0.0) -> np.ndarray:
        shown = seen(points, self.roll + roll, self.yaw + yaw, self.pitch, self.distance, self.depth)
        shown = shown + self.rng.normal(0, 0.012, shown.shape)
        shown[:, :2] += at
        return (shown * self.scale).astype(np.float32)


def _times(cam: _Camera, seconds: float) -> np.ndarray:
    """The frames' times in a stretch of `seconds` (at least one frame)."""
    return np.arange(0, max(seconds, 1e-3), 1 / cam.fps)


def _hold(cam: _Camera, points: np.ndarray, seconds: float, start: np.ndarray) -> list[np.ndarray]:
    """A shape held still, but for a hand's small drift."""
    n = len(_times(cam, seconds)) if seconds > 0 else 0
    drift = np.cumsum(cam.rng.normal(0, 0.008, (n, 2)), axis=0)
    return [cam.frame(points, start + d) for d in drift]


def _j(rng: np.random.Generator) -> list[np.ndarray]:
    cam = _Camera(rng)
    hand = pose(LETTERS["I"], rng)
    start = np.zeros(2)
    frames = _hold(cam, hand, rng.uniform(0.0, 0.3), start)
    t = _times(cam, rng.uniform(0.4, 1.1))
    u = t / max(t[-1], 1e-6)
    down, hook, twist = rng.uniform(0.6, 1.3), rng.uniform(0.3, 0.8) * rng.choice([-1, 1]), rng.uniform(45, 110)
    for k in u:
        y = down * _ease(np.array(min(k / 0.7, 1.0)))
        x = hook * _ease(np.array(max(k - 0.5, 0) / 0.5))
        frames.append(cam.frame(hand, start + np.array([float(x), float(y)]), roll=0.3 * twist * k,
                                yaw=-twist * float(_ease(np.array(k)))))
    return frames + _hold(cam, hand, rng.uniform(0.0, 0.2), start + np.array([float(x), float(y)])), cam.fps


def _z(rng: np.random.Generator) -> list[np.ndarray]:
    cam = _Camera(rng)
    hand = pose(INDEX_UP, rng)
    width, height = rng.uniform(0.6, 1.5), rng.uniform(0.5, 1.2)
    side = rng.choice([-1, 1])
    corners = np.array([[0, 0], [width * side, 0], [0, height], [width * side, height]])
    frames = _hold(cam, hand, rng.uniform(0.0, 0.3), corners[0])
    seconds = rng.uniform(0.6, 1.5)
    lengths = np.linalg.norm(np.diff(corners, axis=0), axis=1)
    for leg, length in enumerate(lengths):
        t = _times(cam, seconds * length / lengths.sum())
        for k in _ease(t / max(t[-1], 1e-6)) if len(t) > 1 else [1.0]:
            frames.append(cam.frame(hand, corners[leg] + k * (corners[leg + 1] - corners[leg])))
    return frames + _hold(cam, hand, rng.uniform(0.0, 0.2), corners[-1]), cam.fps


def _none(rng: np.random.Generator) -> list[np.ndarray]:
    cam = _Camera(rng)
    letters = list(LETTERS)
    kind = rng.integers(5)
    if kind == 0:   # a letter held
        return _hold(cam, pose(LETTERS[letters[rng.integers(len(letters))]], rng), rng.uniform(0.5, 1.4),
                     np.zeros(2)), cam.fps
    if kind == 1:   # from one letter to another
        a, b = (pose(LETTERS[letters[i]], rng) for i in rng.integers(len(letters), size=2))
        frames = _hold(cam, a, rng.uniform(0.2, 0.5), np.zeros(2))
        t = _times(cam, rng.uniform(0.15, 0.45))
        end = rng.normal(0, 0.15, 2)
        for k in _ease(t / max(t[-1], 1e-6)):
            frames.append(cam.frame((1 - k) * a + k * b, k * end))
        return frames + _hold(cam, b, rng.uniform(0.2, 0.5), end), cam.fps
    # A double letter's slide, or J's and Z's own shapes held or moved in a straight line.
    shape = pose(LETTERS[letters[rng.integers(len(letters))]] if kind == 2 else
                 LETTERS["I"] if kind == 3 else INDEX_UP, rng)
    frames = _hold(cam, shape, rng.uniform(0.2, 0.6), np.zeros(2))
    angle = rng.uniform(0, 2 * np.pi)
    way = np.array([math.cos(angle), math.sin(angle)]) * rng.uniform(0.0, 1.2)
    t = _times(cam, rng.uniform(0.2, 0.6))
    for k in _ease(t / max(t[-1], 1e-6)):
        frames.append(cam.frame(shape, k * way))
    return frames + _hold(cam, shape, rng.uniform(0.2, 0.5), way), cam.fps


_MAKERS = {"J": _j, "Z": _z, "none": _none}


def motion(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One generated motion of `kind` (one of MOTIONS): (T,) times in seconds and (T, 21, 3) landmarks
    in picture pixels, ending as the motion ends."""
    frames, fps = _MAKERS[kind](rng)
    return np.arange(len(frames)) / fps, np.stack(frames)


def generate(per_kind: int, seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """`per_kind` motions of each kind: (kind, times, points); the same seed gives the same motions."""
    rng = np.random.default_rng(seed)
    return [(kind, *motion(kind, rng)) for kind in MOTIONS for _ in range(per_kind)]
