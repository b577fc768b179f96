"""Hand motions: the last second or so of a hand's landmarks as one row a motion model reads, and
that model (`MotionReader`: J, Z or neither; `weights/hand_motion.safetensors`, trained by
`train_motion.py` on motions `classifier.data.handmotion` generates).

The row is made the same way for training and for a live stream or a video: the frames of the
last WINDOW seconds, resampled to STEPS evenly spaced times; the paths of the wrist, the index tip
and the little finger's tip relative to where the wrist is at the end, in hand sizes (the larger
side of the landmarks' box); and the hand's shape (`landmarks.hand_row`, x and y) at four of the
times. So where the hand is, how large, and the frame rate do not change what the model sees.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..models.mlp import MLP, load_small, save_small
from ..paths import WEIGHTS_DIR
from .landmarks import N_POINTS, hand_row

MOTION_PATH = WEIGHTS_DIR / "hand_motion.safetensors"
WINDOW = 1.2                 # seconds of frames a row covers
STEPS = 12                   # times it resamples them to
TRACKED = (0, 8, 20)         # the wrist, the index tip, the little finger's tip
SHAPES_AT = (0, 4, 8, 11)    # the steps whose hand shape the row holds
N_FEATURES = STEPS * len(TRACKED) * 2 + len(SHAPES_AT) * N_POINTS * 2
CLASSES = ("J", "Z", "none")


def motion_row(times: np.ndarray, points: np.ndarray, mirror: bool = False) -> np.ndarray:
    """(T,) seconds and (T, 21, 2+) landmarks in pixels (T >= 1; the last frame is now) -> the
    (N_FEATURES,) float32 row of the last WINDOW seconds. `mirror`: x flipped (a left hand)."""
    t = np.asarray(times, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)[:, :, :2].copy()
    if mirror:
        p[:, :, 0] = -p[:, :, 0]
    at = t[-1] - WINDOW * (1 - np.arange(STEPS) / (STEPS - 1))
    flat = p.reshape(len(p), -1)
    if len(t) > 1:
        sampled = np.stack([np.interp(at, t, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    else:
        sampled = np.repeat(flat, STEPS, axis=0)
    sampled = sampled.reshape(STEPS, N_POINTS, 2)
    size = float(np.median((p.max(1) - p.min(1)).max(1)))
    paths = (sampled[:, TRACKED] - sampled[-1, 0]) / max(size, 1e-6)
    shapes = [hand_row(np.concatenate([sampled[k], np.zeros((N_POINTS, 1))], axis=1), "Right").reshape(N_POINTS, 3)
              [:, :2].reshape(-1) for k in SHAPES_AT]
    return np.concatenate([paths.reshape(-1), *shapes]).astype(np.float32)


class MotionReader:
    """The motion model: every motion class's probability for rows of `motion_row`."""

    def __init__(self, model: MLP, meta: dict[str, Any] | None = None) -> None:
        self.model = model.eval()
        self.meta = meta or {}
        self.classes = tuple(self.meta.get("classes", CLASSES))

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(rows, dtype=np.float32).reshape(-1, N_FEATURES))
        with torch.inference_mode():
            return torch.softmax(self.model(x), dim=1).numpy()

    def save(self, path: str | Path = MOTION_PATH) -> Path:
        meta = {**self.meta, "classes": list(self.classes),
                "row": {"window_seconds": WINDOW, "steps": STEPS, "tracked": list(TRACKED),
                        "shapes_at": list(SHAPES_AT)}}
        return save_small(path, self.model, "motion", meta)

    @classmethod
    def load(cls, path: str | Path = MOTION_PATH) -> MotionReader:
        return cls(*load_small(path, "motion"))


@cache
def reader() -> MotionReader | None:
    """The shipped motion model, loaded once (None where its file is missing)."""
    return MotionReader.load() if MOTION_PATH.is_file() else None
