"""studio.classroom: the board's ranking and a challenge's limits, and classmates' shared runs
(only within a class, only while shared)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from studio import classroom, models, projects
from studio.store import ClassRun, Member
from tests.conftest import unstyled_classes
from tests.test_projects import _run as _run_of


def _run(run_id: int, student: int, accuracy: float | None, *, dataset: str = "digits", epochs: float = 1.0,
         hidden: list[int] | None = None, seconds: float = 10.0, hidden_entry: bool = False, finished: float = 0.0,
         status: str = "done") -> ClassRun:
    return ClassRun(run_id, student, f"s{student}", run_id, dataset, "quick", {"hidden": hidden or [64]}, [], None,
                    accuracy, epochs, seconds, status, 0.0, finished or float(run_id), False, hidden_entry)


def test_each_student_counts_once_with_their_best_run() -> None:
    runs = [_run(1, 1, 0.90), _run(2, 1, 0.95), _run(3, 2, 0.93)]
    assert [(e.rank, e.run.id) for e in classroom.board(runs, "digits")] == [(1, 2), (2, 3)]


def test_a_tie_goes_to_the_run_that_finished_first() -> None:
    runs = [_run(1, 1, 0.9, finished=20.0), _run(2, 2, 0.9, finished=10.0)]
    assert [e.run.id for e in classroom.board(runs, "digits")] == [2, 1]


def test_a_hidden_run_leaves_the_board_but_the_students_next_best_stays() -> None:
    runs = [_run(1, 1, 0.95, hidden_entry=True), _run(2, 1, 0.90)]
    assert [e.run.id for e in classroom.board(runs, "digits")] == [2]


def test_the_teacher_sees_hidden_runs_marked() -> None:
    runs = [_run(1, 1, 0.95, hidden_entry=True)]
    assert [(e.run.id, e.hidden) for e in classroom.board(runs, "digits", with_hidden=True)] == [(1, True)]


def test_runs_without_a_model_are_not_ranked() -> None:
    runs = [_run(1, 1, None, status="interrupted"), _run(2, 2, 0.5)]
    assert [e.run.id for e in classroom.board(runs, "digits")] == [2]


@pytest.mark.parametrize("limits,run,broken", [
    ({"max_epochs": 2}, {"epochs": 3.0}, "epochs"),
    ({"max_hidden": 100}, {"hidden": [64, 64]}, "hidden units"),
    ({"max_seconds": 30}, {"seconds": 31.0}, "s > 30"),
])
def test_a_challenge_ranks_only_runs_within_its_limits(limits: dict, run: dict, broken: str) -> None:
    challenge = classroom.Challenge("digits", **limits)
    assert broken in challenge.breaks(_run(1, 1, 0.9, **run))


def test_a_run_within_the_limits_breaks_none() -> None:
    challenge = classroom.Challenge("digits", max_epochs=2, max_hidden=128, max_seconds=30)
    assert challenge.breaks(_run(1, 1, 0.9, epochs=2.0, hidden=[64, 64], seconds=30.0)) == ""


def test_the_challenge_board_comes_first_and_keeps_to_its_data_set() -> None:
    runs = [_run(1, 1, 0.9, dataset="fashion"), _run(2, 2, 0.99)]
    c = type("C", (), {"challenge": {"dataset": "fashion"}})()
    titled = classroom.boards(c, runs)
    assert titled[0][0].startswith("Challenge") and [e.run.id for e in titled[0][1]] == [1]


def test_board_html_escapes_student_names() -> None:
    run = ClassRun(1, 1, "<b>x</b>", 1, "digits", "quick", {"hidden": [8]}, [], None, 0.9, 1.0, 1.0, "done", 0.0,
                   1.0, False, False)
    html = classroom.board_html([("digits", classroom.board([run], "digits"))])
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


# --------------------------------------------------------------------------- shared runs

@pytest.fixture
def a_class(fresh_store) -> tuple[int, int, int]:
    """A class with students 'a' (a shared run answering 3) and 'b'; 'c' outside it."""
    made, _ = classroom.make("7B")
    a, b, c = (projects.project(s) for s in "abc")
    classroom.join(a, made.join_code, "Ada")
    classroom.join(b, made.join_code, "Bo")
    _run_of(a, 3)
    classroom.share(a, 1)
    return a, b, c


def _top(session: str, name: str) -> str:
    probs = models.predictor_for("digits", session, name).predict(np.zeros((28, 28), np.uint8))
    return max(probs, key=probs.get)


def test_a_classmate_can_classify_with_a_shared_run(a_class) -> None:
    (_, value), = classroom.shared_choices(projects.bound("b"), "digits")
    assert _top("b", value) == "3"


def test_a_shared_run_is_named_for_its_student(a_class) -> None:
    (label, _), = classroom.shared_choices(projects.bound("b"), "digits")
    assert label.startswith("Ada's run #1")


def test_someone_outside_the_class_cannot_use_a_shared_run(a_class) -> None:
    (_, value), = classroom.shared_choices(projects.bound("b"), "digits")
    with pytest.raises(models.ModelChoiceError, match="not shared with your class"):
        models.predictor_for("digits", "c", value)


def test_a_run_no_longer_shared_is_refused(a_class) -> None:
    (_, value), = classroom.shared_choices(projects.bound("b"), "digits")
    classroom.share(a_class[0], 1, False)
    with pytest.raises(models.ModelChoiceError, match="not shared"):
        models.predictor_for("digits", "b", value)


def test_shared_runs_show_in_classmates_model_menus(a_class) -> None:
    assert any(v.startswith(classroom.SHARED_PREFIX) for _, v in models.choices("digits", "b"))


def test_shared_runs_do_not_show_outside_the_class(a_class) -> None:
    assert not any(v.startswith(classroom.SHARED_PREFIX) for _, v in models.choices("digits", "c"))


def test_wrong_codes_from_one_address_are_limited(fresh_store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classroom, "WRONG_CODES_PER_10_MIN", 2)
    monkeypatch.setattr(classroom, "_wrong", {})
    pid = projects.project("a")
    for _ in range(2):
        with pytest.raises(classroom.ClassroomError, match="No class"):
            classroom.join(pid, "ZZZZ-ZZZZ", "Ada", "10.1.1.1")
    with pytest.raises(classroom.ClassroomError, match="Too many wrong codes"):
        classroom.join(pid, "ZZZZ-ZZZZ", "Ada", "10.1.1.1")



def test_every_class_page_table_is_styled() -> None:
    with_curve = dataclasses.replace(_run(2, 1, 0.9), points=[{"progress": 1, "val_acc": 0.9}])
    shown = (classroom.board_html([("digits", classroom.board([_run(1, 1, 0.9, hidden_entry=True)], "digits",
                                                              with_hidden=True))], teacher=True)
             + classroom.students_html([Member(1, "Ada", 0.0, 1, 0)]) + classroom.runs_html([with_curve]))
    assert unstyled_classes(shown) == set()
