"""studio.plots: what the Train tab's curves, runs compared, confusion matrix and mistakes show."""

from __future__ import annotations

import numpy as np

from classifier.training.report import Example
from studio import plots


def _points(accuracies: list[float]) -> list[dict[str, float]]:
    return [{"progress": i + 1.0, "elapsed": 2.0 * (i + 1), "val_acc": a, "val_loss": 1 - a, "train_acc": a,
             "train_loss": 1 - a, "epoch": i + 1} for i, a in enumerate(accuracies)]


def test_comparing_runs_gives_every_point_of_every_run() -> None:
    frame = plots.compare_frame([("#1 linear", _points([0.62, 0.85, 0.90, 0.91, 0.92])),
                                 ("#2 quick", _points([0.95, 0.97, 0.98]))])
    assert sorted(frame["held-out accuracy"]) == sorted([0.62, 0.85, 0.90, 0.91, 0.92, 0.95, 0.97, 0.98])


def test_comparing_runs_names_each_run() -> None:
    frame = plots.compare_frame([("#1 linear", _points([0.9])), ("#2 quick", _points([0.95]))])
    assert list(frame["run"]) == ["#1 linear", "#2 quick"]


def test_a_run_tracking_the_test_set_is_compared_on_it() -> None:
    points = [{**p, "test_acc": 0.5} for p in _points([0.9, 0.95])]
    frame = plots.compare_frame([("#1 signs", points)])
    assert list(frame["held-out accuracy"]) == [0.5, 0.5]


def test_curves_give_train_and_validation_per_point() -> None:
    loss, accuracy = plots.curve_frames(_points([0.5, 0.7]))
    assert sorted(zip(accuracy["curve"], accuracy["accuracy"], strict=True)) == [
        ("train", 0.5), ("train", 0.7), ("validation", 0.5), ("validation", 0.7)]


def test_curves_mark_a_flattering_validation_split() -> None:
    loss, _ = plots.curve_frames(_points([0.5]), validation_note="the validation split is easy")
    assert set(loss["curve"]) == {"train", "validation (optimistic)"}


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
