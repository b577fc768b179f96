"""studio.plots: what the Train tab's figures show."""

from __future__ import annotations

from studio import plots


def _points(accuracies: list[float]) -> list[dict[str, float]]:
    return [{"progress": i + 1.0, "elapsed": 2.0 * (i + 1), "val_acc": a} for i, a in enumerate(accuracies)]


def test_comparing_runs_shows_every_point_of_every_run() -> None:
    figure = plots.compare_runs([("#1 linear", _points([0.62, 0.85, 0.90, 0.91, 0.92])),
                                 ("#2 quick", _points([0.95, 0.97, 0.98]))])
    low, high = figure.axes[0].get_ylim()
    assert low <= 0.62
    assert high >= 0.98
