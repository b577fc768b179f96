"""Serving a trained model: every class's probability for a row, and whether to say "not sure".

A `Predictor` serves any model of this project, whatever its rows (28x28 images, a hand's 63
numbers): "not sure" comes from the detector its file carries, or, for models without one, from
the top probability: under its `not_sure_below`, or within its `not_sure_margin` of the second.
It is never changed once built, so one object can serve many requests at once and a request that
took it keeps getting the same model's answers whatever else changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..inputs.kind import Prepared
from ..models.checkpoint import Checkpoint
from ..models.forward import logits
from ..models.preprocess import normalize


@dataclass(frozen=True)
class Answer:
    probabilities: dict[str, float]   # every class
    unsure: bool                      # the input is unlike the training data, or the model is not sure
    ood_score: float | None           # 0..1, "not sure" above the detector's threshold (the picture's
                                      # threshold when the picture was judged whole); None: no detector

    @property
    def best(self) -> tuple[str, float]:
        """The most probable class and its probability."""
        label = max(self.probabilities, key=self.probabilities.__getitem__)
        return label, self.probabilities[label]


class Predictor:
    """An immutable model, its metadata and its "not sure" rule, answering rows of its data set."""

    def __init__(self, ckpt: Checkpoint, name: str = "") -> None:
        self.model = ckpt.model.eval()
        self.meta = ckpt.meta
        self.classes = ckpt.classes
        self.normalization = ckpt.normalization
        self.ood = ckpt.ood
        self.not_sure_below = ckpt.not_sure_below
        self.not_sure_margin = ckpt.not_sure_margin
        self.name = name or str(ckpt.meta.get("name") or ckpt.meta.get("dataset", "model"))

    def close_call(self, probabilities: np.ndarray) -> bool:
        """For a model without a detector: whether one row's probabilities are "not sure" (a top one
        under `not_sure_below`, or within `not_sure_margin` of the second)."""
        top = np.sort(np.asarray(probabilities, dtype=np.float64))[::-1]
        if self.not_sure_below is not None and top[0] < self.not_sure_below:
            return True
        return self.not_sure_margin is not None and len(top) > 1 and top[0] - top[1] < self.not_sure_margin

    @property
    def checkpoint(self) -> Checkpoint:
        """The model as a weights file holds it (to save or export)."""
        return Checkpoint(self.model, self.meta, self.ood)

    @property
    def dataset(self) -> str:
        return str(self.meta["dataset"])

    def _rows(self, rows: np.ndarray) -> torch.Tensor:
        """Rows (one, or a batch) as a (N, features) tensor of their own type (uint8 pictures stay uint8)."""
        return torch.as_tensor(np.asarray(rows)).reshape(-1, self.model.config.in_features)

    @torch.inference_mode()
    def answer(self, row: np.ndarray, squares: np.ndarray | None = None) -> Answer:
        """Every class's probability for one row (a 28x28 uint8 image, or a hand's 63 numbers), and
        whether to say "not sure"; one forward pass gives the last hidden layer for the detector too.
        `squares`: every square the pipeline weighed in the picture `row` was cut from
        (`Prepared.squares`), to judge the picture as a whole when the detector is calibrated for that
        (`ood.Detector.picture_threshold`)."""
        whole = squares is not None and len(squares) > 0 and self.ood is not None \
            and self.ood.picture_threshold is not None
        batch = self._rows(row)
        if whole:
            batch = torch.cat([batch, self._rows(np.asarray(squares, dtype=np.uint8))])
        x = normalize(batch, self.normalization)
        feats = self.model.net[:-1](x.to(next(self.model.parameters()).device))
        logits_ = self.model.net[-1](feats).float().cpu()
        probs = torch.softmax(logits_[:1], dim=1)[0]
        probabilities = {c: float(p) for c, p in zip(self.classes, probs, strict=True)}
        if self.ood is None:
            return Answer(probabilities, self.close_call(probs.numpy()), None)
        x, feats = x.cpu(), feats.float().cpu()
        if whole:
            score = self.ood.picture_score(x[1:], feats[1:], logits_[1:])
            return Answer(probabilities, score > self.ood.picture_threshold, score)
        score = float(self.ood.score(x, feats, logits_)[0])
        return Answer(probabilities, score > self.ood.threshold, score)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (N, n_classes), of a batch of rows or one row."""
        return torch.softmax(logits(self.model, self._rows(rows), self.normalization), dim=1).numpy()

    def confidence(self, rows: np.ndarray) -> np.ndarray:
        """(N,) the highest class probability of each of a batch of rows: how sure the model is."""
        return self.probabilities(rows).max(1)

    def predict(self, row: np.ndarray) -> dict[str, float]:
        """{class name: probability} for one row, every class included."""
        probs = self.probabilities(row)[0]
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}


# Which answer comes first in a picture of a hand where MediaPipe found one: the hand shape's,
# unless the picture is like the pixel model's own data (Sign Language MNIST's small, blurry hands
# enlarged, whose landmarks MediaPipe often gets wrong). Two signs of that add up: the pixel model's
# detector finds the locator's squares typical (`ood.Detector.picture_score`, the mean percentile of
# the squares among the calibration pictures', under TYPICAL_PICTURE) and the locator is sure it
# framed a hand; the more typical the squares, the less sure the locator need be. Real photos of
# hands are seldom either (bench/sign_photos.py and bench/real_hands.py measure both sides).
TYPICAL_PICTURE = 0.97
LIKE_PIXEL_DATA = 0.86


def like_pixel_data(located: float, pixels: Answer) -> bool:
    """Whether a picture the locator found a hand in (its best square's score, `located`), whose
    squares the pixel model answered (`pixels`, judged whole), is like the pixel model's own data."""
    if pixels.ood_score is None:
        return False
    typical = TYPICAL_PICTURE - pixels.ood_score
    return typical > 0 and located + typical >= LIKE_PIXEL_DATA


@dataclass(frozen=True)
class PixelReading:
    """The pixel model's reading of a hand picture: the squares it read, its answer, and whether that
    answer comes before the hand shape's."""

    prepared: Prepared
    answer: Answer
    first: bool


def read_pixels(predictor: Predictor, prepared: Prepared, hand_read: bool) -> PixelReading:
    """The pixel model's reading of a prepared hand picture. `hand_read`: a model read the hand's
    landmarks. Where it did not, the pixel model answers first; where it did and the locator framed
    the hand too (`Prepared.framed`), the locator's squares are read, and where the picture is like
    the pixel model's data (`like_pixel_data`) that reading comes first; otherwise the square
    around the landmarks is read, second."""
    framed = prepared.framed
    if hand_read and framed is not None and framed.located is not None:
        framed_answer = predictor.answer(framed.row, framed.squares)
        # A hand MediaPipe found only in a made-up look of the picture (`landmarks.looks`) is a
        # weaker finding: there the locator's framing alone, as sure as LIKE_PIXEL_DATA, is enough.
        made_up = prepared.hand is not None and prepared.hand.look > 0
        if like_pixel_data(framed.located, framed_answer) or (made_up and framed.located >= LIKE_PIXEL_DATA):
            return PixelReading(framed, framed_answer, True)
    return PixelReading(prepared, predictor.answer(prepared.row, prepared.squares), not hand_read)
