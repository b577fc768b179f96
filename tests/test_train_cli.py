"""train.py: training, --dry-run, --evaluate, errors; and the shipped weights on the real test sets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import train
from classifier import paths
from classifier.models import checkpoint, preprocess
from tests.conftest import ROOT, synthetic_images, write_sign_csv

# Figures each shipped model must reach (the targets) on the real test sets.
TARGETS = {"digits": 0.992, "signs": 0.98, "fashion": 0.90}


def run_cli(*args: str) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "train.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    return proc.returncode, proc.stdout, proc.stderr


def test_dry_run_writes_nothing(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.safetensors"
    code, stdout, stderr = run_cli("digits", "--preset", "quick", "--data-dir", str(tiny_data), "--dry-run",
                                   "--output", str(out), "--hidden", "16")
    assert code == 0, stderr
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["epochs"] == 1
    assert result["output"] is None
    assert "epoch 1/1" in stderr
    assert not out.exists()


def test_train_then_evaluate(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny.safetensors"
    code = train.main(["fashion", "--data-dir", str(tiny_data), "--epochs", "3", "--hidden", "32",
                       "--lr", "0.01", "--no-augment", "--output", str(out), "--no-progress", "--seed", "3"])
    assert code == 0
    meta = checkpoint.read_meta(out)
    assert meta["dataset"] == "fashion"
    assert meta["seed"] == 3
    assert meta["epochs"] == 3
    assert meta["classes"][0] == "T-shirt/top"
    assert meta["command"].startswith("python train.py fashion")
    assert meta["train_config"]["hidden"] == [32]
    assert meta["augment"] is None
    code, stdout, stderr = run_cli("--evaluate", str(out), "--data-dir", str(tiny_data))
    assert code == 0, stderr
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result == {"dataset": "fashion", "test_accuracy": meta["test_accuracy"], "n": 200}
    assert result["test_accuracy"] > 0.9


def test_calibrate_adds_a_detector_and_leaves_the_weights(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.safetensors"
    assert train.main(["digits", "--preset", "quick", "--data-dir", str(tiny_data), "--hidden", "16",
                       "--output", str(out), "--no-progress"]) == 0
    trained = checkpoint.load(out)
    assert trained.ood is not None  # new runs carry one already
    checkpoint.save(out, trained.model, {k: v for k, v in trained.meta.items() if k != "ood"})
    assert checkpoint.load(out).ood is None
    assert train.main(["--calibrate", str(out), "--data-dir", str(tiny_data)]) == 0
    calibrated = checkpoint.load(out)
    assert calibrated.ood is not None
    assert calibrated.meta["ood"]["flag_rate"] == 0.01
    assert all(torch.equal(a, b) for a, b in zip(trained.model.state_dict().values(),
                                                  calibrated.model.state_dict().values(), strict=True))


def test_signs_on_small_csv(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.safetensors"
    assert train.main(["signs", "--data-dir", str(tiny_data), "--epochs", "2", "--hidden", "16",
                       "--output", str(out), "--no-progress"]) == 0
    meta = checkpoint.read_meta(out)
    assert len(meta["classes"]) == 24
    assert meta["preprocessing"]["normalization"] == {"kind": "per_image"}


def test_calibrate_judges_sign_photos_whole(tiny_data: Path, tmp_path: Path) -> None:
    """--calibrate reads the file's input pipeline: a signs file gets the whole-picture threshold too."""
    out = tmp_path / "s.safetensors"
    assert train.main(["signs", "--data-dir", str(tiny_data), "--epochs", "1", "--hidden", "16",
                       "--output", str(out), "--no-progress"]) == 0
    trained = checkpoint.load(out)
    assert trained.kind == "hand_photo"
    assert trained.ood.picture_threshold is not None
    checkpoint.save(out, trained.model, {k: v for k, v in trained.meta.items() if k != "ood"})
    assert train.main(["--calibrate", str(out), "--data-dir", str(tiny_data)]) == 0
    calibrated = checkpoint.load(out)
    assert calibrated.ood.picture_threshold == pytest.approx(trained.ood.picture_threshold)
    assert "real pictures" in calibrated.meta["ood"]["picture_calibrated_on"]


