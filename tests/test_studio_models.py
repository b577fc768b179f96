"""studio.models: each session's own model choice, freeing sessions, and saved weights files."""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch

from classifier import data, paths
from classifier.models import checkpoint
from classifier.models.mlp import MLP, MLPConfig
from classifier.serving.predict import Predictor
from classifier.training import presets
from classifier.training.report import build_report
from studio import models


def _checkpoint(bias_class: int, dataset: str = "digits") -> checkpoint.Checkpoint:
    spec = data.DATASETS[dataset]
    model = MLP(MLPConfig(hidden=[8], n_classes=len(spec.classes), batchnorm=False))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.net[-1].bias[bias_class] = 10.0  # always predicts bias_class
    return checkpoint.Checkpoint(model.eval(), spec.weights_meta(model.config))


def _run(number: int, bias_class: int, dataset: str = "digits") -> models.Run:
    """A finished run whose model always answers `bias_class`."""
    ckpt = _checkpoint(bias_class, dataset)
    spec = data.DATASETS[dataset]
    images = torch.zeros(4, 28, 28, dtype=torch.uint8)
    report = build_report(ckpt.model, images, torch.zeros(4, dtype=torch.long), list(spec.classes),
                          spec.normalization)
    return models.Run(number, "quick", presets.get("quick").config(dataset), [], report, ckpt, 1.0, "cpu")


def _top(predictor: Predictor) -> str:
    probs = predictor.predict(np.zeros((28, 28), np.uint8))
    return max(probs, key=probs.get)


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> models.Sessions:
    fresh = models.Sessions()
    monkeypatch.setattr(models, "SESSIONS", fresh)
    return fresh


