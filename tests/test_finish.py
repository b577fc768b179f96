"""classifier.training.finish: a trained model made servable, by the trainer and by train.py --calibrate alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import train
from classifier import data
from classifier.inputs import DRAWING
from classifier.inputs import kind as kinds
from classifier.models import checkpoint
from classifier.training import finish
from classifier.training.trainer import TrainConfig, Trainer
from tests.conftest import synthetic_splits


def _run_counting_calibration(monkeypatch: pytest.MonkeyPatch, dataset: str, purpose: str,
                              make: Callable[[np.ndarray], Any]) -> tuple[Trainer, list[int]]:
    """A one-epoch run on synthetic rows; its data set's calibration inputs (its kind's
    `calibration_makers()[purpose]`) are made by `make`, and the number of rows each making is given is counted."""
    made: list[int] = []
    spec = data.get_spec(dataset)
    monkeypatch.setattr(kinds, "_made", {})
    monkeypatch.setattr(spec.kind, "calibration_makers",
                        lambda: {purpose: lambda rows: made.append(len(rows)) or make(rows)})
    run = Trainer(TrainConfig(dataset=dataset, hidden=[32], epochs=1, batch_size=64, augment=False),
                  splits=synthetic_splits(600, 100, 400, n_classes=len(spec.classes)), finish=finish.finish)
    list(run.fit())
    return run, made


@pytest.fixture
def signs_run(monkeypatch: pytest.MonkeyPatch) -> tuple[Trainer, list[int]]:
    # A stand-in for the slow real-picture maker: every three rows are one picture's squares.
    return _run_counting_calibration(monkeypatch, "signs", "pictures",
                                     lambda rows: [rows[i:i + 3] for i in range(0, len(rows) - 3, 3)])


@pytest.fixture
def digits_run(monkeypatch: pytest.MonkeyPatch) -> tuple[Trainer, list[int]]:
    return _run_counting_calibration(monkeypatch, "digits", "as_given", DRAWING.drawn)


# Photos calibrate on real pictures' squares, drawings on the rows drawn and read back.
RUNS = ["signs_run", "digits_run"]


@pytest.mark.parametrize("run_fixture", RUNS)
def test_a_run_needs_its_calibration_inputs_made_first(run_fixture: str, request: pytest.FixtureRequest) -> None:
    run, _ = request.getfixturevalue(run_fixture)
    assert not finish.ready(run.spec, run.splits)


@pytest.mark.parametrize("run_fixture", RUNS)
def test_prepare_makes_them_from_the_calibration_half(run_fixture: str, request: pytest.FixtureRequest) -> None:
    run, made = request.getfixturevalue(run_fixture)
    finish.prepare(run.spec, run.splits)
    assert (finish.ready(run.spec, run.splits), made) == (True, [200])


@pytest.mark.parametrize("run_fixture", RUNS)
def test_they_are_made_once_per_process(run_fixture: str, request: pytest.FixtureRequest) -> None:
    run, made = request.getfixturevalue(run_fixture)
    finish.prepare(run.spec, run.splits)
    run.checkpoint(0.5)
    assert made == [200]


def test_a_finished_signs_model_judges_whole_pictures(signs_run: tuple[Trainer, list[int]]) -> None:
    run, _ = signs_run
    assert run.checkpoint(0.5).ood.picture_threshold is not None


def test_a_finished_digits_model_is_calibrated_on_drawings_as_read(digits_run: tuple[Trainer, list[int]]) -> None:
    run, _ = digits_run
    assert "as the app reads them" in run.checkpoint(0.5).ood.calibrated_on


def test_a_finished_digits_model_has_no_picture_threshold(digits_run: tuple[Trainer, list[int]]) -> None:
    run, _ = digits_run
    assert run.checkpoint(0.5).ood.picture_threshold is None


def test_hand_shapes_say_not_sure_by_their_threshold() -> None:
    spec = data.get_spec("handshape")
    g = torch.Generator().manual_seed(0)

    def rows(n: int) -> tuple[torch.Tensor, torch.Tensor]:  # landmark rows: 63 floats each
        return torch.randn(n, spec.in_features, generator=g), torch.randint(0, 24, (n,), generator=g)

    run = Trainer(TrainConfig(dataset="handshape", hidden=[16], epochs=1, batch_size=64, augment=False),
                  splits=data.Splits(*rows(300), *rows(50), *rows(100)), finish=finish.finish)
    list(run.fit())
    finished = run.checkpoint(0.5)
    assert (finished.ood, finished.meta["not_sure_below"]) == (None, spec.not_sure_below)


def test_calibrate_finishes_a_file_as_training_did(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.safetensors"
    assert train.main(["digits", "--preset", "quick", "--data-dir", str(tiny_data), "--hidden", "16",
                       "--output", str(out), "--no-progress"]) == 0
    trained = checkpoint.load(out)
    checkpoint.save(out, trained.model, {k: v for k, v in trained.meta.items() if k != "ood"})
    assert train.main(["--calibrate", str(out), "--data-dir", str(tiny_data)]) == 0
    assert checkpoint.load(out).ood.threshold == trained.ood.threshold
