"""studio.class_tab: the API a class uses (make, join, board, the teacher's overview) and what
the teacher's page draws; who may see what."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from studio import class_tab, classroom, projects
from tests.test_projects import _run as _finished_run

pytestmark = pytest.mark.usefixtures("fresh_store")


def _request(session: str, host: str = "10.0.0.1") -> SimpleNamespace:
    return SimpleNamespace(session_hash=session, client=SimpleNamespace(host=host), headers={})


@pytest.fixture
def made() -> dict[str, str]:
    return class_tab.make_class("7B", _request("teacher"))


def test_making_a_class_gives_a_code_to_read_aloud_and_a_long_teacher_key(made: dict[str, str]) -> None:
    assert len(made["join_code"]) == 9 and made["join_code"][4] == "-"
    assert len(made["teacher_key"]) >= 32


def test_a_class_needs_a_name() -> None:
    with pytest.raises(gr.Error, match="name"):
        class_tab.make_class("   ", _request("teacher"))


def test_joining_puts_the_student_on_the_overview(made: dict[str, str]) -> None:
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    assert [s["name"] for s in class_tab.class_overview(made["teacher_key"])["students"]] == ["Ada"]


def test_a_wrong_teacher_key_opens_nothing(made: dict[str, str]) -> None:
    with pytest.raises(gr.Error, match="opens no class"):
        class_tab.class_overview(made["teacher_key"][:-2])


def test_a_project_key_is_no_teacher_key(made: dict[str, str]) -> None:
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    with pytest.raises(gr.Error, match="opens no class"):
        class_tab.class_overview(projects.key("s1"))


def test_the_board_shows_names_and_figures_never_keys(made: dict[str, str]) -> None:
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    class_tab.join_class(made["join_code"], "Bo", _request("s2"))
    _finished_run(projects.bound("s1"), 3)
    shown = repr(class_tab.class_board(_request("s2")))
    assert "Ada" in shown
    assert projects.key("s1") not in shown and made["teacher_key"] not in shown


def test_the_board_ranks_the_classs_runs(made: dict[str, str]) -> None:
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    _finished_run(projects.bound("s1"), 3)
    board = class_tab.class_board(_request("s1"))["boards"][0]
    assert [(e["rank"], e["student"], e["run"]) for e in board["entries"]] == [(1, "Ada", 1)]


def test_outside_a_class_the_board_is_empty() -> None:
    assert class_tab.class_board(_request("nobody")) == {"class": None, "challenge": None, "boards": []}


def test_leaving_takes_the_student_off_the_overview(made: dict[str, str]) -> None:
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    class_tab.leave_class(_request("s1"))
    assert class_tab.class_overview(made["teacher_key"])["students"] == []


def test_a_closed_class_refuses_a_new_student(made: dict[str, str]) -> None:
    class_tab.set_joining(made["teacher_key"], False)
    with pytest.raises(gr.Error, match="no more students"):
        class_tab.join_class(made["join_code"], "Ada", _request("s1"))


def test_the_teacher_page_redraws_only_what_changed(made: dict[str, str]) -> None:
    first = class_tab.teacher_page(made["teacher_key"])
    again = class_tab.teacher_page(made["teacher_key"], first[-1])
    assert all(isinstance(v, type(gr.skip())) for v in again[:-1])


def test_the_teacher_page_shows_a_run_once_it_finishes(made: dict[str, str]) -> None:
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    first = class_tab.teacher_page(made["teacher_key"])
    _finished_run(projects.bound("s1"), 3)
    runs_html = class_tab.teacher_page(made["teacher_key"], first[-1])[4]
    assert "Ada" in runs_html and "#1" in runs_html


def test_a_teacher_opens_a_run_of_their_class(made: dict[str, str]) -> None:
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    run = _finished_run(projects.bound("s1"), 3)
    _, settings, confusion, _ = class_tab.teacher_click(made["teacher_key"], SimpleNamespace(
        _data={"action": "open", "run": str(run.id)}))
    assert settings.startswith("**Ada, run #1**") and "confusion" in confusion


def test_a_teacher_cannot_open_a_run_outside_their_class(made: dict[str, str]) -> None:
    run = _finished_run(projects.project("outsider"), 3)
    with pytest.raises(gr.Error, match="not in this class"):
        class_tab.teacher_click(made["teacher_key"], SimpleNamespace(_data={"action": "open", "run": str(run.id)}))


def test_a_challenge_needs_positive_limits(made: dict[str, str]) -> None:
    with pytest.raises(gr.Error, match="more than 0"):
        class_tab.set_challenge(made["teacher_key"], "digits", -1, None, None)


def test_a_challenge_is_shown_to_students(made: dict[str, str]) -> None:
    class_tab.set_challenge(made["teacher_key"], "fashion", 2, None, None)
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    assert class_tab.class_board(_request("s1"))["challenge"]["dataset"] == "fashion"


def test_sharing_needs_a_class(made: dict[str, str]) -> None:
    from studio import train_tab
    _finished_run(projects.project("s1"), 3)
    assert "Join a class first" in train_tab.share_run("1", _request("s1"))


def test_a_shared_run_reaches_classmates(made: dict[str, str]) -> None:
    from studio import train_tab
    class_tab.join_class(made["join_code"], "Ada", _request("s1"))
    class_tab.join_class(made["join_code"], "Bo", _request("s2"))
    _finished_run(projects.bound("s1"), 3)
    train_tab.share_run("1", _request("s1"))
    assert [label for label, _ in classroom.shared_choices(projects.bound("s2"), "digits")] == [
        "Ada's run #1 · 100.00% (class)"]
