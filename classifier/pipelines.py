"""From what a person gives the app to the 28x28 a model sees, by the name a data set's spec gives
(`DatasetSpec.user_input`): "drawing" for sketches, "hand_photo" for photos and webcam frames.

A pipeline returns a `Prepared`: the 28x28, and for photos the upright picture and the square it
was cut from (found by `classifier.locate`, or given by the user), so the app can show both, and
every square the locator thought might frame the hand, so the "not sure" check can judge the
picture as a whole (`Predictor.answer`); `picture_squares` gives the same for the real pictures
that check is calibrated on.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from PIL import Image

from . import imageprep, landmarks, locate, photos
from .locate import Box


@dataclass(frozen=True)
class Prepared:
    image: np.ndarray                  # uint8 28x28: what the model sees
    picture: Image.Image | None = None  # photos: the upright picture it was cut from
    box: Box | None = None             # photos: the square of `picture` it shows
    note: str = ""                     # photos: how the square was chosen, in words
    # Photos whose square the locator chose: every square it weighed (JUDGED at most, `image`'s
    # among them), (N, 28, 28) uint8; None when the user gave the square or the landmarks framed it.
    squares: np.ndarray | None = None
    hand: landmarks.Hand | None = None  # photos: the hand's landmarks, where MediaPipe found a hand


def drawing(value: Any, box: Any = None, confidence: Any = None) -> Prepared | None:
    """A drawing (a Sketchpad value or any image) -> MNIST-style digit, or None if nothing is drawn.
    (`box` and `confidence` are for photos: a drawing is always taken whole.)"""
    image = imageprep.sketch_layers_to_image(value)
    if image is None:
        return None
    digit = imageprep.sketch_to_digit(image)
    return None if digit is None else Prepared(digit)


@cache
def hand_locator() -> locate.Locator | None:
    """The shipped hand locator, loaded once (None if its weights file is missing: centre squares then)."""
    try:
        return locate.Locator.load()
    except (OSError, KeyError, ValueError, RuntimeError):
        return None


def parse_box(box: Any, w: int, h: int) -> tuple[float, float, float, float] | None:
    """A user's box: None/"" for none, or x0,y0,x1,y1 as a string or sequence, in pixels of the upright
    picture or, when all are at most 1, as shares of its width and height. Clipped to the picture."""
    if box is None or (isinstance(box, str) and not box.strip()):
        return None
    try:
        values = [float(v) for v in (box.replace(",", " ").split() if isinstance(box, str) else box)]
    except (TypeError, ValueError):
        raise imageprep.ImageInputError(f"A box is four numbers x0,y0,x1,y1 (got {box!r}).") from None
    if len(values) != 4 or not all(np.isfinite(values)):
        raise imageprep.ImageInputError(f"A box is four numbers x0,y0,x1,y1 (got {box!r}).")
    if all(0 <= v <= 1 for v in values):
        values = [values[0] * w, values[1] * h, values[2] * w, values[3] * h]
    x0, x1 = sorted((min(max(values[0], 0), w), min(max(values[2], 0), w)))
    y0, y1 = sorted((min(max(values[1], 0), h), min(max(values[3], 0), h)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise imageprep.ImageInputError(f"The box {box!r} leaves less than 2x2 pixels of the {w}x{h} picture.")
    return x0, y0, x1, y1


# The model's own say in where the hand is: among the locator's best squares (at most this many,
# scored within this much of the best), the one with the highest sum of the locator's score and
# the model's confidence: the locator frames hands, the model knows which framing it reads best
# (docs/results.md). The same squares are what the "not sure" check of a picture averages over
# (`ood.Detector.picture_threshold`).
JUDGED = 30
JUDGED_MARGIN = 0.3


def hand_photo(source: str | os.PathLike[str] | bytes | Image.Image | np.ndarray | None, box: Any = None,
               confidence: Callable[[np.ndarray], np.ndarray] | None = None, find_hand: bool = True,
               frame: bool = False) -> Prepared | None:
    """A photo or webcam frame of a hand sign -> Sign Language MNIST-style image of the hand's square:
    `box` if the user gave one; else the square around the hand's landmarks where MediaPipe finds a
    hand (`find_hand`); else where the sliding-window locator finds one (it knows hands as Sign
    Language MNIST shows them, which MediaPipe misses); else the centre square.
    `confidence`: the model's confidence in its answer for each of a batch of 28x28s (N, 28, 28) -> (N,):
    given, it has a say in which of the locator's best squares is taken (JUDGED, JUDGED_MARGIN).
    `frame`: a live webcam frame, searched once as it is (a webcam shows the person, so a hand
    rarely fills it), to keep up with the frames."""
    if source is None:
        return None
    picture = photo_picture(source)
    grey = imageprep.grey_photo(picture, upright=True)
    w, h = picture.size
    given = parse_box(box, w, h)
    if given is not None:
        return Prepared(imageprep.square_to_sign(grey, given), picture, Box(*given, score=1.0, found=True),
                        "your box")
    finder = landmarks.finder() if find_hand else None
    hand = finder.find(picture, pad=not frame) if finder is not None else None
    if hand is not None:
        square = hand.square(w, h)
        return Prepared(imageprep.square_to_sign(grey, square), picture, Box(*square, score=hand.score, found=True),
                        "around the hand's landmarks", hand=hand)
    boxes, squares, found = _weighed_squares(picture, grey)
    if not found:
        note = ("the centre square: no hand found for sure (give your own square if it is elsewhere)"
                if hand_locator() is not None else "the centre square (no hand locator is installed)")
        return Prepared(squares[0], picture, boxes[0], note, squares)
    pick = 0
    if confidence is not None and len(squares) > 1:
        pick = int(np.argmax(confidence(squares) + np.array([b.score for b in boxes])))
    return Prepared(squares[pick], picture, boxes[pick], "where the hand seems to be", squares)


def photo_picture(source: str | os.PathLike[str] | bytes | Image.Image | np.ndarray) -> Image.Image:
    """A photo or webcam frame as the pipeline works on it: size checked before decoding, upright
    (EXIF), reduced to a bounded size (`imageprep.reduce_photo`)."""
    return imageprep.reduce_photo(locate.upright(_photo(source)))


def _photo(source: str | os.PathLike[str] | bytes | Image.Image | np.ndarray) -> Image.Image:
    """A photo or webcam frame as a decoded image, its size checked before any work on it."""
    if not isinstance(source, np.ndarray):
        return imageprep.open_image(source, "photo")
    frame = source
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise imageprep.ImageInputError(f"A frame is a greyscale, RGB or RGBA array, not one of shape {frame.shape}.")
    imageprep.check_size(frame.shape[1], frame.shape[0], "photo")
    if frame.dtype != np.uint8:
        if not np.issubdtype(frame.dtype, np.number) or np.issubdtype(frame.dtype, np.complexfloating):
            raise imageprep.ImageInputError(f"A frame holds numbers, not {frame.dtype}.")
        frame = np.nan_to_num(frame.astype(np.float32))
        peak = float(frame.max(initial=0))
        frame = np.clip(frame * (255.0 if peak <= 1.0 else 255.0 / 65535.0 if peak > 255 else 1.0), 0, 255)
        frame = frame.astype(np.uint8)
    return Image.fromarray(frame[:, :, 0] if frame.ndim == 3 and frame.shape[2] == 1 else frame)


def _weighed_squares(picture: Image.Image, grey: Image.Image) -> tuple[list[Box], np.ndarray, bool]:
    """The squares of an upright picture that might frame the hand, best first: the locator's best
    (at most JUDGED, scored within JUDGED_MARGIN of the best) as boxes and 28x28s, and whether a
    hand was found; if not, only the centre square."""
    w, h = picture.size
    locator = hand_locator()
    if locator is None:
        box = Box(*imageprep.centre_square(w, h), score=0.0, found=False)
        return [box], imageprep.square_to_sign(grey, box.as_tuple())[None], False
    boxes, scores = locator.candidates(picture.convert("RGB"))
    best = float(scores[0])
    if best < locator.threshold:
        box = Box(*imageprep.centre_square(w, h), score=best, found=False)
        return [box], imageprep.square_to_sign(grey, box.as_tuple())[None], False
    keep = [i for i in range(min(JUDGED, len(boxes))) if float(scores[i]) >= best - JUDGED_MARGIN]
    chosen = [Box(*(float(v) for v in boxes[i]), score=float(scores[i]), found=True) for i in keep]
    return chosen, np.stack([imageprep.square_to_sign(grey, b.as_tuple()) for b in chosen]), True


def hand_photo_calibration(rows: np.ndarray) -> list[np.ndarray]:
    """The squares `hand_photo` weighs in real pictures (`photos.calibration_pictures`) of `rows`."""
    out = []
    for image in photos.calibration_pictures(rows):
        picture = locate.upright(image)
        out.append(_weighed_squares(picture, imageprep.grey_photo(picture, upright=True))[1])
    return out


def drawn_calibration(rows: np.ndarray) -> np.ndarray:
    """`rows` (uint8 (N, 28, 28) digits, light on black) as the Draw pipeline reads them drawn on the
    pad: each enlarged 10x (about the size a digit is drawn on the 400x400 canvas), dark on light,
    and read back by `drawing`; a row it finds nothing in stays blank. (N, 28, 28) uint8."""
    side = imageprep.SIZE * 10
    out = []
    for row in rows:
        big = np.asarray(Image.fromarray(row).resize((side, side), Image.Resampling.BICUBIC))
        prepared = drawing(255 - big)
        out.append(np.zeros_like(row) if prepared is None else prepared.image)
    return np.stack(out) if out else np.zeros((0, imageprep.SIZE, imageprep.SIZE), np.uint8)


_CALIBRATION: dict[tuple[str, str, str], Any] = {}
_CALIBRATION_LOCK = threading.Lock()


def _made(kind: str, user_input: str, rows: np.ndarray) -> Any:
    """What CALIBRATION[kind] makes of `rows` for `user_input` (None where it makes nothing): it does
    not depend on the model, so it is made once per process and shared by every calibration."""
    make = CALIBRATION[kind].get(user_input)
    if make is None:
        return None
    key = _calibration_key(kind, user_input, rows)
    with _CALIBRATION_LOCK:
        if key not in _CALIBRATION:
            _CALIBRATION[key] = make(np.asarray(rows, dtype=np.uint8))
        return _CALIBRATION[key]


def picture_squares(user_input: str, rows: np.ndarray) -> list[np.ndarray] | None:
    """For pipelines that weigh several squares of a picture: the squares they weigh in real pictures
    made from `rows` (uint8 (N, 28, 28), the calibration half of a test set), a (k, 28, 28) array a
    picture; None for pipelines that take one square (drawings). Made once per process (about two
    minutes for signs on 2 CPU cores)."""
    return _made("pictures", user_input, rows)


def as_given(user_input: str, rows: np.ndarray) -> np.ndarray | None:
    """For pipelines that read one square: `rows` (uint8 (N, 28, 28), the calibration half of a test
    set) as the pipeline reads them given as a user gives them, (N, 28, 28); None for the others.
    Made once per process (about 20 s for digits on one CPU core)."""
    return _made("as_given", user_input, rows)


def calibration_ready(user_input: str, rows: np.ndarray) -> bool:
    """Whether `picture_squares` and `as_given` would answer at once (nothing to make, or made already)."""
    return all(user_input not in table or _calibration_key(kind, user_input, rows) in _CALIBRATION
               for kind, table in CALIBRATION.items())


def _calibration_key(kind: str, user_input: str, rows: np.ndarray) -> tuple[str, str, str]:
    return kind, user_input, hashlib.sha1(np.ascontiguousarray(rows, dtype=np.uint8).tobytes()).hexdigest()


# What each data set's `user_input` names: the function from a user's input (and an optional box and
# confidence, see `hand_photo`) to that set's 28x28 style.
PIPELINES: dict[str, Callable[..., Prepared | None]] = {
    "drawing": drawing,
    "hand_photo": hand_photo,
}

# The real inputs each pipeline's "not sure" is calibrated on, made from the calibration half of a
# test set: for pipelines that weigh several squares of a picture, the squares weighed in each real
# picture ("pictures", judged whole: `ood.Detector.picture_threshold`); for those that read one
# square, each row as the pipeline reads it given as users give it ("as_given": the threshold is set
# on these, not on the bare 28x28 rows, which no user sends).
CALIBRATION: dict[str, dict[str, Callable[[np.ndarray], Any]]] = {
    "pictures": {"hand_photo": hand_photo_calibration},
    "as_given": {"drawing": drawn_calibration},
}
