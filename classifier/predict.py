"""Serving a trained model: probabilities for one preprocessed image, and hot-swappable slots.

A `ModelSlot` holds the model one app tab uses. Swapping puts a new `Predictor` in place
under a lock; a request that already took the old one finishes with it, so no request ever
sees half of each.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from .checkpoint import Checkpoint
from .preprocess import normalize


class Predictor:
    """An immutable (model, metadata) pair that classifies 28x28 uint8 images."""

    def __init__(self, ckpt: Checkpoint, name: str = "") -> None:
        self.model = ckpt.model.eval()
        self.meta = ckpt.meta
        self.classes = ckpt.classes
        self.normalization = ckpt.normalization
        self.device = next(self.model.parameters()).device
        self.name = name or ckpt.meta.get("dataset", "model")

    @torch.inference_mode()
    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (N, n_classes), of uint8 images (N, 28, 28) or one (28, 28)."""
        batch = torch.as_tensor(np.asarray(images, dtype=np.uint8)).to(self.device)
        if batch.ndim == 2:
            batch = batch.unsqueeze(0)
        logits = self.model(normalize(batch, self.normalization))
        return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def predict(self, image: np.ndarray) -> dict[str, float]:
        """{class name: probability} for one 28x28 uint8 image, every class included."""
        probs = self.probabilities(image)[0]
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}


class ModelSlot:
    """The model currently serving one data set; thread-safe to read and to swap."""

    def __init__(self, predictor: Predictor | None = None) -> None:
        self._lock = threading.Lock()
        self._predictor = predictor

    def get(self) -> Predictor | None:
        with self._lock:
            return self._predictor

    def swap(self, predictor: Predictor) -> Predictor | None:
        with self._lock:
            old, self._predictor = self._predictor, predictor
            return old
