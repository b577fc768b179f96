"""A hand as MediaPipe's 21 landmarks: the row of 63 numbers a hand-shape model reads
(`landmarks.hand_row`: the wrist at the origin, the wrist-to-middle-knuckle distance as the unit,
left hands mirrored), from a found `Hand`, its (21, 3) points, or the 63 numbers already made.

It has no tab of its own: the hand-photo kind finds hands, and this kind's model reads them first.
Its "not sure" is a top probability under `not_sure_below`, or within `not_sure_margin` of the
second one (a close call between two letters); the detector reads pictures. Both were chosen with
the real photos of `real_hands_dev` as a development set (`bench/real_hands.py` sweeps the margin):
they flag few of those the shipped model reads right. It makes no outliers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..models import preprocess
from .imageprep import ImageInputError
from .kind import InputKind, Prepared
from .landmarks import N_POINTS, Hand, hand_row


class HandLandmarks(InputKind):
    name = "hand_landmarks"
    rows = preprocess.HANDS
    not_sure_below = 0.5
    not_sure_margin = 0.2

    def prepare(self, value: Any, box: Any = None, confidence: Callable[[np.ndarray], np.ndarray] | None = None,
                live: bool = False) -> Prepared | None:
        """A `Hand`, its (21, 3) points (a right hand's, or any hand's given as its row), or a row of
        63 numbers -> the row; None for no hand."""
        if value is None:
            return None
        if isinstance(value, Hand):
            return Prepared(value.row, hand=value)
        points = np.asarray(value, dtype=np.float32)
        if points.size != N_POINTS * 3 or not np.isfinite(points).all():
            raise ImageInputError(f"A hand is {N_POINTS} landmarks of x, y, z ({N_POINTS * 3} finite numbers), "
                                  f"not an array of shape {points.shape}.")
        if points.ndim == 2:
            return Prepared(hand_row(points, "Right"))
        return Prepared(points.reshape(-1))


HAND_LANDMARKS = HandLandmarks()