def test_a_new_data_set_is_one_spec_entry(tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture) -> None:
    """A fourth data set, defined by nothing but a spec over files this test writes, trains through
    train.py (its recipe, its augmentation, its label values) and evaluates with --evaluate."""
    from classifier import data
    from classifier.data import augment

    rng = np.random.default_rng(0)
    for split, n in (("train", 300), ("test", 100)):
        idx = rng.integers(0, 4, size=n)
        write_sign_csv(tmp_path / "shapes" / f"shapes_{split}.csv", np.array([10, 20, 30, 40])[idx],
                       synthetic_images(idx, 4))
    spec = data.DatasetSpec(
        "shapes", "Four shapes", ("circle", "square", "star", "cross"), "shape",
        data.CsvSource("shapes", ("shapes_train.csv", "shapes_test.csv"), label_values=(10, 20, 30, 40),
                       manual="the test that wrote it"),
        preprocess.PER_IMAGE, style="test pattern",
        augment=augment.AugmentConfig(degrees=0, scale=0.0, shift=1.0), recipe={"epochs": 3, "hidden": [32]},
    )
    monkeypatch.setitem(data.DATASETS, "shapes", spec)
    out = tmp_path / "shapes.safetensors"
    assert train.main(["shapes", "--data-dir", str(tmp_path), "--output", str(out), "--no-progress"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    meta = checkpoint.read_meta(out)
    assert meta["classes"] == list(spec.classes)
    assert meta["epochs"] == 3
    assert meta["model"]["hidden"] == [32]
    assert meta["augment"]["shift"] == 1.0
    assert meta["preprocessing"]["ink"] == "test pattern"
    assert train.main(["--evaluate", str(out), "--data-dir", str(tmp_path)]) == 0
    evaluated = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert evaluated == {"dataset": "shapes", "test_accuracy": trained["test_accuracy"], "n": 100}
    assert evaluated["test_accuracy"] > 0.9


def test_help_shows_every_default(capsys: pytest.CaptureFixture) -> None:
    settings = [a for a in train.build_parser()._actions
                if a.option_strings and a.dest not in ("help", "evaluate", "calibrate", "dry_run", "no_progress")]
    assert len(settings) >= 18
    for action in settings:
        assert "default" in (action.help or ""), action.option_strings
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    assert "default digits 60, fashion 40, signs 30" in " ".join(capsys.readouterr().out.split())


def test_bad_settings_exit_with_the_configs_message(tiny_data: Path, capsys: pytest.CaptureFixture) -> None:
    assert train.main(["digits", "--data-dir", str(tiny_data), "--lr", "5", "--dry-run"]) == 2
    assert "Learning rate must be in (0, 1] (got 5.0)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["digits", "--hidden", "12,abc"])
    assert "Hidden sizes must be whole numbers" in capsys.readouterr().err


def test_activation_takes_one_name_per_hidden_layer(tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.safetensors"
    assert train.main(["digits", "--preset", "quick", "--data-dir", str(tiny_data), "--hidden", "16,8",
                       "--activation", "relu,tanh", "--output", str(out), "--no-progress"]) == 0
    assert checkpoint.read_meta(out)["model"]["activation"] == ["relu", "tanh"]


def test_an_unknown_activation_is_refused_by_name(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        train.parse_args(["digits", "--activation", "relu,swish"])
    assert "unknown activation 'swish'" in capsys.readouterr().err


def test_val_fraction_sets_the_rows_held_out(tiny_data: Path, capsys: pytest.CaptureFixture) -> None:
    assert train.main(["digits", "--preset", "quick", "--data-dir", str(tiny_data), "--val-fraction", "0.5",
                       "--dry-run", "--no-progress"]) == 0
    assert "300 train / 300 validation rows" in capsys.readouterr().err


def test_missing_data_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert train.main(["signs", "--data-dir", str(tmp_path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "datamunge/sign-language-mnist" in err
    assert str(tmp_path.resolve() / "sign_mnist") in err


def test_bad_weights_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nonsense")
    assert train.main(["--evaluate", str(bad)]) == 2
    assert "bad.safetensors" in capsys.readouterr().err


def test_needs_dataset_or_evaluate() -> None:
    with pytest.raises(SystemExit):
        train.parse_args([])


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_shipped_weights_describe_themselves(name: str) -> None:
    meta = checkpoint.read_meta(paths.weights_path(name))
    assert meta["dataset"] == name
    assert meta["test_accuracy"] >= TARGETS[name]
    assert meta["command"].startswith(f"python train.py {name}")
    assert meta["n_test"] == {"digits": 10000, "fashion": 10000, "signs": 7172}[name]


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_shipped_weights_reach_recorded_accuracy(real_data_dir: Path, name: str) -> None:
    path = paths.weights_path(name)
    code, stdout, stderr = run_cli("--evaluate", str(path), "--data-dir", str(real_data_dir))
    assert code == 0, stderr
    result = json.loads(stdout.strip().splitlines()[-1])
    recorded = checkpoint.read_meta(path)["test_accuracy"]
    assert result["dataset"] == name
    assert result["n"] == {"digits": 10000, "fashion": 10000, "signs": 7172}[name]
    assert result["test_accuracy"] >= recorded - 0.001
    assert result["test_accuracy"] >= TARGETS[name]
