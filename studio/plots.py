"""What the Train tab plots, all drawn by the page: a run's curves and the runs compared as data for
Gradio's line plots (a value under the pointer), its confusion matrix and misclassified test rows
as HTML (28x28 images, or hands drawn from their landmarks). So a curve point or a finished run
costs the server a few kB of data, never a rendered picture: rendering one holds Python's lock
for a tenth of a second or more, and every request of the process waits behind it.

`hands` is a Matplotlib figure for the benches (`bench/generated_hands.py`), built with the
object-oriented API (`Figure`, never `pyplot`), which keeps no global state.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from classifier.training.report import Example  # noqa: E402

from .html_image import img_tag  # noqa: E402

_ACCENT = "#ea580c"
_MUTED = "#94a3b8"
_TEST = "#2563eb"


CURVE_COLORS = {"train": _MUTED, "validation": _ACCENT, "validation (optimistic)": _ACCENT, "test": _TEST}


def curve_frames(history: Sequence[dict[str, float]], validation_note: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's loss and accuracy curves as the Train tab's line plots take them (drawn by the page,
    a value under the pointer): one row per point and curve, against epochs done (fractions for the
    points within an epoch); training, validation ("optimistic" where `validation_note` says the split
    flatters), and test where tracked."""
    val = "validation (optimistic)" if validation_note else "validation"
    curves = [("train", "train"), ("val", val), ("test", "test")]
    frames = []
    for key, y in (("loss", "loss"), ("acc", "accuracy")):
        rows = [(h.get("progress") or h["epoch"], h[f"{prefix}_{key}"], name)
                for prefix, name in curves for h in history if h.get(f"{prefix}_{key}") is not None]
        frame = pd.DataFrame(rows, columns=["epochs done", y, "curve"])
        frames.append(frame.astype({"epochs done": float, y: float, "curve": str}))
    return frames[0], frames[1]


def compare_frame(runs: Sequence[tuple[str, Sequence[dict[str, float]]]]) -> pd.DataFrame:
    """Runs side by side, as the page's line plot takes them: each run's held-out accuracy against
    epochs done, with the seconds since its start (shown under the pointer). Held-out is the test
    curve where a run tracked one (its validation split flatters, the run's name says "test"), else
    validation. `runs`: (label, points)."""
    rows = []
    for label, points in runs:
        pts = [p for p in points if (p.get("progress") or 0) > 0]
        test = bool(pts) and all(p.get("test_acc") is not None for p in pts)
        name = f"{label} (test)" if test else label
        rows += [(float(p["progress"]), round(float(p.get("elapsed") or 0.0), 1),
                  float(p["test_acc"] if test else p["val_acc"]), name) for p in pts]
    frame = pd.DataFrame(rows, columns=["epochs done", "seconds", "held-out accuracy", "run"])
    return frame.astype({"epochs done": float, "seconds": float, "held-out accuracy": float, "run": str})


def confusion_html(cm: np.ndarray, classes: Sequence[str]) -> str:
    """Counts of (true, predicted) pairs as a table the page draws: a row per true class, a column per
    predicted one (the diagonal is right), shaded by count, each cell's pair under the pointer; then
    each class's accuracy, the lowest marked."""
    cm = np.asarray(cm, dtype=np.int64)
    n = len(classes)
    scale = float(np.log1p(cm.max())) if cm.size and cm.max() > 0 else 1.0
    totals = cm.sum(1)
    acc = np.divide(np.diag(cm), totals, out=np.zeros(n), where=totals > 0)
    worst = int(acc.argmin()) if n else 0
    names = [html.escape(c) for c in classes]
    head = "".join(f"<th>{c}</th>" for c in names)
    body = []
    for i in range(n):
        cells = []
        for j in range(n):
            count = int(cm[i, j])
            shade = np.log1p(count) / scale
            kind = "right" if i == j else "wrong"
            cells.append(f'<td class="{kind}{" dark" if shade > 0.6 else ""}" style="--shade:{shade:.2f}" '
                         f'title="true {names[i]}, predicted {names[j]}: {count}">{count or ""}</td>')
        mark = " lowest" if i == worst else ""
        body.append(f'<tr><th>{names[i]}</th>{"".join(cells)}<td class="class-acc{mark}" '
                    f'title="{names[i]}: {acc[i]:.1%} right">{acc[i]:.1%}</td></tr>')
    lowest = f" (lowest: {names[worst]} {acc[worst]:.1%})" if n else ""
    return ('<div class="confusion"><div class="confusion-title">Confusion matrix (test set): rows are the true '
            f'class, columns the predicted one; the last column is each class\'s accuracy{lowest}.</div>'
            f'<table><tr><th class="corner">true \\ predicted</th>{head}<th>accuracy</th></tr>{"".join(body)}'
            "</table></div>")


def hand_picture(points: np.ndarray, size: int = 56) -> np.ndarray:
    """A hand's skeleton (normalized (63,) or (21, 3) landmarks, y down) drawn `size` px square: the
    thumb orange, the other bones dark, the fingertips dotted."""
    from classifier.inputs.landmarks import BONES

    p = np.asarray(points, dtype=float).reshape(21, 3)[:, :2]
    lo, hi = p.min(0), p.max(0)
    span = float(max(hi - lo)) or 1.0
    xy = (p - lo - (hi - lo) / 2) / span * (size - 8) + size / 2
    picture = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(picture)
    for a, b in BONES:
        draw.line([tuple(xy[a]), tuple(xy[b])], fill=_ACCENT if b <= 4 else "#334155", width=2)
    for k in (8, 12, 16, 20):
        x, y = xy[k]
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=_TEST)
    return np.asarray(picture)


def mistakes_html(examples: Sequence[Example], limit: int = 20) -> str:
    """The first `limit` test rows the model got wrong (the report lists them highest loss first), each
    captioned 'predicted (true) probability': a 28x28 image, or a hand's skeleton."""
    examples = list(examples)[:limit]
    if not examples:
        return '<div class="mistakes"><div class="mistakes-title">No misclassified test rows.</div></div>'
    cells = []
    for e in examples:
        picture = hand_picture(e.row) if e.row.size == 63 else e.row
        said = f"{html.escape(e.predicted)} ({html.escape(e.true)}) {e.probability:.0%}"
        tip = (f"test row {e.index}: read as {html.escape(e.predicted)} with {e.probability:.0%}, "
               f"is {html.escape(e.true)}")
        cells.append(f"<figure>{img_tag(picture, 56, 'a misclassified test row', tip)}<figcaption>{said}</figcaption>"
                     "</figure>")
    return ('<div class="mistakes"><div class="mistakes-title">Misclassified, highest loss first: predicted (true) '
            f'probability</div><div class="mistakes-grid">{"".join(cells)}</div></div>')


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
