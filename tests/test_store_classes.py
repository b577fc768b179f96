"""studio.store.classes: a class's codes and secret, joining and leaving, its runs, its board's
hidden entries and shared runs; on SQLite and PostgreSQL (the `url` fixture)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from studio.store import ClassError, Store
from studio.store import classes as classes_module


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = Store(url)
    yield s
    s.close()


def _run(store: Store, pid: int, accuracy: float = 0.9, dataset: str = "digits") -> int:
    run_id, _ = store.start_run(pid, dataset, "quick", {"hidden": [8], "epochs": 1})
    store.finish_run(run_id, points=[{"epoch": 1, "val_acc": accuracy}], report={"accuracy": accuracy},
                     accuracy=accuracy, epochs=1.0, seconds=2.0, device="cpu", stopped=False, weights=b"w")
    return run_id


def test_a_join_code_is_short_and_read_aloud_safely(store: Store) -> None:
    made, _ = store.new_class("7B")
    assert len(made.join_code) == 8
    assert set(made.join_code) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def test_the_teacher_secret_is_long_and_kept_only_as_a_hash(store: Store, url: str) -> None:
    _, key = store.new_class("7B")
    assert len(key) >= 32   # 192 bits in URL-safe base64
    with sa.create_engine(url).connect() as conn:
        stored = conn.execute(sa.text("SELECT teacher_hash FROM classes")).scalar()
    assert key not in stored


def test_a_class_is_found_by_its_teacher_secret_only(store: Store) -> None:
    made, key = store.new_class("7B")
    found = store.class_of_teacher(key)
    assert found is not None and found.id == made.id
    assert store.class_of_teacher(key[:-1] + ("A" if key[-1] != "A" else "B")) is None


def test_a_code_is_found_as_typed_aloud(store: Store) -> None:
    made, _ = store.new_class("7B")
    typed = f" {made.join_code[:4].lower()}-{made.join_code[4:]} "
    found = store.class_of_code(typed)
    assert found is not None and found.id == made.id


def test_joining_puts_the_project_in_the_class_under_its_name(store: Store) -> None:
    made, _ = store.new_class("7B")
    pid, _ = store.new_project()
    store.join(pid, made.join_code, "  Ada  ")
    found = store.membership(pid)
    assert found is not None and (found[0].id, found[1]) == (made.id, "Ada")


def test_two_students_cannot_share_a_name(store: Store) -> None:
    made, _ = store.new_class("7B")
    a, _ = store.new_project()
    b, _ = store.new_project()
    store.join(a, made.join_code, "Ada")
    with pytest.raises(ClassError, match="already called"):
        store.join(b, made.join_code, "ada")


def test_a_closed_class_takes_no_one(store: Store) -> None:
    made, _ = store.new_class("7B")
    store.set_joins(made.id, time.time() - 1)
    pid, _ = store.new_project()
    with pytest.raises(ClassError, match="no more students"):
        store.join(pid, made.join_code, "Ada")


def test_an_unknown_code_is_refused(store: Store) -> None:
    pid, _ = store.new_project()
    with pytest.raises(ClassError, match="No class"):
        store.join(pid, "ZZZZZZZZ", "Ada")


def test_a_project_is_in_one_class_at_a_time(store: Store) -> None:
    first, _ = store.new_class("7B")
    second, _ = store.new_class("8C")
    pid, _ = store.new_project()
    store.join(pid, first.join_code, "Ada")
    store.join(pid, second.join_code, "Ada")
    assert [m.project_id for m in store.members(first.id)] == []


def test_leaving_takes_the_project_out(store: Store) -> None:
    made, _ = store.new_class("7B")
    pid, _ = store.new_project()
    store.join(pid, made.join_code, "Ada")
    store.leave(pid)
    assert store.membership(pid) is None


def test_a_teacher_removes_only_their_own_classs_students(store: Store) -> None:
    mine, _ = store.new_class("7B")
    other, _ = store.new_class("8C")
    pid, _ = store.new_project()
    store.join(pid, other.join_code, "Ada")
    assert store.leave(pid, class_id=mine.id) is False


def test_members_are_counted_with_their_runs_and_taught_examples(store: Store) -> None:
    made, _ = store.new_class("7B")
    pid, _ = store.new_project()
    store.join(pid, made.join_code, "Ada")
    _run(store, pid)
    store.add_capture(pid, "A", b"x" * 252)
    m = store.members(made.id)[0]
    assert (m.name, m.runs, m.taught) == ("Ada", 1, 1)


def test_class_runs_are_its_students_runs_with_when_they_finished(store: Store) -> None:
    made, _ = store.new_class("7B")
    a, _ = store.new_project()
    outsider, _ = store.new_project()
    store.join(a, made.join_code, "Ada")
    before = time.time()
    run_id = _run(store, a, 0.97)
    _run(store, outsider)
    found = store.class_runs(made.id)
    assert [(r.id, r.student, r.accuracy) for r in found] == [(run_id, "Ada", 0.97)]
    assert found[0].finished_at is not None and found[0].finished_at >= before


def test_a_teacher_hides_only_their_classs_runs(store: Store) -> None:
    mine, _ = store.new_class("7B")
    a, _ = store.new_project()
    outsider, _ = store.new_project()
    store.join(a, mine.join_code, "Ada")
    run_id = _run(store, a)
    other_run = _run(store, outsider)
    assert store.hide_run(mine.id, run_id, True) is True
    assert store.hide_run(mine.id, other_run, True) is False
    assert [r.hidden for r in store.class_runs(mine.id)] == [True]


def test_a_shared_run_is_offered_to_classmates_not_to_others(store: Store) -> None:
    made, _ = store.new_class("7B")
    a, _ = store.new_project()
    b, _ = store.new_project()
    outsider, _ = store.new_project()
    store.join(a, made.join_code, "Ada")
    store.join(b, made.join_code, "Bo")
    run_id = _run(store, a)
    store.share_run(a, 1, True)
    assert [r.id for r in store.shared_runs(b, "digits")] == [run_id]
    assert store.shared_runs(outsider, "digits") == []


def test_an_unshared_run_is_not_offered(store: Store) -> None:
    made, _ = store.new_class("7B")
    a, _ = store.new_project()
    b, _ = store.new_project()
    store.join(a, made.join_code, "Ada")
    store.join(b, made.join_code, "Bo")
    _run(store, a)
    assert store.shared_runs(b, "digits") == []


def test_deleting_a_project_takes_it_out_of_its_class(store: Store) -> None:
    made, _ = store.new_class("7B")
    pid, _ = store.new_project()
    store.join(pid, made.join_code, "Ada")
    store.delete_project(pid)
    assert store.members(made.id) == []


def test_new_classes_are_rate_limited_per_address(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classes_module, "NEW_CLASSES_PER_HOUR", 2)
    store.new_class("a", "10.0.0.1")
    store.new_class("b", "10.0.0.1")
    with pytest.raises(ClassError, match="Too many"):
        store.new_class("c", "10.0.0.1")
