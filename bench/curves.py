"""What one update of the Train tab's curves costs the app's process: the points as a Vega-Lite
chart the page draws (`train_tab.curve_plot`), against a Matplotlib picture of the same two curves
(how a server-rendered curve is sent). Both are timed
through the component's own `postprocess`, as Gradio runs it for each update, holding Python's lock:
every request of the process waits behind it.

    python -m bench.curves [--points 40] [--repeats 20]

The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import gradio as gr
import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from studio import train_tab  # noqa: E402


def points(n: int) -> list[dict[str, float]]:
    """A run's curve: `n` points, 8 an epoch, loss falling and accuracy rising."""
    return [{"epoch": 1 + i // 8, "progress": (i + 1) / 8, "train_loss": 2.0 / (i + 2), "val_loss": 1.8 / (i + 2),
             "train_acc": 1 - 0.5 / (i + 2), "val_acc": 1 - 0.45 / (i + 2)} for i in range(n)]


def picture(history: list[dict[str, float]]) -> Figure:
    """The same two curves as one Matplotlib figure: loss and accuracy against epochs done."""
    fig = Figure(figsize=(9, 2.9), layout="constrained")
    x = [h["progress"] for h in history]
    for ax, key in zip(fig.subplots(1, 2), ("loss", "acc"), strict=True):
        ax.plot(x, [h[f"train_{key}"] for h in history], "o-", label="train")
        ax.plot(x, [h[f"val_{key}"] for h in history], "o-", label="validation")
        ax.legend(fontsize=8)
        ax.set_xlabel("epochs done")
        ax.grid(alpha=0.3)
    return fig


def timed(fn, repeats: int) -> float:
    """Median seconds of `fn()` over `repeats` calls, after one to warm up."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=40)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args()
    history = points(args.points)
    plot = gr.Plot()

    def as_data() -> None:
        plot.postprocess(train_tab.curve_plot(history, title="#1 quick · digits"))

    data_s = timed(as_data, args.repeats)
    picture_s = timed(lambda: plot.postprocess(picture(history)), args.repeats)
    result = {"points": args.points, "vega_lite_chart_ms": round(data_s * 1000, 2),
              "matplotlib_picture_ms": round(picture_s * 1000, 1), "ratio": round(picture_s / data_s, 1)}
    print(f"one curve update, {args.points} points: a Vega-Lite chart {result['vega_lite_chart_ms']} ms, "
          f"a Matplotlib picture {result['matplotlib_picture_ms']} ms ({result['ratio']}x)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
