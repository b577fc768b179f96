"""studio.store: projects, runs, models in use and taught hands, on SQLite and on PostgreSQL (the
`url` fixture, conftest); its migrations; several processes writing at once; a process killed mid-write.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from studio.store import OWN, Limits, Store, StoreError, head_revision, migrate, revision_of
from studio.store import store as store_module
from studio.store.schema import metadata

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = Store(url, Limits(max_runs=3, max_project_bytes=1000, max_captures=5, new_projects_per_hour=4))
    yield s
    s.close()


def _finished(store: Store, pid: int, weights: bytes = b"w" * 10, accuracy: float = 0.9) -> int:
    run_id, _ = store.start_run(pid, "digits", "quick", {"hidden": [8]})
    store.finish_run(run_id, points=[{"epoch": 1}], report={"accuracy": accuracy}, accuracy=accuracy, epochs=1.0,
                     seconds=2.0, device="cpu", stopped=False, weights=weights)
    return run_id


def test_a_project_is_found_by_its_key_only(store: Store) -> None:
    pid, key = store.new_project("10.0.0.1")
    assert store.project_of_key(key) == pid
    assert store.project_of_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.project_of_key("") is None


def test_keys_are_long_and_random(store: Store) -> None:
    keys = {store.new_project(f"10.0.0.{i}")[1] for i in range(4)}
    assert len(keys) == 4
    assert min(len(k) for k in keys) >= 32   # 24 random bytes, base64: 192 bits


def test_new_projects_are_rate_limited_per_address(store: Store) -> None:
    for _ in range(4):
        store.new_project("10.0.0.9")
    with pytest.raises(StoreError, match="Too many new projects"):
        store.new_project("10.0.0.9")
    store.new_project("10.0.0.10")   # another address is not held back


def test_a_run_is_kept_with_its_curve_report_and_weights(store: Store) -> None:
    pid, _ = store.new_project()
    run_id, number = store.start_run(pid, "digits", "quick", {"hidden": [8]})
    assert (number, store.runs(pid)[0].status) == (1, "running")
    store.record_points(run_id, [{"epoch": 1}], 1.0)
    store.finish_run(run_id, points=[{"epoch": 1}, {"epoch": 2}], report={"accuracy": 0.5}, accuracy=0.5,
                     epochs=2.0, seconds=3.0, device="cpu", stopped=True, weights=b"abc")
    run = store.runs(pid)[0]
    assert (run.status, run.points, run.report, run.accuracy, run.epochs, run.config) == (
        "stopped", [{"epoch": 1}, {"epoch": 2}], {"accuracy": 0.5}, 0.5, 2.0, {"hidden": [8]})
    assert store.run_weights(run_id) == b"abc"


def test_run_numbers_count_up_within_a_project(store: Store) -> None:
    a, _ = store.new_project()
    b, _ = store.new_project()
    _finished(store, a)
    _finished(store, a)
    _finished(store, b)
    assert [r.number for r in store.runs(a)] == [1, 2]
    assert [r.number for r in store.runs(b)] == [1]


def test_past_the_cap_the_oldest_run_not_in_use_goes(store: Store) -> None:
    pid, _ = store.new_project()
    first = _finished(store, pid)
    store.use(pid, "digits", "run #1", run_id=first)
    for _ in range(3):
        _finished(store, pid)
    assert [r.number for r in store.runs(pid)] == [1, 3, 4]


def test_a_project_holds_at_most_its_share_of_bytes(store: Store) -> None:
    pid, _ = store.new_project()
    _finished(store, pid, weights=b"x" * 600)
    run_id, _ = store.start_run(pid, "digits", "quick", {})
    with pytest.raises(StoreError, match="Delete runs first"):
        store.finish_run(run_id, points=[], report=None, accuracy=None, epochs=0, seconds=0, device="cpu",
                         stopped=False, weights=b"x" * 600)
    with pytest.raises(StoreError, match="Delete runs first"):
        store.use(pid, "handshape", "taught", weights=b"x" * 600)


def test_the_model_in_use_is_a_runs_or_its_own(store: Store) -> None:
    pid, _ = store.new_project()
    run_id = _finished(store, pid, weights=b"run")
    store.use(pid, "digits", "run #1", run_id=run_id)
    store.use(pid, "handshape", "taught", weights=b"taught")
    assert store.choice_and_use(pid, "digits")[0] == OWN
    assert store.use_weights(pid, "digits") == b"run"
    assert store.use_weights(pid, "handshape") == b"taught"
    assert store.choice_and_use(pid, "signs") == (None, None)


def test_each_write_of_the_model_in_use_has_a_new_stamp(store: Store) -> None:
    pid, _ = store.new_project()
    store.use(pid, "handshape", "taught", weights=b"one")
    first = store.used(pid, "handshape").stamp
    store.use(pid, "handshape", "taught", weights=b"two")
    assert store.used(pid, "handshape").stamp != first


def test_choices_are_kept_per_data_set(store: Store) -> None:
    pid, _ = store.new_project()
    store.choose(pid, "digits", "mine")
    store.choose(pid, "signs", "theirs")
    store.choose(pid, "signs", None)
    assert store.chosen(pid) == {"digits": "mine"}


def test_taught_examples_are_landmark_rows_in_order(store: Store) -> None:
    pid, _ = store.new_project()
    for i in range(5):
        store.add_capture(pid, "A", bytes([i]) * 252)
    with pytest.raises(StoreError, match="at most 5 examples"):
        store.add_capture(pid, "A", b"x" * 252)
    kept = store.captures(pid)
    assert [raw[0] for _, _, raw in kept] == [0, 1, 2, 3, 4]
    store.delete_captures(pid, [kept[1][0]])
    assert [raw[0] for _, _, raw in store.captures(pid)] == [0, 2, 3, 4]


def test_deleting_a_project_removes_every_row_of_it(store: Store) -> None:
    pid, key = store.new_project()
    other, _ = store.new_project()
    run_id = _finished(store, pid)
    _finished(store, other)
    store.use(pid, "digits", "run", run_id=run_id)
    store.add_capture(pid, "A", b"x" * 252)
    store.bind("session-1", pid)
    store.delete_project(pid)
    with store.engine.connect() as conn:
        left = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t).where(
            t.c.project_id == pid)).scalar_one() for t in metadata.sorted_tables if "project_id" in t.c}
    assert left == {"sessions": 0, "runs": 0, "uses": 0, "captures": 0, "members": 0}
    assert store.project_of_key(key) is None
    assert [r.number for r in store.runs(other)] == [1]


def test_a_running_run_whose_process_went_quiet_is_interrupted(store: Store,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pid, _ = store.new_project()
    run_id, _ = store.start_run(pid, "digits", "quick", {})
    store.record_points(run_id, [{"epoch": 1}], 1.0)
    assert store.runs(pid)[0].status == "running"
    monkeypatch.setattr(store_module, "ALIVE_SECONDS", -1.0)
    run = store.runs(pid)[0]
    assert (run.status, run.points) == ("interrupted", [{"epoch": 1}])


def test_a_heartbeat_keeps_this_processs_runs_running(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    pid, _ = store.new_project()
    store.start_run(pid, "digits", "quick", {})
    monkeypatch.setattr(store_module, "ALIVE_SECONDS", 5.0)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET heartbeat = heartbeat - 100"))
    store.heartbeat()
    assert store.runs(pid)[0].status == "running"


def test_sessions_are_bound_to_projects(store: Store) -> None:
    a, _ = store.new_project()
    b, _ = store.new_project()
    store.bind("s", a)
    store.bind("s", b)
    assert store.project_of_session("s") == b
    assert store.project_of_session("t") is None


def test_the_head_migration_makes_the_schema_the_code_uses(url: str) -> None:
    Store(url).close()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diffs == []


def test_a_store_of_the_first_revision_opens_with_its_runs(url: str) -> None:
    """A newer app opens an older store: its projects and runs are there, runs marked finished."""
    engine = store_module.engine_for(url)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO projects (access_key, creator, created_at, seen_at, runs_started, chosen) "
                             "VALUES ('old-key-0123456789', 'x', 1, 1, 1, '{\"digits\": \"mine\"}')"))
        conn.execute(sa.text("INSERT INTO runs (project_id, number, dataset, preset, config, points, accuracy, epochs, "
                             "seconds, device, stopped, weights, nbytes, created_at) VALUES (1, 1, 'digits', 'quick', "
                             "'{}', '[]', 0.97, 1, 5, 'cpu', false, :w, 3, 1)"), {"w": b"old"})
    assert revision_of(engine) == "0001"
    engine.dispose()
    store = Store(url)
    pid = store.project_of_key("old-key-0123456789")
    run = store.runs(pid)[0]
    assert (run.number, run.status, run.accuracy) == (1, "done", 0.97)
    assert store.run_weights(run.id) == b"old"
    assert store.chosen(pid) == {"digits": "mine"}
    assert revision_of(store.engine) == head_revision()
    store.close()


WRITER = """
import sys
from studio.store import Limits, Store
store = Store(sys.argv[1], Limits(max_runs=1000))
pid = store.project_of_key(sys.argv[2])
for _ in range(int(sys.argv[3])):
    run_id, _ = store.start_run(pid, "digits", "quick", {})
    store.finish_run(run_id, points=[], report=None, accuracy=None, epochs=1, seconds=0, device="cpu",
                     stopped=False, weights=b"w" * 1000)
    store.add_capture(pid, "A", b"x" * 252)
