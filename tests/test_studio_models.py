"""studio.models: each project's own model choice, sessions in this process, and saved weights files."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from classifier import data, paths
from classifier.models import checkpoint
from classifier.serving.predict import Predictor
from classifier.training import presets
from classifier.training.report import build_report
from studio import models, projects
from tests.conftest import constant_checkpoint

_checkpoint = constant_checkpoint


def _run(pid: int, bias_class: int, dataset: str = "digits") -> projects.Run:
    """A finished run of project `pid` whose model always answers `bias_class`."""
    ckpt = _checkpoint(bias_class, dataset)
    spec = data.DATASETS[dataset]
    images = torch.zeros(4, 28, 28, dtype=torch.uint8)
    report = build_report(ckpt.model, images, torch.zeros(4, dtype=torch.long), list(spec.classes),
                          spec.normalization)
    return projects.add_run(pid, "quick", presets.get("quick").config(dataset), report, ckpt, 1.0, "cpu")


def _top(predictor: Predictor) -> str:
    probs = predictor.predict(np.zeros((28, 28), np.uint8))
    return max(probs, key=probs.get)


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> models.Sessions:
    """A fresh store and fresh in-process sessions."""
    projects.configure(f"sqlite:///{tmp_path / 'store.db'}")
    fresh = models.Sessions()
    monkeypatch.setattr(models, "SESSIONS", fresh)
    yield fresh
    projects.configure(None)


@pytest.fixture
def weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setattr(paths, "WEIGHTS_DIR", folder)
    monkeypatch.setattr(models, "SAVING", models.Saving(enabled=True))
    return folder


class Request:
    session_hash = "a"


def test_one_projects_choice_leaves_the_others_alone(sessions: models.Sessions) -> None:
    shipped = models.SHIPPED["digits"]
    pid = projects.project("a")
    projects.use_run(pid, "digits", _run(pid, 3))
    assert _top(models.predictor_for("digits", "a")) == "3"
    assert models.predictor_for("digits", "b") is shipped  # never touched anything: the shipped model
    assert models.predictor_for("digits", "a", "digits") is shipped  # a name passed explicitly wins
    with pytest.raises(models.ModelChoiceError, match="no trained digits model of its own"):
        models.predictor_for("digits", "b", models.OWN_MODEL)
    assert [n for _, n in models.choices("digits", "a")][-1] == models.OWN_MODEL
    assert models.choices("digits", "a")[-1][0].startswith("run #1 quick")   # named for its run
    assert models.OWN_MODEL not in [n for _, n in models.choices("digits", "b")]


def test_two_sessions_in_one_project_share_its_choice(sessions: models.Sessions) -> None:
    pid = projects.project("a")
    projects.use_run(pid, "digits", _run(pid, 3))
    projects.open_key("tab-2", projects.key("a"))
    assert _top(models.predictor_for("digits", "tab-2")) == "3"


def test_the_shipped_model_again_after_a_run(sessions: models.Sessions) -> None:
    pid = projects.project("a")
    projects.use_run(pid, "digits", _run(pid, 3))
    projects.choose(pid, "digits", "")
    assert models.predictor_for("digits", "a") is models.SHIPPED["digits"]
    assert models.OWN_MODEL in [n for _, n in models.choices("digits", "a")]   # still on the menu


def test_choosing_the_data_sets_own_name_is_the_shipped_model(sessions: models.Sessions) -> None:
    pid = projects.project("a")
    projects.use_run(pid, "digits", _run(pid, 3))
    projects.choose(pid, "digits", "digits")
    assert models.predictor_for("digits", "a") is models.SHIPPED["digits"]


def test_a_projects_hand_shape_model_is_its_own(sessions: models.Sessions) -> None:
    pid = projects.project("a")
    projects.use_taught(pid, "handshape", models.SHIPPED["handshape"].checkpoint, "taught")
    assert models.own_model("handshape", "a").name == "taught"
    assert models.own_model("handshape", "b") is None


def test_the_shipped_hand_shape_model_again(sessions: models.Sessions) -> None:
    pid = projects.project("a")
    projects.use_taught(pid, "handshape", models.SHIPPED["handshape"].checkpoint, "taught")
    projects.forget_own(pid, "handshape")
    assert models.own_model("handshape", "a") is None


def test_a_held_predictor_keeps_its_answers_when_the_project_switches(sessions: models.Sessions) -> None:
    pid = projects.project("a")
    projects.use_run(pid, "digits", _run(pid, 1))
    held = models.predictor_for("digits", "a")  # a request in flight took this one
    projects.use_run(pid, "digits", _run(pid, 7))
    assert _top(held) == "1"
    assert _top(models.predictor_for("digits", "a")) == "7"


def test_ending_a_session_stops_its_run_and_keeps_its_project(sessions: models.Sessions) -> None:
    pid = projects.project("a")
    projects.use_run(pid, "digits", _run(pid, 2))
    s = sessions.edit("a")
    stop = threading.Event()
    s.stop = stop.set
    sessions.end("a")
    assert len(sessions) == 0
    assert stop.is_set()
    assert _top(models.predictor_for("digits", "a")) == "2"


def test_idle_sessions_are_dropped_but_not_while_training() -> None:
    sessions = models.Sessions(idle_seconds=0.05)
    sessions.edit("idle")
    sessions.edit("training").stop = threading.Event().set
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

    _run(projects.project("a"), 3)
    first, path1 = train_tab.save_model("mine", request=Request())
    second, path2 = train_tab.save_model("mine.safetensors", request=Request())
    assert first.startswith("Saved ")
    assert "exists" not in first
    assert Path(path1).name == "mine.safetensors"
    assert Path(path2).name == "mine-2.safetensors"
    assert "exists already" in second
    assert "mine-2.safetensors" in second
    assert _top(models.load_saved("digits", "mine")) == _top(models.load_saved("digits", "mine-2")) == "3"


def test_a_project_keeps_its_runs_and_picks_one(sessions: models.Sessions, weights_dir: Path) -> None:
    """Two runs in one project are both listed; the one picked is the one used and saved."""
    from studio import train_tab

    pid = projects.project("a")
    _run(pid, 4)
    _run(pid, 6)
    table = train_tab.runs_table(projects.runs(pid))
    assert [row[0] for row in table] == [1, 2]
    assert table[0][1] == "quick"
    assert projects.find_run(pid, None).number == 2
    assert projects.find_run(pid, "1").number == 1
    assert projects.find_run(pid, "9") is None
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
    train_tab.use_model("1", Request())
    for _ in range(3, models.MAX_RUNS + 3):
        _run(pid, 1)
    kept = [r.number for r in projects.runs(pid)]
    assert len(kept) == models.MAX_RUNS
    assert kept[:2] == [1, 4]   # the oldest go first, but not the one in use


def test_saving_is_off_unless_the_app_is_started_with_it(weights_dir: Path, sessions: models.Sessions,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from studio import train_tab

    monkeypatch.setattr(models, "SAVING", models.Saving())
    _run(projects.project("a"), 3)
    with pytest.raises(gr.Error, match="--save-to-weights"):
        train_tab.save_model("mine", request=Request())
    assert list(weights_dir.iterdir()) == []
    assert Path(train_tab.download_model(request=Request())).is_file()  # downloading still works


def test_saving_stops_at_the_servers_limits(weights_dir: Path, sessions: models.Sessions,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from studio import train_tab

    _run(projects.project("a"), 3)
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
