"""What every kind of input is: the base class each kind's module fills in, and what a kind gives back.

A kind of input is what a person hands the app (a drawing, the pad's strokes, a photo of a hand, a
hand's landmarks) and everything that follows from it: how its payload is checked and parsed and
how large it may be (`limits`), its pipeline to the row a model reads (`prepare`), its "not sure"
rule (a detector calibrated on `calibration_makers`' real inputs, or a top probability under
`not_sure_below`), the outliers it makes for outlier exposure (`outlier_sources`), and what the app
says and shows for it (`Wording`, `Page`). A data set names its kind (`DatasetSpec.kind`); the app's
classify tab is one shell that asks the kind. Adding a kind is one module with one instance of a
subclass, registered in `classifier.inputs`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from ..models import preprocess
from .imageprep import PictureLimits
from .landmarks import Hand
from .locate import Box

# Outliers a kind makes for outlier exposure, per pool (made once per process).
POOL_SIZE = 12_000


@dataclass(frozen=True)
class Prepared:
    """A person's input as the model reads it, and what the app shows beside the answer."""

    row: np.ndarray                    # what the model reads: uint8 28x28, or a hand's (63,) float32
    picture: Image.Image | None = None  # photos: the upright picture the row was cut from
    box: Box | None = None             # photos: the square of `picture` it shows
    note: str = ""                     # photos: how the square was chosen, in words
    # Photos whose square the locator chose: every square it weighed (`image`'s among them),
    # (N, 28, 28) uint8; None when the user gave the square or the landmarks framed it.
    squares: np.ndarray | None = None
    hand: Hand | None = None           # photos: the hand's landmarks, where MediaPipe found a hand
    # Photos read from the locator's squares: its best square's score (how surely it found a hand).
    located: float | None = None
    # Photos read around their landmarks in which the locator found a hand too: the same photo read
    # from the locator's squares, as Sign Language MNIST frames hands. The pixel model's answer on it
    # comes first where the picture is like that data set's (`predict.read_pixels`).
    framed: Prepared | None = None


@dataclass(frozen=True)
class Wording:
    """What the app says for a kind; {noun} and {span} (e.g. "0-9") are the data set's."""

    tab: str                           # the classify tab's title
    how: str                           # the tab's instructions
    empty: str                         # what to say when there is nothing to classify
    api: str                           # the API page: what its classify endpoint takes
    api_value: str                     # ... and its input's description
    # How the shipped models do on real inputs, filled with the figures the bench that measured them
    # wrote into the shipped weights file (`real_inputs` in its metadata); "" for nothing to say.
    real_world: str = ""


@dataclass(frozen=True)
class Page:
    """How the app's classify tab takes a kind's input (read by the one classify shell)."""

    widget: str                        # "sketchpad" (a drawing, given as a picture) or "photo"
    example: str                       # the API page's example file
    # Gradio decodes the widget's uploads before the pipeline sees them: their headers are held to
    # the kind's limits first.
    decoded_by_gradio: bool = False
    takes_box: bool = False            # the user may give the square to classify (x0,y0,x1,y1)
    live: bool = False                 # a Live mode: webcam frames classified as they come
    pad: str | None = None             # the page draws on a stroke pad and sends the kind of this name instead


_made: dict[tuple[str, str, str], Any] = {}
_made_lock = threading.Lock()
_pools: dict[tuple[str, int, int], torch.Tensor] = {}
_pools_lock = threading.Lock()