"""


def test_two_processes_writing_at_once_lose_nothing(url: str) -> None:
    store = Store(url, Limits(max_runs=1000, max_captures=1000))
    pid, key = store.new_project()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, url, key, "25"], cwd=ROOT) for _ in range(2)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    assert [r.number for r in store.runs(pid)] == list(range(1, 51))
    assert len(store.captures(pid)) == 50
    store.close()


KILLED_WRITER = """
import sys
from studio.store import Limits, Store
store = Store(sys.argv[1], Limits(max_runs=1000, max_project_bytes=10**10))
pid = store.project_of_key(sys.argv[2])
print("ready", flush=True)
n = 0
while True:
    n += 1
    store.add_run(pid, dataset="digits", preset="quick", config={}, points=[{"n": n}] * 200, report=None,
                  accuracy=None, epochs=1, seconds=0, device="cpu", weights=bytes([n % 256]) * 2_000_000)
"""


def test_a_process_killed_mid_write_leaves_only_whole_runs(url: str) -> None:
    store = Store(url)
    pid, key = store.new_project()
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, url, key], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    assert writer.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    runs = store.runs(pid)
    assert runs, "the writer wrote nothing before it was killed"
    for run in runs:
        weights = store.run_weights(run.id)
        assert len(weights) == run.nbytes == 2_000_000
        assert weights == bytes([run.number % 256]) * 2_000_000
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    store.close()
