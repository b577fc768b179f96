"""Fingerspelling: the letters a signer spells, from a stream of per-frame answers.

A hand-shape model reads each frame by itself; a word is what holds. `Speller` takes the frames
one at a time (when, every letter's probability, where the hand is) and keeps for each letter a
leaky sum of its probability over time (it forgets with a time constant of `memory` seconds), so
one odd frame does not change the letter read, and the shapes a hand passes through between two
letters are outweighed by the letter just held. The letter with the largest sum is committed once
it has led for `hold / p` seconds, p its mean probability over the sums' memory: a letter the
model is sure of is written after `hold`, one it gives 0.5 after twice as long, one under `floor`
never. Nothing is a fixed hold timer, and the rule does not depend on the frame rate (each frame
counts by its duration).

The same letter is committed again only after a *release*: the hand left the picture for `lost`
seconds, or it moved by `move` hand sizes (a double letter is signed with a small slide or bounce);
then it must lead again for as long as a new letter would.

J and Z are motions: with a motion model (`inputs.motion.MotionReader`), the last second or so of
the hand's landmarks is read at every frame, and a J or Z it is sure of (`MOTION_SURE`), made with
its handshape in most of those frames (`MOTION_SHAPED`), is committed; the static letters the
motion's handshape was read as meanwhile (the I that J starts from, the index finger Z is drawn
with: `MOTION_SHAPES`) are taken back, and that handshape is not written again until the hand is
released.

`spell_video` runs a video file's frames through MediaPipe's landmarks and a hand-shape model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..inputs import landmarks, video
from ..inputs.hand_landmarks import HAND_LANDMARKS
from ..inputs.motion import WINDOW, MotionReader, motion_row
from .predict import Predictor

MEMORY = 0.15      # seconds: how long a frame's answer keeps counting (the sums' time constant)
HOLD = 0.15        # seconds a letter read at probability 1 leads before it is committed
FLOOR = 0.3        # a letter whose mean probability is under this is never committed
MOVE = 0.25        # hand sizes (its landmarks' box) the wrist moves for the same letter to count again
LOST = 0.3         # seconds without a hand that end a letter (a shorter gap is a missed frame)
MAX_GAP = 0.25     # seconds: a frame counts for at most this long (a stalled stream does not commit)
MOTION_SURE = 0.9  # the motion model's probability for J or Z to be written
MOTION_EVERY = 0.1  # seconds between the motion model's readings
MOTION_SHAPED = 0.5  # the share of the window's frames read as the motion's handshape, at least
# What the hand-shape model reads the handshapes of J and Z as, during the motion (measured on
# generated motions; D as real index fingers are often read). Z's index finger up, the others folded
# under the thumb, is no static letter: the nearest are X, R (whose crossed middle finger MediaPipe
# often reports bent) and D.
MOTION_SHAPES = {"J": {"I", "Y"}, "Z": {"X", "R", "D"}}


@dataclass(frozen=True)
class Spelled:
    """One committed letter."""

    letter: str
    start: float        # seconds: when it began to lead
    at: float           # seconds: when it was committed
    confidence: float   # its mean probability over the sums' memory then


@dataclass
class Speller:
    """The letters spelled so far, from frames fed one at a time (see the module's docstring)."""

    classes: tuple[str, ...]
    memory: float = MEMORY
    hold: float = HOLD
    floor: float = FLOOR
    move: float = MOVE
    lost: float = LOST
    motion: MotionReader | None = None
    letters: list[Spelled] = field(default_factory=list)
    _sums: np.ndarray | None = None
    _weight: float = 0.0           # the frames' durations, decayed like the sums (to make means)
    _best: int = -1                # the letter leading, and since when
    _since: float = 0.0
    _last_t: float | None = None
    _lost_since: float | None = None
    _released: bool = True         # the last letter may be committed again
    _at: np.ndarray | None = None  # where the hand was when the last letter was committed
    _track: list[tuple[float, np.ndarray, str]] = field(default_factory=list)   # the window: time, hand, read
    _motion_t: float = -1e9        # when the motion model last read the window, or wrote a letter
    _blocked: str | None = None    # a motion's handshape, not written until the hand is released

    @property
    def text(self) -> str:
        return "".join(s.letter for s in self.letters)

    def reset(self) -> None:
        """Forget what was read since the last commit (the letters stay)."""
        self._sums, self._weight, self._best = None, 0.0, -1

    def feed(self, t: float, probabilities: np.ndarray | None, hand: np.ndarray | None = None) -> Spelled | None:
        """One frame at time `t` (seconds): every class's probability (None: no hand in it) and, for
        double letters, the hand's (21, 2+) landmarks in picture pixels. Returns the letter it
        commits, if any."""
        dt = 0.0 if self._last_t is None else min(max(t - self._last_t, 0.0), MAX_GAP)
        self._last_t = t
        if probabilities is None:
            self._lost_since = t if self._lost_since is None else self._lost_since
            if t - self._lost_since >= self.lost:
                self.reset()
                self._released, self._blocked, self._track = True, None, []
            return None
        self._lost_since = None
        p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
        if len(p) != len(self.classes):
            raise ValueError(f"{len(p)} probabilities for {len(self.classes)} classes")
        if hand is not None and self._at is not None and not self._released \
                and _distance(hand, self._at) >= self.move:
            self._released, self._blocked = True, None
            self.reset()
        moved = self._motion(t, hand, self.classes[int(np.argmax(p))])
        if moved is not None:
            return moved
        decay = math.exp(-dt / self.memory)
        if self._sums is None:
            self._sums = np.zeros(len(p))
            dt = max(dt, 1e-3)   # the first frame of a stream counts, if only a little, to make a mean
        self._sums = self._sums * decay + dt * p
        self._weight = self._weight * decay + dt
        best = int(np.argmax(self._sums))
        if best != self._best:
            self._best, self._since = best, t
        letter, mean = self.classes[best], float(self._sums[best] / self._weight)
        if self.letters and self.letters[-1].letter == letter and not self._released:
            return None   # still the letter just written
        if self._blocked is not None and (letter == self._blocked or letter in MOTION_SHAPES[self._blocked]):
            return None   # the handshape a motion just ended with
        if mean < self.floor or t - self._since < self.hold / mean:
            return None
        spelled = Spelled(letter, float(self._since), float(t), mean)
        self.letters.append(spelled)
        self._released, self._blocked = False, None
        self._at = None if hand is None else _place(hand)
        return spelled

    def _motion(self, t: float, hand: np.ndarray | None, read: str) -> Spelled | None:
        """The motion model's reading of the window ending now: a J or Z it is sure of, written where
        most of the window's frames were read as that motion's handshape (`read`: this frame's)."""
        if self.motion is None or hand is None:
            return None
        self._track = [f for f in self._track if f[0] > t - WINDOW - MAX_GAP] + [(t, np.asarray(hand), read)]
        if t - self._motion_t < MOTION_EVERY or self._track[-1][0] - self._track[0][0] < WINDOW / 2:
            return None
        self._motion_t = t
        times = np.array([f[0] for f in self._track])
        points = np.stack([f[1][:, :2] for f in self._track])
        p = self.motion.probabilities(motion_row(times, points))[0]
        best = int(np.argmax(p))
        kind = self.motion.classes[best]
        if kind not in MOTION_SHAPES or p[best] < MOTION_SURE:
            return None
        shapes = MOTION_SHAPES[kind]
        if np.mean([f[2] in shapes for f in self._track]) < MOTION_SHAPED:
            return None   # a path like J's or Z's, but not made with its handshape
        while self.letters and self.letters[-1].at >= t - WINDOW and self.letters[-1].letter in shapes:
            self.letters.pop()   # the motion's handshape, read while it moved
        spelled = Spelled(kind, float(times[0]), float(t), float(p[best]))
        self.letters.append(spelled)
        self.reset()
        self._released, self._blocked, self._track = False, kind, []
        self._at = _place(hand)
        self._motion_t = t + WINDOW   # one motion, one letter
        return spelled


def _place(hand: np.ndarray) -> np.ndarray:
    """The wrist's place and the hand's size (the larger side of its landmarks' box: unlike the
    wrist-to-knuckle length, it does not shrink when the hand turns sideways), from (21, 2+)
    landmarks in pixels."""
    pts = np.asarray(hand, dtype=np.float64)[:, :2]
    size = float((pts.max(0) - pts.min(0)).max())
    return np.array([*pts[landmarks.WRIST], max(size, 1e-6)])


def _distance(hand: np.ndarray, at: np.ndarray) -> float:
    """How far the hand's wrist is from `at`'s, in `at`'s hand sizes."""
    now = _place(hand)
    return float(np.linalg.norm(now[:2] - at[:2]) / at[2])


@dataclass(frozen=True)
class FrameAnswer:
    """One video frame as the speller read it."""

    t: float
    probabilities: np.ndarray | None   # None: no hand found
    hand: np.ndarray | None


def read_frames(frames: Iterable[tuple[float, np.ndarray]], predictor: Predictor,
                finder: landmarks.HandFinder) -> Iterator[FrameAnswer]:
    """Each (time, RGB frame) -> the hand-shape model's probabilities for the hand in it."""
    from PIL import Image
    for t, rgb in frames:
        hand = finder.find(Image.fromarray(rgb))
        if hand is None:
            yield FrameAnswer(t, None, None)
            continue
        prepared = HAND_LANDMARKS.prepare(hand)
        assert prepared is not None
        yield FrameAnswer(t, predictor.probabilities(prepared.row)[0], hand.points)


def spell(answers: Iterable[FrameAnswer], classes: tuple[str, ...], motion: MotionReader | None = None
          ) -> list[Spelled]:
    """The letters a stream of frame answers spells (J and Z too, given a motion model)."""
    speller = Speller(tuple(classes), motion=motion)
    for a in answers:
        speller.feed(a.t, a.probabilities, a.hand)
    return speller.letters


def spell_video(path: str, predictor: Predictor, finder: landmarks.HandFinder,
                limits: video.VideoLimits = video.LIMITS, motion: MotionReader | None = None) -> list[Spelled]:
    """The letters spelled in a video file (mp4, webm, ...), J and Z too given a motion model.
    Raises `video.VideoError` for a file that is not a readable video or is over `limits`."""
    return spell(read_frames(video.frames(path, limits), predictor, finder), tuple(predictor.classes), motion)
