"""What a trained model gets right and wrong on a test set: the report the app and CLI show.

Accuracy and loss, the confusion matrix, per-class accuracy, the most-confused pairs, and the
misclassified test images (highest loss first) with predicted class, true class and the
probability given to the prediction. Built from one batched forward pass; formatting is the
caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..models.forward import logits as batched_logits


@dataclass(frozen=True)
class Example:
    index: int              # row in the test set
    row: np.ndarray         # a 28x28 uint8 image, or a hand's (63,) landmarks
    predicted: str
    true: str
    probability: float      # the model's probability for `predicted`


@dataclass(frozen=True)
class Report:
    classes: list[str]
    n: int
    accuracy: float
    loss: float
    confusion: np.ndarray           # (classes, classes) counts; rows true, columns predicted
    mistakes: list[Example]         # misclassified, highest loss first (at most `max_examples`)
    n_wrong: int

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (rows as lists of numbers, their dtype named)."""
        return {"classes": self.classes, "n": self.n, "accuracy": self.accuracy, "loss": self.loss,
                "confusion": self.confusion.tolist(), "n_wrong": self.n_wrong,
                "mistakes": [{"index": e.index, "row": e.row.tolist(), "dtype": str(e.row.dtype),
                              "predicted": e.predicted, "true": e.true, "probability": e.probability}
                             for e in self.mistakes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        """`to_dict`'s values back as a report."""
        mistakes = [Example(int(e["index"]), np.asarray(e["row"], dtype=np.dtype(e["dtype"])), str(e["predicted"]),
                            str(e["true"]), float(e["probability"])) for e in d["mistakes"]]
        return cls(classes=[str(c) for c in d["classes"]], n=int(d["n"]), accuracy=float(d["accuracy"]),
                   loss=float(d["loss"]), confusion=np.asarray(d["confusion"], dtype=np.int64), mistakes=mistakes,
                   n_wrong=int(d["n_wrong"]))

    def most_confused(self, k: int = 5) -> list[tuple[str, str, int]]:
        """The k most frequent (true, predicted, count) mistakes."""
        off = self.confusion.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(off, axis=None)[::-1][:k]
        pairs = [np.unravel_index(i, off.shape) for i in order]
        return [(self.classes[t], self.classes[p], int(off[t, p])) for t, p in pairs if off[t, p] > 0]


def build_report(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, classes: list[str],
                normalization: dict[str, Any], max_examples: int = 32) -> Report:
    """Evaluate `model` on rows (uint8 images (N, 28, 28), or hands (N, 63)) with labels (N,) and collect
    the report."""
    out = batched_logits(model, images, normalization)
    y = labels.cpu()
    losses = F.cross_entropy(out, y, reduction="none")
    probs = torch.softmax(out, dim=1)
    pred = out.argmax(1)
    true_np, pred_np = y.numpy(), pred.numpy()
    n = len(classes)
    confusion = np.bincount(true_np * n + pred_np, minlength=n * n).reshape(n, n)
    wrong = torch.nonzero(pred != y).flatten()
    wrong = wrong[torch.argsort(losses[wrong], descending=True, stable=True)][:max_examples]
    mistakes = [Example(int(i), images[i].cpu().numpy(), classes[int(pred[i])], classes[int(y[i])],
                        float(probs[i, pred[i]])) for i in wrong]
    total = max(len(y), 1)
    return Report(classes=list(classes), n=len(y), accuracy=float((pred == y).sum()) / total,
                      loss=float(losses.sum()) / total, confusion=confusion, mistakes=mistakes,
                      n_wrong=int((pred != y).sum()))
