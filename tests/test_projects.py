"""studio.projects: which project a session works in, runs as the app uses them, the store opened
again after a restart, and project files."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from classifier import data
from classifier.training import presets
from classifier.training.report import build_report
from studio import models, projects
from tests.conftest import constant_checkpoint

pytestmark = pytest.mark.usefixtures("fresh_store")


_checkpoint = constant_checkpoint


def _run(pid: int, bias_class: int) -> projects.Run:
    ckpt = _checkpoint(bias_class)
    spec = data.DATASETS["digits"]
    report = build_report(ckpt.model, torch.zeros(4, 28, 28, dtype=torch.uint8), torch.full((4,), bias_class),
                          list(spec.classes), spec.normalization)
    return projects.add_run(pid, "quick", presets.get("quick").config("digits"), report, ckpt, 1.0, "cpu")


def _top(session: str) -> str:
    probs = models.predictor_for("digits", session).predict(np.zeros((28, 28), np.uint8))
    return max(probs, key=probs.get)


def test_a_page_without_a_key_gets_a_new_project() -> None:
    key, new = projects.attach("page-1", "")
    assert new
    assert projects.bound("page-1") == projects.store().project_of_key(key)


def test_a_page_with_a_key_works_in_that_project() -> None:
    key, _ = projects.attach("page-1", "")
    assert projects.attach("page-2", key) == (key, False)
    assert projects.bound("page-2") == projects.bound("page-1")


def test_a_key_that_opens_nothing_gives_a_new_project() -> None:
    key, new = projects.attach("page-1", "no-such-project-key-000000000000")
    assert new
    assert key != "no-such-project-key-000000000000"


def test_reading_never_makes_a_project() -> None:
    assert projects.bound("page-1") is None
    assert projects.runs(projects.bound("page-1")) == []
    assert models.predictor_for("digits", "page-1") is models.SHIPPED["digits"]
    assert projects.bound("page-1") is None


def test_a_restarted_app_finds_every_project_as_it_was(fresh_store: Path) -> None:
    """The store opened again (as after a restart): runs, the model in use, taught examples are back."""
    key, _ = projects.attach("page-1", "")
    pid = projects.bound("page-1")
    projects.use_run(pid, "digits", _run(pid, 3))
    projects.add_capture(pid, "A", np.arange(63, dtype=np.float32))
    projects.configure(f"sqlite:///{fresh_store}")   # a new process: nothing in memory
    projects.open_key("page-2", key)
    pid = projects.bound("page-2")
    assert [r.number for r in projects.runs(pid)] == [1]
    assert _top("page-2") == "3"
    assert projects.captures(pid)["A"][0][1].tolist() == list(range(63))


def test_a_run_in_use_is_not_a_taught_model() -> None:
    pid = projects.project("page-1")
    projects.use_run(pid, "digits", _run(pid, 3))
    assert projects.own_predictor(pid, "digits", taught=True) is None


def test_a_taught_model_in_use_is_one_whatever_its_title() -> None:
    pid = projects.project("page-1")
    projects.use_taught(pid, "digits", _checkpoint(3), "run 1 quick")
    assert projects.own_predictor(pid, "digits", taught=True) is not None


def test_a_run_without_a_model_says_so() -> None:
    pid = projects.project("page-1")
    run_id, _ = projects.start_run(pid, "digits", "quick", presets.get("quick").config("digits"))
    projects.interrupt(run_id, [{"epoch": 1}])
    (run,) = projects.runs(pid)
    assert (run.status, run.has_model, run.points) == ("interrupted", False, [{"epoch": 1}])
    with pytest.raises(projects.ProjectError, match="has no model"):
        run.checkpoint  # noqa: B018


def test_deleting_the_project_leaves_the_session_without_one() -> None:
    pid = projects.project("page-1")
    _run(pid, 3)
    projects.delete("page-1")
    assert projects.bound("page-1") is None
    assert projects.runs(pid) == []


# ----------------------------------------------------------------------------- project files

def _made_project(session: str) -> int:
    pid = projects.project(session)
    _run(pid, 2)
    projects.use_run(pid, "digits", _run(pid, 5))
    projects.use_taught(pid, "handshape", models.SHIPPED["handshape"].checkpoint, "taught hand")
    for k in range(3):
        projects.add_capture(pid, "B", np.full(63, k, np.float32))
    return pid


def test_a_project_file_brings_back_runs_examples_and_models_in_use(tmp_path: Path) -> None:
    source = _made_project("page-1")
    path = tmp_path / "p.zip"
    path.write_bytes(projects.export(source))
    target = projects.project("page-2")
    _run(target, 1)   # the project it is opened into keeps its own
    message = projects.import_into(target, path)
    assert "2 run(s), 3 taught example(s)" in message
    assert [(r.number, r.accuracy) for r in projects.runs(target)] == [(1, 1.0), (2, 1.0), (3, 1.0)]
    assert _top("page-2") == "5"
    assert models.own_model("handshape", "page-2").name == "taught hand"
    assert [row[0] for _, row in projects.captures(target)["B"]] == [0, 1, 2]


def _zip(tmp_path: Path, members: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, raw in members.items():
            z.writestr(name, raw)
    path = tmp_path / "bad.zip"
    path.write_bytes(buffer.getvalue())
    return path


def _listing(**extra) -> bytes:
    return json.dumps({"format": projects.FILE_FORMAT, "version": projects.FILE_VERSION, "runs": [], "uses": [],
                       "captures": [], **extra}).encode()


@pytest.mark.parametrize("members, message", [
    ({"x.txt": b"hello"}, "not a readable project file"),
    ({"project.json": b"{"}, "not a readable project file"),
    ({"project.json": json.dumps({"format": "other"}).encode()}, "not a project file of this app"),
    ({"project.json": json.dumps({"format": projects.FILE_FORMAT, "version": 99}).encode()}, "version 99"),
    ({"project.json": _listing(runs=[{"number": 1, "file": "runs/1.safetensors", "config": {}}])},
     "does not hold"),
    ({"project.json": _listing(runs=[{"number": 1, "file": "runs/1.safetensors", "config": {}}]),
      "runs/1.safetensors": b"not weights"}, "not a readable safetensors file"),
    ({"project.json": _listing(captures=[{"label": "A", "row": [1.0, 2.0]}])}, r"not a handshape row \(63,\)"),
    ({"project.json": _listing(captures=[{"label": "c", "row": [[300] * 28] * 28, "dataset": "digits"}])},
     r"not a digits row \(28, 28\)"),
    ({"project.json": _listing(captures=[{"label": "c", "row": [[0] * 28] * 28, "dataset": "digits",
                                          "strokes": "{bad"}])}, "not valid JSON"),
])
def test_a_bad_project_file_is_refused_with_its_reason(tmp_path: Path, members: dict[str, bytes],
                                                       message: str) -> None:
    pid = projects.project("page-1")
    with pytest.raises(projects.ProjectError, match=message):
        projects.import_into(pid, _zip(tmp_path, members))


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(projects.ProjectError, match="not a readable project file"):
        projects.import_into(projects.project("page-1"), path)


def test_a_file_that_unpacks_too_large_is_refused_before_reading(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(projects, "MAX_FILE_BYTES", 1000)
    path = _zip(tmp_path, {"project.json": _listing(), "pad": b"\x00" * 5000})
    with pytest.raises(projects.ProjectError, match="more than a project file may"):
        projects.import_into(projects.project("page-1"), path)


def test_deleting_the_run_in_use_goes_back_to_the_shipped_model() -> None:
    pid = projects.project("page-1")
    run = _run(pid, 3)
    projects.use_run(pid, "digits", run)
    assert projects.delete_run(pid, run.number)
    assert projects.runs(pid) == []
    assert models.predictor_for("digits", "page-1") is models.SHIPPED["digits"]
    assert models.choices("digits", "page-1")[-1][1] != models.OWN_MODEL


def test_a_running_run_cannot_be_deleted() -> None:
    pid = projects.project("page-1")
    _, number = projects.start_run(pid, "digits", "quick", presets.get("quick").config("digits"))
    assert not projects.delete_run(pid, number)


def test_building_the_app_opens_no_store(tmp_path: Path) -> None:
    """The page is built at import, before `--database` is read: it must not open (and so make) the
    default store, which several processes starting at once would race to migrate."""
    import os
    import subprocess
    import sys

    env = {**os.environ, projects.STATE_DIR_ENV: str(tmp_path / "state")}
    subprocess.run([sys.executable, "-c", "import demo"], cwd=Path(__file__).resolve().parents[1], env=env,
                   check=True, capture_output=True, timeout=300)
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())


def test_a_read_that_started_before_a_page_attached_does_not_hide_its_project(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One request reads the store (no project yet) while the page's opening binds the session:
    the slow read's "none" must not be what this process remembers."""
    import threading

    store = projects.store()
    reading, release = threading.Event(), threading.Event()
    original = store.project_of_session

    def slow(session: str) -> int | None:
        found = original(session)
        reading.set()
        assert release.wait(30)
        return found

    monkeypatch.setattr(store, "project_of_session", slow)
    seen: list[int | None] = []
    reader = threading.Thread(target=lambda: seen.append(projects.bound("page-1")))
    reader.start()
    assert reading.wait(30)
    monkeypatch.setattr(store, "project_of_session", original)
    key, _ = projects.attach("page-1", "")
    release.set()
    reader.join()
    assert projects.bound("page-1") == store.project_of_key(key)


def test_a_session_without_a_project_is_remembered_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    assert projects.bound("script-1") is None
    monkeypatch.setattr(projects.store(), "project_of_session", lambda s: pytest.fail("the store was read again"))
    assert projects.bound("script-1") is None
