"""Matplotlib figures the Train tab shows: training curves, confusion matrix and misclassified
examples (28x28 images, or hands drawn from their landmarks). (The classify tabs' view is drawn
by the page itself: `classify_view`.)

Figures are built with the object-oriented API (`Figure`, never `pyplot`), which keeps no
global state and so is safe to use from many request threads at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter  # noqa: E402

from classifier.training.report import Example  # noqa: E402

_ACCENT = "#ea580c"
_MUTED = "#94a3b8"
_TEST = "#2563eb"


def training_curves(history: Sequence[dict[str, float]], title: str = "", validation_note: str = "") -> Figure:
    """Loss and accuracy against epochs done (fractions for a stopped epoch): training, validation,
    and test where tracked. A `validation_note` marks the validation curve as flattering, and says why."""
    fig = Figure(figsize=(9, 3.1 if validation_note else 2.9), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    x = [h.get("progress") or h["epoch"] for h in history]
    has_test = any(h.get("test_acc") is not None for h in history)
    val_label = "validation (optimistic)" if validation_note else "validation"
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "acc", "accuracy")):
        if history:
            ax.plot(x, [h[f"train_{key}"] for h in history], "o-", label=f"train {label}", color=_MUTED)
            ax.plot(x, [h[f"val_{key}"] for h in history], "o--" if validation_note else "o-",
                    label=f"{val_label} {label}", color=_ACCENT, alpha=0.5 if validation_note else 1.0)
            if has_test:
                ax.plot(x, [h.get(f"test_{key}") for h in history], "o-", label=f"test {label}", color=_TEST)
            ax.legend(fontsize=8)
        ax.set_xlabel("epochs done")
        ax.set_xlim(0, max([1.0, *x]) * 1.03)  # from the start, so even one epoch reads as a curve's first point
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(label)
        ax.grid(alpha=0.3)
    if validation_note:
        fig.suptitle(validation_note, fontsize=8, wrap=True)
    elif title:
        fig.suptitle(title, fontsize=10)
    return fig


def compare_runs(runs: Sequence[tuple[str, Sequence[dict[str, float]]]]) -> Figure:
    """Runs side by side: each run's held-out accuracy against epochs and against seconds of training,
    both on log axes (a one-epoch run and a 60-epoch run share the plot). Held-out is the test curve
    where a run tracked one (its validation split flatters), else validation. `runs`: (label, points)."""
    fig = Figure(figsize=(9, 2.9), layout="constrained")
    ax_ep, ax_s = fig.subplots(1, 2, sharey=True)
    lows = []
    for label, points in runs:
        pts = [p for p in points if (p.get("progress") or 0) > 0]
        if not pts:
            continue
        test = all(p.get("test_acc") is not None for p in pts)
        y = [p["test_acc"] if test else p["val_acc"] for p in pts]
        lows.append(min(y))   # every point of every run in view: a linear run's first epochs too
        name = f"{label} (test)" if test else label
        line, = ax_ep.plot([p["progress"] for p in pts], y, ".-", label=name)
        ax_s.plot([max(p.get("elapsed") or 0, 1e-2) for p in pts], y, ".-", color=line.get_color())
    for ax, xlabel in ((ax_ep, "epochs done"), (ax_s, "seconds since the start")):
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.1, 1, 10: not 10^-1
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which="both")
    ax_ep.set_ylabel("held-out accuracy")
    if lows:
        ax_ep.set_ylim(max(min(lows) - 0.01, 0.0), 1.0)
        ax_ep.legend(fontsize=8, loc="lower right")
    else:
        ax_ep.text(0.5, 0.5, "no runs yet", ha="center", va="center", transform=ax_ep.transAxes)
    fig.suptitle("Runs side by side: validation accuracy (test where marked)", fontsize=10)
    return fig


def confusion_matrix(cm: np.ndarray, classes: Sequence[str]) -> Figure:
    """Counts of (true, predicted) pairs, each cell numbered (the diagonal is right), beside each
    class's accuracy; wide, so it fits a window beside nothing else."""
    n = len(classes)
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    ax, ax_acc = fig.subplots(1, 2, width_ratios=[1.25, 1])
    ax.imshow(np.log1p(cm), cmap="Blues")
    ticks = np.arange(n)
    ax.set_xticks(ticks, classes, rotation=90 if n > 10 or max(map(len, classes)) > 2 else 0, fontsize=7)
    ax.set_yticks(ticks, classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    dark = np.log1p(cm) > 0.6 * np.log1p(cm.max()) if cm.size else cm > 0
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=6 if n <= 12 else 4,
                        color="white" if dark[i, j] else "black")
    ax.set_title("confusion matrix (test set)", fontsize=9)
    totals = cm.sum(1)
    acc = np.divide(np.diag(cm), totals, out=np.zeros(n), where=totals > 0)
    worst = int(acc.argmin()) if n else 0
    ax_acc.barh(ticks, acc, color=[_ACCENT if i == worst else _MUTED for i in range(n)])
    ax_acc.set_yticks(ticks, classes, fontsize=7)
    ax_acc.invert_yaxis()
    ax_acc.set_xlim(max(0.0, float(acc.min()) - 0.05) if n else 0, 1)
    ax_acc.set_xlabel("accuracy")
    ax_acc.set_title(f"accuracy per class (lowest: {classes[worst]} {acc[worst]:.1%})" if n else "", fontsize=9)
    ax_acc.grid(axis="x", alpha=0.3)
    return fig


def misclassified_grid(examples: Sequence[Example], columns: int = 10, rows: int = 2) -> Figure:
    """The first `columns` x `rows` test rows the model got wrong (the report lists them highest
    loss first), each titled 'predicted (true) probability': a 28x28 image, or a hand's skeleton."""
    examples = list(examples)[:columns * rows]
    n = len(examples)
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(columns * 1.1, rows * 1.2 + 0.35), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, e in zip(axes, examples, strict=False):
        if e.row.size == 63:
            _hand(ax, e.row)
        else:
            ax.imshow(e.row, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(f"{e.predicted} ({e.true}) {e.probability:.0%}", fontsize=7, color="#b91c1c")
    fig.suptitle("misclassified, highest loss first: predicted (true) probability" if n
                 else "no misclassified test rows", fontsize=9)
    return fig


def _hand(ax, points: np.ndarray, dx: float = 0.0) -> None:
    """One hand's bones (the thumb orange, the fingertips dotted), `dx` to the right, y down."""
    from classifier.inputs.landmarks import BONES

    p = np.asarray(points, dtype=float).reshape(21, 3)[:, :2] + [dx, 0]
    for a, b in BONES:
        ax.plot(p[[a, b], 0], p[[a, b], 1], color=_ACCENT if b <= 4 else "#334155", lw=1.5)
    ax.plot(p[[8, 12, 16, 20], 0], p[[8, 12, 16, 20], 1], "o", ms=2.5, color=_TEST)
    ax.set_aspect("equal")
    if not ax.yaxis_inverted():
        ax.invert_yaxis()


def hands(by_label: dict[str, Sequence[np.ndarray]], columns: int = 6) -> Figure:
    """Hands as the hand-shape models read them (normalized (63,) or (21, 3) landmarks, y down), a
    cell per label with its hands side by side: the bones, the thumb orange, the fingertips dotted."""
    labels = list(by_label)
    rows = max(1, -(-len(labels) // columns))
    fig = Figure(figsize=(columns * 2.6, rows * 1.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, label in zip(axes, labels, strict=False):
        for k, points in enumerate(by_label[label]):
            _hand(ax, points, dx=2.8 * k)
        ax.set_title(label, fontsize=11, fontweight="bold")
    return fig
