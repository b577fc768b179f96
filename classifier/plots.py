"""Matplotlib figures the app shows: the classify view, training curves, confusion matrix and
misclassified examples.

Figures are built with the object-oriented API (`Figure`, never `pyplot`), which keeps no
global state and so is safe to use from many request threads at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .report import Example  # noqa: E402

_ACCENT = "#ea580c"
_MUTED = "#94a3b8"


def classify_view(image: np.ndarray | None, probabilities: dict[str, float] | None,
                  title: str = "") -> Figure:
    """The 28x28 image the model saw, beside a horizontal bar chart of every class probability."""
    n = len(probabilities) if probabilities else 10
    height = max(3.0, 0.22 * n + 1.0)
    fig = Figure(figsize=(7.5, height))
    # A fixed layout: this figure is drawn on every stroke, and constrained layout costs ~40% of it.
    fig.subplots_adjust(left=0.02, right=0.97, top=1 - 0.35 / height, bottom=0.5 / height, wspace=0.12)
    ax_img, ax_bar = fig.subplots(1, 2, width_ratios=[1, 1.4])
    ax_img.set_title("what the model sees (28x28)", fontsize=9)
    ax_img.imshow(np.zeros((28, 28)) if image is None else image, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    if probabilities:
        labels = list(probabilities)
        values = np.array([probabilities[k] for k in labels])
        top = int(values.argmax())
        colors = [_ACCENT if i == top else _MUTED for i in range(len(labels))]
        y = np.arange(len(labels))
        ax_bar.barh(y, values, color=colors)
        ax_bar.set_yticks(y, labels, fontsize=8 if len(labels) > 12 else 10)
        ax_bar.invert_yaxis()
        ax_bar.set_xlim(0, 1)
        ax_bar.set_xlabel("probability")
        ax_bar.set_title(title or f"prediction: {labels[top]} ({values[top]:.0%})", fontsize=10)
        for spine in ("top", "right"):
            ax_bar.spines[spine].set_visible(False)
    else:
        ax_bar.axis("off")
        ax_bar.text(0.5, 0.5, title or "nothing to classify yet", ha="center", va="center", fontsize=12)
    return fig


def training_curves(history: Sequence[dict[str, float]], title: str = "") -> Figure:
    """Loss and accuracy per epoch, training and validation, side by side."""
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "acc", "accuracy")):
        if history:
            ax.plot(epochs, [h[f"train_{key}"] for h in history], "o-", label=f"train {label}", color=_MUTED)
            ax.plot(epochs, [h[f"val_{key}"] for h in history], "o-", label=f"validation {label}", color=_ACCENT)
            ax.legend(fontsize=8)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(label)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def confusion_matrix(cm: np.ndarray, classes: Sequence[str]) -> Figure:
    """Counts of (true, predicted) pairs; the diagonal is right."""
    n = len(classes)
    size = 3.5 + 0.22 * n
    fig = Figure(figsize=(size, size), layout="constrained")
    ax = fig.subplots()
    ax.imshow(np.log1p(cm), cmap="Blues")
    ticks = np.arange(n)
    ax.set_xticks(ticks, classes, rotation=90 if n > 10 or max(map(len, classes)) > 2 else 0, fontsize=7)
    ax.set_yticks(ticks, classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=6,
                            color="white" if i == j else "black")
    ax.set_title("confusion matrix (test set)")
    return fig


def misclassified_grid(examples: Sequence[Example], columns: int = 8) -> Figure:
    """Test images the model got wrong, each titled 'predicted (true) probability'."""
    n = len(examples)
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(columns * 1.1, rows * 1.25 + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, e in zip(axes, examples, strict=False):
        ax.imshow(e.image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(f"{e.predicted} ({e.true}) {e.probability:.0%}", fontsize=7, color="#b91c1c")
    fig.suptitle("misclassified, highest loss first: predicted (true) probability" if n
                 else "no misclassified test images", fontsize=9)
    return fig
