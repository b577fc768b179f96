"""The kinds of input people give the app, one module each, and the registry that names them.

Each kind (`kind.InputKind`) owns how its payload is checked and parsed, its size limits, its
pipeline to the row a model reads, its "not sure" rule and calibration inputs, the outliers it makes
for training, and what the app says and shows for it. A new kind is one module with one instance,
added to KINDS below; a data set then names it (`classifier.data`). Beside them: the picture
helpers the kinds share (`imageprep`), MediaPipe's hand landmarks (`landmarks`), the sliding-window
hand locator (`locate`), photo-like pictures (`photos`) and made-up outliers (`outliers`).
"""

from __future__ import annotations

from .drawing import DRAWING
from .hand_landmarks import HAND_LANDMARKS
from .hand_photo import HAND_PHOTO
from .kind import InputKind, Prepared
from .strokes import STROKES

KINDS: dict[str, InputKind] = {kind.name: kind for kind in (DRAWING, STROKES, HAND_PHOTO, HAND_LANDMARKS)}


def get(name: str) -> InputKind:
    """The kind of input called `name` (as weights files record it)."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind of input {name!r}; known: {', '.join(KINDS)}") from None


__all__ = ["DRAWING", "HAND_LANDMARKS", "HAND_PHOTO", "KINDS", "STROKES", "InputKind", "Prepared", "get"]