class InputKind:
    """One kind of input. Subclasses set the class attributes and `prepare`; the rest follows."""

    name: ClassVar[str]                 # how weights files and the API name the kind
    rows: ClassVar[preprocess.Rows] = preprocess.IMAGES
    limits: ClassVar[PictureLimits | None] = None     # None: the kind takes no pictures
    wording: ClassVar[Wording | None] = None          # None: no tab of its own
    page: ClassVar[Page | None] = None
    payload: ClassVar[str] = ""          # its input's format, in words, where it is not a picture
    # The "not sure" rule of models that carry no detector (the detector reads pictures): a top
    # probability under this is "not sure". None: a detector, calibrated on this kind's inputs.
    not_sure_below: ClassVar[float | None] = None
    # ... and a top probability within this of the second one's is "not sure" too: a close call
    # between two classes (None: no such rule).
    not_sure_margin: ClassVar[float | None] = None
    # What this kind's outliers are made from (each a picture from a random generator), in equal shares.
    outlier_sources: ClassVar[tuple[Callable[[np.random.Generator], Image.Image], ...]] = ()
    # Of the kind whose model reads the hands found in this kind's pictures first (hand photos).
    hands: ClassVar[InputKind | None] = None

    def prepare(self, value: Any, box: Any = None, confidence: Callable[[np.ndarray], np.ndarray] | None = None,
                live: bool = False) -> Prepared | None:
        """A person's input -> the row the model reads (None: there is nothing in it to classify).
        `box`: a square of the picture the user chose; `confidence`: the model's confidence in each of
        a batch of rows, for kinds that let the model choose among candidate squares; `live`: a
        webcam frame, searched quickly to keep up. Raises `ImageInputError` for bad input."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<input kind {self.name}>"

    # ------------------------------------------------------------------ "not sure" calibration

    def calibration_makers(self) -> dict[str, Callable[[np.ndarray], Any]]:
        """The real inputs "not sure" is calibrated on, made from the calibration half of a test set's
        rows, by what they are for (`ood.fit`): "as_given" (each row as the kind's pipeline reads it
        given as users give it) and "pictures" (the squares the pipeline weighs in each real
        picture). Empty: the bare rows."""
        return {}

    def calibration(self, purpose: str, rows: np.ndarray) -> Any:
        """What `calibration_makers()[purpose]` makes of `rows` (None where the kind makes nothing for
        it): it does not depend on the model, so it is made once per process and shared."""
        make = self.calibration_makers().get(purpose)
        if make is None:
            return None
        key = self._key(purpose, rows)
        with _made_lock:
            if key not in _made:
                _made[key] = make(np.asarray(rows, dtype=np.uint8))
            return _made[key]

    def as_given(self, rows: np.ndarray) -> np.ndarray | None:
        return self.calibration("as_given", rows)

    def picture_squares(self, rows: np.ndarray) -> list[np.ndarray] | None:
        return self.calibration("pictures", rows)

    def calibration_ready(self, rows: np.ndarray) -> bool:
        """Whether `calibration` would answer at once (nothing to make, or made already)."""
        return all(self._key(purpose, rows) in _made for purpose in self.calibration_makers())

    def _key(self, purpose: str, rows: np.ndarray) -> tuple[str, str, str]:
        return self.name, purpose, hashlib.sha1(np.ascontiguousarray(rows, dtype=np.uint8).tobytes()).hexdigest()

    # --------------------------------------------------------------------------------- outliers

    @property
    def makes_outliers(self) -> bool:
        return bool(self.outlier_sources)

    def outliers_ready(self, n: int | None = None, seed: int = 0) -> bool:
        """Whether `outlier_pool` would answer at once (made already in this process). Without the
        lock, which `outlier_pool` holds while it makes them."""
        return (self.name, n or POOL_SIZE, seed) in _pools

    def outlier_pool(self, n: int | None = None, seed: int = 0) -> torch.Tensor:
        """`n` (default POOL_SIZE) outliers as this kind's pipeline reads them, (n, *rows.shape), the
        same for a given seed; made once per process, then from memory."""
        if not self.makes_outliers:
            raise ValueError(f"No outliers are made for {self.name} input.")
        key = (self.name, n or POOL_SIZE, seed)
        with _pools_lock:
            if key not in _pools:
                _pools[key] = torch.from_numpy(self._make_outliers(*key[1:]))
            return _pools[key]

    def _make_outliers(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, *self.rows.shape), np.uint8)
        k = 0
        while k < n:
            prepared = self.prepare(self.outlier_sources[k % len(self.outlier_sources)](rng))
            # A shape the pipeline sees no ink in is no input at all.
            if prepared is not None and self.is_outlier(prepared.row):
                out[k] = prepared.row
                k += 1
        return out

    def is_outlier(self, row: np.ndarray) -> bool:
        """Whether a made-up outlier, as the pipeline read it, is really none of the classes."""
        return True
