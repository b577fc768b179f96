"""Serving a trained model: logits and probabilities of preprocessed images.

`logits` is the batched forward pass that evaluation, test reports and the app share (the "not sure"
detector reads the same passes, with their last hidden layer: `ood.forward_batches`).
A `Predictor` is never changed once built, so one object can serve many requests at once and a
request that took it keeps getting the same model's answers whatever else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import ood
from .checkpoint import Checkpoint
from .preprocess import normalize


def logits(model: torch.nn.Module, images: torch.Tensor, normalization: dict[str, Any],
           batch_size: int = 8192) -> torch.Tensor:
    """Float logits (N, n_classes) on the CPU of uint8 images (N, 28, 28), in eval mode, batched."""
    out = [lg.float().cpu() for _, _, lg in ood.forward_batches(model, images, normalization, batch_size)]
    n_classes = model.config.n_classes if hasattr(model, "config") else 0
    return torch.cat(out) if out else torch.zeros(0, n_classes)


@dataclass(frozen=True)
class Answer:
    probabilities: dict[str, float]   # every class
    unsure: bool                      # the input is unlike the training data (see `ood`)
    ood_score: float | None           # 0..1, "not sure" above the detector's threshold (the picture's
                                      # threshold when the picture was judged whole); None: no detector


class Predictor:
    """An immutable (model, metadata, detector) triple that classifies 28x28 uint8 images."""

    def __init__(self, ckpt: Checkpoint, name: str = "") -> None:
        self.model = ckpt.model.eval()
        self.meta = ckpt.meta
        self.classes = ckpt.classes
        self.normalization = ckpt.normalization
        self.ood = ckpt.ood
        self.name = name or ckpt.meta.get("dataset", "model")

    @torch.inference_mode()
    def answer(self, image: np.ndarray, squares: np.ndarray | None = None) -> Answer:
        """Every class's probability for one 28x28 uint8 image, and whether the input is unlike the
        training data; one forward pass gives the last hidden layer for both. `squares`: every square
        the pipeline weighed in the picture `image` was cut from (`Prepared.squares`), to judge the
        picture as a whole when the detector is calibrated for that (`ood.Detector.picture_threshold`)."""
        whole = squares is not None and len(squares) > 0 and self.ood is not None \
            and self.ood.picture_threshold is not None
        batch = np.concatenate([np.asarray(image, dtype=np.uint8).reshape(1, 28, 28),
                                np.asarray(squares, dtype=np.uint8).reshape(-1, 28, 28)]) if whole else image
        x = normalize(torch.as_tensor(np.asarray(batch, dtype=np.uint8)).reshape(-1, 28, 28), self.normalization)
        feats = self.model.net[:-1](x.to(next(self.model.parameters()).device))
        logits = self.model.net[-1](feats).float().cpu()
        probs = torch.softmax(logits[:1], dim=1)[0]
        probabilities = {c: float(p) for c, p in zip(self.classes, probs, strict=True)}
        if self.ood is None:
            return Answer(probabilities, False, None)
        x, feats = x.cpu(), feats.float().cpu()
        if whole:
            score = self.ood.picture_score(x[1:], feats[1:], logits[1:])
            return Answer(probabilities, score > self.ood.picture_threshold, score)
        score = float(self.ood.score(x, feats, logits)[0])
        return Answer(probabilities, score > self.ood.threshold, score)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (N, n_classes), of uint8 images (N, 28, 28) or one (28, 28)."""
        batch = torch.as_tensor(np.asarray(images, dtype=np.uint8))
        if batch.ndim == 2:
            batch = batch.unsqueeze(0)
        return torch.softmax(logits(self.model, batch, self.normalization), dim=1).numpy()

    def confidence(self, images: np.ndarray) -> np.ndarray:
        """(N,) the highest class probability of each of uint8 images (N, 28, 28): how sure the model is."""
        return self.probabilities(images).max(1)

    def predict(self, image: np.ndarray) -> dict[str, float]:
        """{class name: probability} for one 28x28 uint8 image, every class included."""
        probs = self.probabilities(image)[0]
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}
