"""A photo or webcam frame of a hand sign: the square around the hand, as a Sign Language
MNIST-style 28x28 a pixel model reads, and the hand's landmarks, which the hand-landmarks kind's
model reads first where MediaPipe finds a hand.

The square is the user's `box` if they gave one; else the square around the hand's landmarks; else
where the sliding-window locator finds a hand (it knows hands as Sign Language MNIST shows them,
which MediaPipe misses), with the model's own say among its best squares; else the centre square.
A photo (not a live frame) in which both MediaPipe and the locator find a hand is read both ways
(`Prepared.framed`): in a picture like Sign Language MNIST's own (a small, blurry hand enlarged)
the landmarks MediaPipe finds are often wrong and the pixel model reads the locator's square
(`predict.read_pixels` decides).
Its "not sure" detector judges a picture whole: every square the locator weighed, calibrated on
real pictures made from the calibration half of the test rows (`photos.calibration_pictures`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np
from PIL import Image

from . import imageprep, landmarks, locate, photos
from .hand_landmarks import HAND_LANDMARKS
from .kind import InputKind, Page, Prepared, Wording
from .locate import Box


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

LIMITS = imageprep.PictureLimits("photo of a hand", max_aspect=4.0, min_side=16)


class HandPhoto(InputKind):
    name = "hand_photo"
    limits = LIMITS
    wording = Wording(
        tab="Hand signs",
        how="Show a hand {noun} ({span}) to the webcam or upload a photo.",
        empty="take a snapshot or upload a photo of a hand {noun}",
        api="Classify a photo of a hand {noun} (a file: JPEG, PNG, WebP...).",
        api_value="the photo, e.g. handle_file('hand.jpg')",
        real_world="The app finds the hand's 21 landmarks with MediaPipe and reads their shape with an MLP trained on "
                   "generated hands: right on {first_answer:.0%} of real photos of {people} people's hands. The "
                   "second opinion is an MLP reading the 28x28 pixels (Sign Language MNIST), right on "
                   "{pixel_model:.0%} of them. **Teach it your hand** under the photo: one photo a sign makes it "
                   "{taught_one_a_sign:.0%} right on your other photos.",
    )
    page = Page(widget="photo", example="hand.jpg", takes_box=True, live=True)
    hands = HAND_LANDMARKS

    def prepare(self, value: Any, box: Any = None, confidence: Callable[[np.ndarray], np.ndarray] | None = None,
                live: bool = False) -> Prepared | None:
        return hand_photo(value, box, confidence, frame=live)

    def calibration_makers(self) -> dict[str, Callable[[np.ndarray], Any]]:
        return {"pictures": calibration_squares}


def hand_photo(source: str | os.PathLike[str] | bytes | Image.Image | np.ndarray | None, box: Any = None,
               confidence: Callable[[np.ndarray], np.ndarray] | None = None, find_hand: bool = True,
               frame: bool = False) -> Prepared | None:
    """A photo or webcam frame of a hand sign -> Sign Language MNIST-style image of the hand's square:
    `box` if the user gave one; else the square around the hand's landmarks where MediaPipe finds a
    hand (`find_hand`; in a photo where the locator finds one too, its square as well: `framed`);
    else where the sliding-window locator finds one (it knows hands as Sign Language MNIST shows
    them, which MediaPipe misses); else the centre square.
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
    if hand is not None and frame:
        return _around_landmarks(picture, grey, hand)
    boxes, squares, found = _weighed_squares(picture, grey)
    if not found:
        if hand is not None:
            return _around_landmarks(picture, grey, hand)
        note = ("the centre square: no hand found for sure (give your own square if it is elsewhere)"
                if hand_locator() is not None else "the centre square (no hand locator is installed)")
        return Prepared(squares[0], picture, boxes[0], note, squares)
    pick = 0
    if confidence is not None and len(squares) > 1:
        pick = int(np.argmax(confidence(squares) + np.array([b.score for b in boxes])))
    located = Prepared(squares[pick], picture, boxes[pick], "where the hand seems to be", squares,
                       located=boxes[0].score)
    if hand is None:
        return located
    framed = replace(located, note="where the hand seems to be (framed as Sign Language MNIST frames hands)",
                     hand=hand)
    return replace(_around_landmarks(picture, grey, hand), framed=framed)


def _around_landmarks(picture: Image.Image, grey: Image.Image, hand: landmarks.Hand) -> Prepared:
    square = hand.square(*picture.size)
    return Prepared(imageprep.square_to_sign(grey, square), picture, Box(*square, score=hand.score, found=True),
                    "around the hand's landmarks", hand=hand)


def photo_picture(source: str | os.PathLike[str] | bytes | Image.Image | np.ndarray) -> Image.Image:
    """A photo or webcam frame as the pipeline works on it: size checked before decoding, upright
    (EXIF), reduced to a bounded size (`imageprep.reduce_photo`)."""
    return imageprep.reduce_photo(locate.upright(_photo(source)))


def _photo(source: str | os.PathLike[str] | bytes | Image.Image | np.ndarray) -> Image.Image:
    """A photo or webcam frame as a decoded image, its size checked before any work on it."""
    if not isinstance(source, np.ndarray):
        return imageprep.open_image(source, LIMITS)
    frame = source
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise imageprep.ImageInputError(f"A frame is a greyscale, RGB or RGBA array, not one of shape {frame.shape}.")
    LIMITS.check(frame.shape[1], frame.shape[0])
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


def calibration_squares(rows: np.ndarray) -> list[np.ndarray]:
    """The squares `hand_photo` weighs in real pictures (`photos.calibration_pictures`) of `rows`."""
    out = []
    for image in photos.calibration_pictures(rows):
        picture = locate.upright(image)
        out.append(_weighed_squares(picture, imageprep.grey_photo(picture, upright=True))[1])
    return out




HAND_PHOTO = HandPhoto()
