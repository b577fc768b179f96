"""Hands as 21 landmarks, found by MediaPipe's hand landmarker, and what is made from them: the
square of the picture a pixel model reads, and the row of 63 numbers a hand-shape model reads.

The landmarker is MediaPipe's own model (`weights/hand_landmarker.task`, Apache-2.0, see its
NOTICE): a palm detector, then 21 points per hand (wrist, then four joints per finger from the
thumb to the little finger), x and y in picture pixels here, z a depth relative to the wrist in
about the same scale as x. Nothing is downloaded at run time.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..paths import WEIGHTS_DIR

log = logging.getLogger(__name__)

LANDMARKER_PATH = WEIGHTS_DIR / "hand_landmarker.task"
N_POINTS = 21
WRIST, MIDDLE_KNUCKLE = 0, 9   # the points whose distance sets a hand's scale
# The bones between the points, for drawing a hand: each finger from the wrist, and across the palm.
BONES = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
         (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20)]
# Sign Language MNIST's crops frame the hand with a margin: the square's side is this many times the
# landmarks' larger extent (the points are joint centres, so the hand itself reaches past them).
SQUARE_MARGIN = 1.3
# A hand that fills the picture is often missed by the palm detector: the search tries again on
# the picture with a black border of these shares of its size on each side, in turn.
PADS = (0.25, 0.5)


@dataclass(frozen=True)
class Hand:
    points: np.ndarray   # (21, 3) float32: x, y in the picture's pixels, z relative depth (x's scale)
    handedness: str      # "Left" or "Right", as MediaPipe names it
    score: float         # MediaPipe's confidence in the handedness, 0..1
    look: int = 0        # which of the picture's `looks` it was found in: 0 as given, more: made up

    def square(self, w: int, h: int, margin: float = SQUARE_MARGIN) -> tuple[float, float, float, float]:
        """The square around the hand, framed as Sign Language MNIST frames it, kept inside a w x h
        picture as far as it fits."""
        x0, y0 = self.points[:, :2].min(0)
        x1, y1 = self.points[:, :2].max(0)
        side = min(max(x1 - x0, y1 - y0) * margin, w, h)
        cx = float(np.clip((x0 + x1) / 2, side / 2, w - side / 2))
        cy = float(np.clip((y0 + y1) / 2, side / 2, h - side / 2))
        return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2

    @property
    def row(self) -> np.ndarray:
        """What a hand-shape model reads of this hand (`hand_row`)."""
        return hand_row(self.points, self.handedness)


def hand_row(points: np.ndarray, handedness: str) -> np.ndarray:
    """(21, 3) landmarks -> the (63,) float32 a hand-shape model reads: the wrist at the origin, the
    wrist-to-middle-knuckle distance as the unit, left hands mirrored into right ones. So where the
    hand is in the picture, how large, and which hand signs do not change what the model sees."""
    p = np.asarray(points, dtype=np.float32).reshape(N_POINTS, 3)
    p = p - p[WRIST]
    scale = float(np.linalg.norm(p[MIDDLE_KNUCKLE, :2]))
    p = p / max(scale, 1e-6)
    if handedness == "Left":
        p[:, 0] = -p[:, 0]
    return p.reshape(-1)


class HandFinder:
    """MediaPipe's hand landmarker, for one hand per picture. Safe to share between threads: each
    call takes one of a few landmarkers (each runs one picture at a time)."""

    def __init__(self, path: str | Path = LANDMARKER_PATH, copies: int = 2) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(path)), num_hands=1,
                                               running_mode=vision.RunningMode.IMAGE)
        self._free = [vision.HandLandmarker.create_from_options(options) for _ in range(copies)]
        self._slots = threading.Semaphore(copies)
        self._lock = threading.Lock()
        # MediaPipe runs each landmarker's calls on a thread pool, which the interpreter shuts down
        # before `atexit` callbacks run, so the landmarkers' own finalizers then fail noisily. Close
        # them before that, where concurrent.futures registers its own shutdown (callbacks run last
        # registered, first).
        register = getattr(threading, "_register_atexit", atexit.register)
        register(self.close)

    def close(self) -> None:
        """Free the landmarkers (at exit; the finder is unusable afterwards)."""
        with self._lock:
            landmarkers, self._free = self._free, []
        for landmarker in landmarkers:
            landmarker.close()

    def _detect(self, rgb: np.ndarray) -> tuple[np.ndarray, str, float] | None:
        import mediapipe as mp

        with self._slots:
            with self._lock:
                landmarker = self._free.pop()
            try:
                result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
            finally:
                with self._lock:
                    self._free.append(landmarker)
        if not result.hand_landmarks:
            return None
        h, w = rgb.shape[:2]
        pts = np.array([(p.x * w, p.y * h, p.z * w) for p in result.hand_landmarks[0]], dtype=np.float32)
        best = result.handedness[0][0]
        return pts, best.category_name, float(best.score)

    def find(self, picture: Image.Image, pad: bool = True) -> Hand | None:
        """The hand in an upright picture, or None. Tried as given, then (`pad`, for photos) with
        black borders of each of PADS (a hand filling the picture is often missed otherwise), and
        where none is found so, in the other looks of the picture (`looks`) the same way."""
        rgb = picture.convert("RGB")
        for k, look in enumerate(looks(rgb) if pad else (rgb,)):
            found = self._detect(np.asarray(look))
            offset = 0.0, 0.0
            for share in PADS if pad else ():
                if found is not None:
                    break
                w, h = look.size
                bx, by = round(w * share), round(h * share)
                found = self._detect(np.asarray(ImageOps.expand(look, border=(bx, by, bx, by), fill=(0, 0, 0))))
                offset = float(bx), float(by)
            if found is not None:
                pts, handedness, score = found
                pts[:, 0] -= offset[0]
                pts[:, 1] -= offset[1]
                return Hand(pts, handedness, score, k)
        return None


# A picture whose channels differ by less than this (mean, of 255) is grey.
GREY_SPREAD = 2.0
# How a grey picture is coloured for the palm detector: each channel as the grey level (0..1) to a
# power, red brightest and blue darkest, so the hand's greys become skin-like tones.
SKIN_POWERS = (0.8, 1.0, 1.25)


def looks(rgb: Image.Image) -> Iterator[Image.Image]:
    """The looks of an RGB picture the landmarker tries in turn (each made only when asked for): as
    given; its levels stretched (1% clipped at each end) where that changes it, as in a dim or
    washed-out photo; and a grey picture (black and white, infrared) coloured as skin: MediaPipe's
    palm detector finds hands by their colour too, and misses most in grey pictures
    (bench/real_hands.py measures each)."""
    yield rgb
    stretched = ImageOps.autocontrast(rgb, cutoff=1)
    if np.abs(np.asarray(stretched, np.int16) - np.asarray(rgb, np.int16)).mean() > 1:
        yield stretched
    small = np.asarray(rgb.resize((64, 64)), np.float32)
    if max(np.abs(small[..., 0] - small[..., 1]).mean(), np.abs(small[..., 1] - small[..., 2]).mean()) < GREY_SPREAD:
        grey = np.asarray(rgb.convert("L"), np.float32) / 255
        yield Image.fromarray((np.stack([grey ** k for k in SKIN_POWERS], -1) * 255).astype(np.uint8))


# What mends the commonest reason MediaPipe cannot start: OpenCV, which it imports, needs these.
MEND = "apt-get install libgl1 libglib2.0-0"


@cache
def _loaded() -> tuple[HandFinder | None, str]:
    if not LANDMARKER_PATH.is_file():
        return None, f"MediaPipe's hand landmarker ({LANDMARKER_PATH.name}) is not in weights/"
    try:
        return HandFinder(), ""
    except (ImportError, RuntimeError, OSError) as e:
        reason = f"MediaPipe cannot start ({type(e).__name__}: {e})"
        if any(lib in str(e) for lib in ("libGL", "libgthread", "libglib")):
            reason += f"; OpenCV, which it imports, needs libGL and GLib: `{MEND}`"
        log.warning("hand landmarks are off: %s", reason)
        return None, reason


def finder() -> HandFinder | None:
    """The shipped hand landmarker, loaded once (None if its file or MediaPipe is missing: see `unavailable`)."""
    return _loaded()[0]


def unavailable() -> str:
    """Why hand landmarks are off, with what mends it where known ("" when they are on)."""
    return _loaded()[1]