@pytest.fixture
def weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(paths, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(models, "SAVING", models.Saving(enabled=True))
    return tmp_path


class Request:
    session_hash = "a"


def test_one_sessions_choice_leaves_the_others_alone(sessions: models.Sessions) -> None:
    shipped = models.SHIPPED["digits"]
    sessions.edit("a").use_run("digits", Predictor(_checkpoint(3)))
    assert _top(models.predictor_for("digits", "a")) == "3"
    assert models.predictor_for("digits", "b") is shipped  # never touched anything: the shipped model
    assert models.predictor_for("digits", "a", "digits") is shipped  # a name passed explicitly wins
    with pytest.raises(models.ModelChoiceError, match="no trained digits model in use"):
        models.predictor_for("digits", "b", models.SESSION_RUN)
    assert [n for _, n in models.choices("digits", "a")][-1] == models.SESSION_RUN
    assert models.choices("digits", "a")[-1][0] == sessions.get("a").used["digits"].name   # named for its run
    assert models.SESSION_RUN not in [n for _, n in models.choices("digits", "b")]


def test_the_shipped_model_again_after_a_run(sessions: models.Sessions) -> None:
    s = sessions.edit("a")
    s.use_run("digits", Predictor(_checkpoint(3)))
    s.use_shipped("digits")
    assert models.predictor_for("digits", "a") is models.SHIPPED["digits"]


def test_choosing_the_data_sets_own_name_is_the_shipped_model(sessions: models.Sessions) -> None:
    s = sessions.edit("a")
    s.use_run("digits", Predictor(_checkpoint(3)))
    s.choose("digits", "digits")
    assert models.predictor_for("digits", "a") is models.SHIPPED["digits"]


def test_a_sessions_hand_shape_model_is_its_own(sessions: models.Sessions) -> None:
    own = Predictor(models.SHIPPED["handshape"].checkpoint, "taught")
    sessions.edit("a").use_run("handshape", own)
    assert (models.own_model("handshape", "a"), models.own_model("handshape", "b")) == (own, None)


def test_the_shipped_hand_shape_model_again(sessions: models.Sessions) -> None:
    s = sessions.edit("a")
    s.use_run("handshape", Predictor(models.SHIPPED["handshape"].checkpoint, "taught"))
    s.use_shipped("handshape")
    assert models.own_model("handshape", "a") is None


def test_a_held_predictor_keeps_its_answers_when_the_session_switches(sessions: models.Sessions) -> None:
    s = sessions.edit("a")
    s.use_run("digits", Predictor(_checkpoint(1)))
    held = models.predictor_for("digits", "a")  # a request in flight took this one
    s.use_run("digits", Predictor(_checkpoint(7)))
    assert _top(held) == "1"
    assert _top(models.predictor_for("digits", "a")) == "7"


def test_ending_a_session_frees_its_models_and_stops_its_run(sessions: models.Sessions) -> None:
    s = sessions.edit("a")
    s.add_run(_run(1, 2))
    s.used["digits"] = Predictor(s.runs[0].checkpoint)
    s.stop = threading.Event()
    stop = s.stop
    alive = weakref.ref(s.runs[0].checkpoint.model)
    del s
    sessions.end("a")
    gc.collect()
    assert alive() is None
    assert len(sessions) == 0
    assert stop.is_set()
    assert models.predictor_for("digits", "a") is models.SHIPPED["digits"]


def test_idle_sessions_are_dropped_but_not_while_training() -> None:
    sessions = models.Sessions(idle_seconds=0.05)
    sessions.edit("idle").add_run(_run(1, 2))
    sessions.edit("training").stop = threading.Event()
    time.sleep(0.1)
    sessions.edit("active")
    assert sessions.get("idle") is None
    assert sessions.get("training") is not None
    assert len(sessions) == 2


def test_saved_files_are_listed_loaded_once_and_checked(weights_dir: Path) -> None:
    mine = _checkpoint(4)
    path = checkpoint.save(weights_dir / "mine.safetensors", mine.model, mine.meta)
    sign = _checkpoint(5, "signs")
    checkpoint.save(weights_dir / "a-sign.safetensors", sign.model, sign.meta)
    (weights_dir / "junk.safetensors").write_bytes(b"not weights")
    assert models.saved_names("digits") == ["mine"]
    assert models.saved_names("signs") == ["a-sign"]
    first = models.load_saved("digits", "mine")
    assert _top(first) == "4"
    assert models.load_saved("digits", "mine") is first  # cached
    other = _checkpoint(6)
    checkpoint.save(path, other.model, other.meta)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a rewritten file is a new model
    assert _top(models.load_saved("digits", "mine")) == "6"
    with pytest.raises(models.ModelChoiceError, match="for 'signs', not 'digits'"):
        models.load_saved("digits", "a-sign")
    with pytest.raises(models.ModelChoiceError, match="no weights file nope.safetensors"):
        models.load_saved("digits", "nope")
    with pytest.raises(models.ModelChoiceError, match="not a weights name"):
        models.load_saved("digits", "../etc/passwd")
    with pytest.raises(models.ModelChoiceError, match="junk.safetensors"):
        models.load_saved("digits", "junk")


def test_saving_never_overwrites(weights_dir: Path, sessions: models.Sessions) -> None:
    from studio import train_tab

    sessions.edit("a").add_run(_run(1, 3))
    first, path1 = train_tab.save_model("mine", request=Request())
    second, path2 = train_tab.save_model("mine.safetensors", request=Request())
    assert first.startswith("Saved ")
    assert "exists" not in first
    assert Path(path1).name == "mine.safetensors"
    assert Path(path2).name == "mine-2.safetensors"
    assert "exists already" in second
    assert "mine-2.safetensors" in second
    assert _top(models.load_saved("digits", "mine")) == _top(models.load_saved("digits", "mine-2")) == "3"


def test_a_session_keeps_its_runs_and_picks_one(sessions: models.Sessions, weights_dir: Path) -> None:
    """Two runs in one session are both listed; the one picked is the one used and saved."""
    from studio import train_tab

    s = sessions.edit("a")
    s.add_run(_run(1, 4))
    s.add_run(_run(2, 6))
    table = train_tab.runs_table(s.runs)
    assert [row[0] for row in table] == [1, 2]
    assert table[0][1] == "quick"
    assert s.find_run(None).number == 2
    assert s.find_run("1").number == 1
    assert s.find_run("9") is None
    assert "#1" in train_tab.use_model("1", Request())
    assert _top(models.predictor_for("digits", "a")) == "4"
    assert "#2" in train_tab.use_model("", Request())  # empty: the latest run
    assert _top(models.predictor_for("digits", "a")) == "6"
    message, path = train_tab.save_model("first", "1", Request())
    assert "run #1" in message
    assert _top(models.load_saved("digits", "first")) == "4"
    assert Path(train_tab.download_model("2", Request())).name == "digits-run2-quick.safetensors"
    with pytest.raises(Exception, match="no run #9"):
        train_tab.use_model("9", Request())
    for n in range(3, models.MAX_RUNS + 3):
        s.add_run(_run(n, 1))
    assert len(s.runs) == models.MAX_RUNS
    assert s.runs[0].number == 3  # the oldest go first


def test_saving_is_off_unless_the_app_is_started_with_it(weights_dir: Path, sessions: models.Sessions,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from studio import train_tab

    monkeypatch.setattr(models, "SAVING", models.Saving())
    sessions.edit("a").add_run(_run(1, 3))
    with pytest.raises(gr.Error, match="--save-to-weights"):
        train_tab.save_model("mine", request=Request())
    assert list(weights_dir.iterdir()) == []
    assert Path(train_tab.download_model(request=Request())).is_file()  # downloading still works


def test_saving_stops_at_the_servers_limits(weights_dir: Path, sessions: models.Sessions,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from studio import train_tab

    sessions.edit("a").add_run(_run(1, 3))
    monkeypatch.setattr(models, "SAVING", models.Saving(enabled=True, max_files=2))
    train_tab.save_model("one", request=Request())
    train_tab.save_model("two", request=Request())
    with pytest.raises(gr.Error, match="at most 2 files"):
        train_tab.save_model("three", request=Request())
    assert sorted(p.name for p in weights_dir.iterdir()) == ["one.safetensors", "two.safetensors"]
    size = (weights_dir / "one.safetensors").stat().st_size
    monkeypatch.setattr(models, "SAVING", models.Saving(enabled=True, max_bytes=int(2.5 * size)))
    with pytest.raises(gr.Error, match="MB"):
        train_tab.save_model("three", request=Request())
    assert not (weights_dir / "three.safetensors").exists()


def test_shipped_files_do_not_count_as_saved(weights_dir: Path) -> None:
    for name in ("digits", "signs", "hand_locator", "mine"):
        (weights_dir / f"{name}.safetensors").write_bytes(b"x")
    assert [p.name for p in models.saved_files()] == ["mine.safetensors"]
