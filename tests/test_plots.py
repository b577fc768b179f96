"""studio.plots: what the Train tab's curves, runs compared, confusion matrix and mistakes show."""

from __future__ import annotations

import json

import numpy as np

from classifier.training.report import Example
from studio import plots


def _points(accuracies: list[float]) -> list[dict[str, float]]:
    return [{"progress": i + 1.0, "elapsed": 2.0 * (i + 1), "val_acc": a, "val_loss": 1 - a, "train_acc": a,
             "train_loss": 1 - a, "epoch": i + 1} for i, a in enumerate(accuracies)]


def _rows(spec: dict, panel: int = 0) -> list[dict]:
    return spec["hconcat"][panel]["data"]["values"]


def test_comparing_runs_gives_every_point_of_every_run() -> None:
    spec = plots.compare_spec([("#1 linear", _points([0.62, 0.85, 0.90, 0.91, 0.92])),
                               ("#2 quick", _points([0.95, 0.97, 0.98]))])
    assert sorted(r["held-out accuracy"] for r in _rows(spec)) == [0.62, 0.85, 0.90, 0.91, 0.92, 0.95, 0.97, 0.98]


def test_comparing_runs_fits_every_point_on_the_accuracy_axis() -> None:
    spec = plots.compare_spec([("#1 linear", _points([0.62, 0.92]))])
    assert spec["hconcat"][0]["encoding"]["y"]["scale"] == {"zero": False}


def test_comparing_runs_names_each_run() -> None:
    spec = plots.compare_spec([("#1 linear", _points([0.9])), ("#2 quick", _points([0.95]))])
    assert [r["run"] for r in _rows(spec)] == ["#1 linear", "#2 quick"]


def test_comparing_runs_puts_epochs_and_seconds_on_log_axes() -> None:
    spec = plots.compare_spec([("#1 linear", _points([0.9]))])
    assert [p["encoding"]["x"]["scale"]["type"] for p in spec["hconcat"]] == ["log", "log"]


def test_a_run_tracking_the_test_set_is_compared_on_it() -> None:
    points = [{**p, "test_acc": 0.5} for p in _points([0.9, 0.95])]
    assert [r["held-out accuracy"] for r in _rows(plots.compare_spec([("#1 signs", points)]))] == [0.5, 0.5]


def test_curves_give_train_and_validation_per_point() -> None:
    spec = plots.curves_spec(_points([0.5, 0.7]))
    assert sorted((r["curve"], r["accuracy"]) for r in _rows(spec, 1)) == [
        ("train", 0.5), ("train", 0.7), ("validation", 0.5), ("validation", 0.7)]


def test_a_one_point_curve_is_drawn_as_a_dot() -> None:
    spec = plots.curves_spec(_points([0.8]))
    assert spec["hconcat"][1]["mark"]["point"] is True


def test_curves_mark_a_flattering_validation_split() -> None:
    spec = plots.curves_spec(_points([0.5]), validation_note="the validation split is easy")
    assert {r["curve"] for r in _rows(spec)} == {"train", "validation (optimistic)"}


def test_a_chart_is_a_plot_value_the_page_draws() -> None:
    value = plots.chart(plots.curves_spec(_points([0.5])))
    assert value.type == "altair"
    assert json.loads(value.plot)["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_the_confusion_matrix_numbers_every_pair_and_marks_the_weakest_class() -> None:
    page = plots.confusion_html(np.array([[9, 1], [4, 6]]), ["a", "b"])
    assert 'title="true b, predicted a: 4"' in page
    assert "lowest: b 60.0%" in page


def test_mistakes_show_a_picture_for_each_row_and_a_skeleton_for_a_hand() -> None:
    image = Example(0, np.zeros((28, 28), np.uint8), "3", "8", 0.9)
    hand = Example(1, np.random.default_rng(0).normal(size=63).astype(np.float32), "A", "S", 0.6)
    page = plots.mistakes_html([image, hand])
    assert page.count("<img") == 2
    assert "A (S) 60%" in page


def test_the_examples_chart_has_a_point_a_size_with_its_range() -> None:
    spec = plots.examples_spec([{"examples": 1, "mean": 0.8, "min": 0.7, "max": 0.9},
                                {"examples": 2, "mean": 0.9, "min": 0.85, "max": 0.95}], "t")
    assert [(r["examples a class"], r["low"], r["high"]) for r in spec["data"]["values"]] == [(1, 0.7, 0.9),
                                                                                            (2, 0.85, 0.95)]
