"""What the Train tab plots, all drawn by the page: a run's curves and the runs compared as
Vega-Lite charts (a value under the pointer; Gradio's Plot draws them with Vega), its confusion
matrix and misclassified test rows as HTML (28x28 images, or hands drawn from their landmarks).
So a curve point or a finished run costs the server a few kB of JSON, never a rendered picture:
rendering one holds Python's lock for a tenth of a second or more, and every request of the
process waits behind it. The specs are written out here (a few dicts), not built with Altair:
building its objects costs many times the JSON they make.

`hands` is a Matplotlib figure for the benches (`bench/generated_hands.py`), built with the
object-oriented API (`Figure`, never `pyplot`), which keeps no global state.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from gradio.components.plot import PlotData  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from classifier.training.report import Example  # noqa: E402

from .html_image import img_tag  # noqa: E402

_ACCENT = "#ea580c"
_MUTED = "#94a3b8"
_TEST = "#2563eb"


CURVE_COLORS = {"train": _MUTED, "validation": _ACCENT, "validation (optimistic)": _ACCENT, "test": _TEST}
VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.json"


def _x(field: str, log: bool = False) -> dict[str, Any]:
    scale = {"type": "log"} if log else {"domainMin": 0}   # from epoch 0: one epoch reads as a curve's start
    return {"field": field, "type": "quantitative", "scale": scale, "axis": {"format": "~g"}}


def _panel(rows: list[dict[str, Any]], x: dict[str, Any], y: str, color: str, colors: dict[str, str] | None,
           title: str) -> dict[str, Any]:
    """One chart: a line with a dot at each point (so a one-point run shows), its values under the
    pointer; the y axis fits every point."""
    legend: dict[str, Any] = {"field": color, "type": "nominal", "title": None, "legend": {"orient": "bottom"}}
    if colors:
        legend["scale"] = {"domain": list(colors), "range": list(colors.values())}
    return {"title": title, "width": 300, "height": 180, "data": {"values": rows},
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {"x": x, "y": {"field": y, "type": "quantitative", "scale": {"zero": False}},
                         "color": legend}}


def curves_spec(history: Sequence[dict[str, float]], title: str = "", validation_note: str = "") -> dict[str, Any]:
    """A run's loss and accuracy curves as a Vega-Lite chart the page draws: against epochs done
    (fractions for the points within an epoch); training, validation ("optimistic" where
    `validation_note` says the split flatters), and test where tracked."""
    val = "validation (optimistic)" if validation_note else "validation"
    names = {"train": "train", "val": val, "test": "test"}
    panels = []
    for key, y in (("loss", "loss"), ("acc", "accuracy")):
        rows = [{"epochs done": float(h.get("progress") or h["epoch"]), y: float(h[f"{prefix}_{key}"]),
                 "curve": name} for prefix, name in names.items() for h in history
                if h.get(f"{prefix}_{key}") is not None]
        colors = {n: CURVE_COLORS[n] for n in names.values() if any(r["curve"] == n for r in rows)}
        panels.append(_panel(rows, _x("epochs done"), y, "curve", colors, y))
    heading = validation_note or title
    return {"$schema": VEGA_LITE, "title": {"text": heading, "fontSize": 11}, "hconcat": panels}


def compare_spec(runs: Sequence[tuple[str, Sequence[dict[str, float]]]]) -> dict[str, Any]:
    """Runs side by side, as a Vega-Lite chart the page draws: each run's held-out accuracy against
    epochs and against seconds since its start, both on log axes (a one-epoch run and a 60-epoch run
    share the plot). Held-out is the test curve where a run tracked one (its validation split
    flatters; the run's name says "test"), else validation. `runs`: (label, points)."""
    rows = []
    for label, points in runs:
        pts = [p for p in points if (p.get("progress") or 0) > 0]
        test = bool(pts) and all(p.get("test_acc") is not None for p in pts)
        name = f"{label} (test)" if test else label
        rows += [{"epochs done": float(p["progress"]), "seconds": max(round(float(p.get("elapsed") or 0.0), 2), 0.01),
                  "held-out accuracy": float(p["test_acc"] if test else p["val_acc"]), "run": name} for p in pts]
    panels = [_panel(rows, _x("epochs done", log=True), "held-out accuracy", "run", None, "against epochs"),
              _panel(rows, _x("seconds", log=True), "held-out accuracy", "run", None, "against seconds of training")]
    heading = "Runs side by side: validation accuracy (test where marked)" if rows else "No runs yet"
    return {"$schema": VEGA_LITE, "title": {"text": heading, "fontSize": 11}, "hconcat": panels,
            "resolve": {"scale": {"color": "shared"}}}


def chart(spec: dict[str, Any]) -> PlotData:
    """A Vega-Lite chart as a `gr.Plot` value: the page draws it (Gradio's Altair path, Vega inside),
    as SVG, without Vega's export menu."""
    embed = {"usermeta": {"embedOptions": {"renderer": "svg", "actions": False}}}
    return PlotData(type="altair", plot=json.dumps({**spec, **embed}))


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


def sparkline(points: Sequence[dict[str, Any]], width: int = 90, height: int = 22) -> str:
    """A run's held-out accuracy against epochs as a small inline SVG, for tables of many runs
    (empty for a run without a curve)."""
    xy = [(float(p.get("progress") or p.get("epoch") or 0), float(p["val_acc"])) for p in points
          if p.get("val_acc") is not None]
    if not xy:
        return ""
    x0, x1 = 0.0, max(x for x, _ in xy) or 1.0
    y0, y1 = min(y for _, y in xy), max(y for _, y in xy)
    span = (y1 - y0) or 1.0

    def at(x: float, y: float) -> str:
        return f"{2 + (x - x0) / (x1 - x0) * (width - 4):.1f},{height - 2 - (y - y0) / span * (height - 4):.1f}"

    line = " ".join(at(x, y) for x, y in xy)
    last = at(*xy[-1]).split(",")
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="validation accuracy {xy[0][1]:.1%} to {xy[-1][1]:.1%}">'
            f'<polyline points="{line}" fill="none" stroke="{_ACCENT}" stroke-width="1.5"/>'
            f'<circle cx="{last[0]}" cy="{last[1]}" r="2" fill="{_ACCENT}"/></svg>')


def examples_spec(curve: Sequence[dict[str, float]], title: str) -> dict[str, Any]:
    """Accuracy on held-out examples against the examples a label a model was taught (mean, and the
    range over draws), as a Vega-Lite chart the page draws."""
    rows = [{"examples a class": int(p["examples"]), "accuracy": round(float(p["mean"]), 4),
             "low": round(float(p["min"]), 4), "high": round(float(p["max"]), 4)} for p in curve]
    x = {"field": "examples a class", "type": "quantitative", "axis": {"format": "d", "tickMinStep": 1},
         "scale": {"domainMin": 0}}
    y = {"field": "accuracy", "type": "quantitative", "scale": {"domain": [0, 1]}, "axis": {"format": "%"}}
    return {"$schema": VEGA_LITE, "title": title, "width": 300, "height": 180, "data": {"values": rows},
            "layer": [{"mark": {"type": "errorbar", "color": _MUTED},
                       "encoding": {"x": x, "y": {**y, "field": "low"}, "y2": {"field": "high"}}},
                      {"mark": {"type": "line", "point": True, "tooltip": True, "color": _ACCENT},
                       "encoding": {"x": x, "y": y}}]}
