"""The store: projects, the sessions working in them, their runs, taught hands and model choices,
in SQLite (one file, the default) or PostgreSQL (many processes on many machines), by URL.

It speaks in plain values (JSON text, bytes, numbers): what a run or a model is, the app's
`studio.projects` decides. Opening a store brings its schema to the newest revision (Alembic), one
process at a time. Every method is one transaction: a process killed in the middle of one leaves
the store as it was before it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.engine import make_url

from .classes import ClassesMixin
from .schema import captures, members, projects, runs, sessions, uses

MIGRATIONS = Path(__file__).with_name("migrations")
HANDS = "handshape"   # the data set taught hands teach (examples stored before drawings were hands)
KEY_BYTES = 24          # 192 random bits: a project's key is its only lock
ALIVE_SECONDS = 60.0    # a running run whose process has not said it is alive for this long is interrupted
RUN_COLUMNS = (runs.c.id, runs.c.number, runs.c.dataset, runs.c.preset, runs.c.config, runs.c.points,
               runs.c.report, runs.c.accuracy, runs.c.epochs, runs.c.seconds, runs.c.device, runs.c.stopped,
               runs.c.status, runs.c.nbytes, runs.c.created_at)


class StoreError(RuntimeError):
    """A request the store cannot take (a full project, too many new projects); the message says why."""


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


@dataclass(frozen=True)
class RunRow:
    """A run as stored, without its weights."""

    id: int
    number: int
    dataset: str
    preset: str
    config: dict[str, Any]
    points: list[dict[str, Any]]
    report: dict[str, Any] | None
    accuracy: float | None
    epochs: float
    seconds: float
    device: str
    stopped: bool
    status: str
    nbytes: int
    created_at: float

    @classmethod
    def of(cls, row: Any) -> RunRow:
        m = row._mapping
        return cls(id=m["id"], number=m["number"], dataset=m["dataset"], preset=m["preset"],
                   config=json.loads(m["config"]), points=json.loads(m["points"]),
                   report=json.loads(m["report"]) if m["report"] else None, accuracy=m["accuracy"],
                   epochs=float(m["epochs"]), seconds=float(m["seconds"]), device=m["device"],
                   stopped=bool(m["stopped"]), status=m["status"], nbytes=int(m["nbytes"]),
                   created_at=float(m["created_at"]))


@dataclass(frozen=True)
class Use:
    """A project's own model of a data set in use: a run's, or taught (weights of its own)."""

    run_id: int | None
    title: str
    stamp: str


@dataclass(frozen=True)
class Limits:
    """How much of the store one project, and one client address, may take."""

    max_runs: int = 8                      # a project's runs; the oldest not in use goes first
    max_project_bytes: int = 200_000_000   # its weights, all runs and taught models together
    max_captures: int = 400
    new_projects_per_hour: int = 200       # per client address (a whole class may share one)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None   # SQLAlchemy says BEGIN itself (`_sqlite_begin`)
    cursor = dbapi_connection.cursor()
    # WAL: readers never wait for the writer, and several processes share the file; a commit
    # survives the process being killed. Foreign keys: a deleted project takes its rows with it.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=20000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that writes takes the write lock first (IMMEDIATE): one that read first and then
    # wrote would fail at once, without waiting, when another process wrote in between.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writes") else "BEGIN")


def engine_for(url: str) -> Engine:
    """An engine for a store URL (`sqlite:///path` or `postgresql+psycopg://...`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 20, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _one_migrator(engine: Engine, conn: Connection) -> Iterator[None]:
    """Only one process migrates a store at a time: a file lock beside a SQLite file, an advisory
    lock in PostgreSQL."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    else:
        conn.execute(text("SELECT pg_advisory_lock(7286201)"))
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(7286201)"))
            conn.commit()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema to `revision` (the newest by default)."""
    cfg = alembic_config()
    with engine.connect() as conn, _one_migrator(engine, conn):
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


class Store(ClassesMixin):
    """One store, shared by every thread of a process (and every process given the same URL)."""

    def __init__(self, url: str, limits: Limits = Limits()) -> None:
        self.url = url
        self.limits = limits
        self.engine = engine_for(url)
        migrate(self.engine)
        self.process = uuid.uuid4().hex   # this process, as the owner of the runs it trains

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction that writes (committed at the end, rolled back on an error)."""
        with self.engine.connect() as conn:
            conn.execution_options(writes=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -------------------------------------------------------------------------------- projects

    @staticmethod
    def _creator(creator: str) -> str:
        """A client's address as kept for rate limits (projects, classes): a hash, never the address."""
        return hashlib.sha256(creator.encode()).hexdigest()[:32]

    def new_project(self, creator: str = "") -> tuple[int, str]:
        """A new project (its id and key) for a client (`creator`: its address, hashed here);
        StoreError when that client has made too many in the last hour."""
        who = self._creator(creator)
        key = new_key()
        now = time.time()
        with self._write() as conn:
            made = conn.execute(select(func.count()).select_from(projects).where(
                projects.c.creator == who, projects.c.created_at > now - 3600)).scalar_one()
            if made >= self.limits.new_projects_per_hour:
                raise StoreError("Too many new projects from this address in the last hour: open an existing "
                                 "project's link instead, or try again later.")
            pid = conn.execute(insert(projects).values(access_key=key, creator=who, created_at=now,
                                                       seen_at=now).returning(projects.c.id)).scalar_one()
        return pid, key

    def project_of_key(self, key: str) -> int | None:
        if not key or len(key) > 128:
            return None
        with self._read() as conn:
            return conn.execute(select(projects.c.id).where(projects.c.access_key == key)).scalar()

    def key_of(self, project_id: int) -> str | None:
        with self._read() as conn:
            return conn.execute(select(projects.c.access_key).where(projects.c.id == project_id)).scalar()

    def project_exists(self, project_id: int) -> bool:
        with self._read() as conn:
            return conn.execute(select(projects.c.id).where(projects.c.id == project_id)).scalar() is not None

    def delete_project(self, project_id: int) -> None:
        """Every row and byte of the project."""
        with self._write() as conn:
            # Children first: PostgreSQL cascades anyway; this keeps SQLite right even without foreign keys.
            for table in (uses, captures, runs, sessions, members):
                conn.execute(delete(table).where(table.c.project_id == project_id))
            conn.execute(delete(projects).where(projects.c.id == project_id))

    def bind(self, session: str, project_id: int) -> None:
        """`session` works in the project from now on."""
        now = time.time()
        with self._write() as conn:
            done = conn.execute(update(sessions).where(sessions.c.session == session).values(
                project_id=project_id, seen_at=now)).rowcount
            if not done:
                conn.execute(insert(sessions).values(session=session, project_id=project_id, seen_at=now))
            conn.execute(update(projects).where(projects.c.id == project_id).values(seen_at=now))

    def project_of_session(self, session: str) -> int | None:
        with self._read() as conn:
            return conn.execute(select(sessions.c.project_id).where(sessions.c.session == session)).scalar()

    def forget_sessions(self, older_than: float) -> int:
        """Drop session bindings unused for `older_than` seconds (their projects stay)."""
        with self._write() as conn:
            return conn.execute(delete(sessions).where(sessions.c.seen_at < time.time() - older_than)).rowcount

    def chosen(self, project_id: int) -> dict[str, str]:
        with self._read() as conn:
            raw = conn.execute(select(projects.c.chosen).where(projects.c.id == project_id)).scalar()
        return json.loads(raw) if raw else {}

    def choose(self, project_id: int, dataset: str, name: str | None) -> None:
        """The project classifies `dataset` with the model `name` (None: the shipped one)."""
        with self._write() as conn:
            self._choose(conn, project_id, dataset, name)

    @staticmethod
    def _choose(conn: Connection, project_id: int, dataset: str, name: str | None) -> None:
        raw = conn.execute(select(projects.c.chosen).where(projects.c.id == project_id).with_for_update()).scalar()
        chosen = json.loads(raw) if raw else {}
        if name is None:
            chosen.pop(dataset, None)
        else:
            chosen[dataset] = name
        conn.execute(update(projects).where(projects.c.id == project_id).values(chosen=json.dumps(chosen)))

    # ------------------------------------------------------------------------------------ runs

    def start_run(self, project_id: int, dataset: str, preset: str, config: dict[str, Any]) -> tuple[int, int]:
        """A new run, running in this process: its id and its number in the project."""
        now = time.time()
        with self._write() as conn:
            number = self._next_number(conn, project_id)
            run_id = conn.execute(insert(runs).values(
                project_id=project_id, number=number, dataset=dataset, preset=preset, config=json.dumps(config),
                points="[]", created_at=now, status="running", owner=self.process, heartbeat=now,
            ).returning(runs.c.id)).scalar_one()
        return run_id, number

    def record_points(self, run_id: int, points: list[dict[str, Any]], epochs: float) -> None:
        """The running run's curve so far (what is kept if its process dies)."""
        with self._write() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id, runs.c.status == "running").values(
                points=json.dumps(points), epochs=epochs, heartbeat=time.time()))

    def finish_run(self, run_id: int, *, points: list[dict[str, Any]], report: dict[str, Any] | None,
                   accuracy: float | None, epochs: float, seconds: float, device: str, stopped: bool,
                   weights: bytes) -> None:
        """The run's result; then the project's oldest runs go, beyond its cap."""
        with self._write() as conn:
            project_id = conn.execute(select(runs.c.project_id).where(runs.c.id == run_id)).scalar()
            if project_id is None:
                return   # its project was deleted meanwhile
            self._check_room(conn, project_id, len(weights))
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                points=json.dumps(points), report=json.dumps(report) if report is not None else None,
                accuracy=accuracy, epochs=epochs, seconds=seconds, device=device, stopped=stopped, weights=weights,
                nbytes=len(weights), status="stopped" if stopped else "done", heartbeat=None,
                finished_at=time.time()))
            self._cap_runs(conn, project_id)

    def interrupt_run(self, run_id: int, points: list[dict[str, Any]] | None = None) -> None:
        """The run ended without a model (its page went away): keep its curve, say so."""
        values: dict[str, Any] = {"status": "interrupted", "heartbeat": None}
        if points is not None:
            values["points"] = json.dumps(points)
        with self._write() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id, runs.c.status == "running").values(**values))

    def add_run(self, project_id: int, *, dataset: str, preset: str, config: dict[str, Any],
                points: list[dict[str, Any]], report: dict[str, Any] | None, accuracy: float | None,
                epochs: float, seconds: float, device: str, weights: bytes) -> tuple[int, int]:
        """A finished run made elsewhere (a weights file brought back): its id and number."""
        now = time.time()
        with self._write() as conn:
            self._check_room(conn, project_id, len(weights))
            number = self._next_number(conn, project_id)
            run_id = conn.execute(insert(runs).values(
                project_id=project_id, number=number, dataset=dataset, preset=preset, config=json.dumps(config),
                points=json.dumps(points), report=json.dumps(report) if report is not None else None,
                accuracy=accuracy, epochs=epochs, seconds=seconds, device=device, weights=weights,
                nbytes=len(weights), created_at=now, finished_at=now, status="done").returning(runs.c.id)).scalar_one()
            self._cap_runs(conn, project_id)
        return run_id, number

    @staticmethod
    def _next_number(conn: Connection, project_id: int) -> int:
        """The project's next run number (counted in the project's row: numbers are never reused)."""
        return conn.execute(update(projects).where(projects.c.id == project_id).values(
            runs_started=projects.c.runs_started + 1).returning(projects.c.runs_started)).scalar_one()

    def _check_room(self, conn: Connection, project_id: int, adding: int) -> None:
        held = conn.execute(select(func.coalesce(func.sum(runs.c.nbytes), 0)).where(
            runs.c.project_id == project_id)).scalar_one()
        held += conn.execute(select(func.coalesce(func.sum(func.length(uses.c.weights)), 0)).where(
            uses.c.project_id == project_id)).scalar_one()
        if held + adding > self.limits.max_project_bytes:
            raise StoreError(f"This project holds {held / 1e6:.0f} MB of models; it may hold "
                             f"{self.limits.max_project_bytes / 1e6:.0f} MB. Delete runs first.")

    def _cap_runs(self, conn: Connection, project_id: int) -> None:
        """Past the cap, the oldest runs go, except a run in use or still running."""
        in_use = select(uses.c.run_id).where(uses.c.project_id == project_id, uses.c.run_id.is_not(None))
        held = conn.execute(select(func.count()).select_from(runs).where(runs.c.project_id == project_id)).scalar_one()
        extra = held - self.limits.max_runs
        if extra <= 0:
            return
        spare = conn.execute(select(runs.c.id).where(
            runs.c.project_id == project_id, runs.c.id.not_in(in_use), runs.c.status != "running",
        ).order_by(runs.c.number)).scalars().all()
        if spare[:extra]:
            conn.execute(delete(runs).where(runs.c.id.in_(spare[:extra])))

    def runs(self, project_id: int) -> list[RunRow]:
        """The project's runs, oldest first (a running run whose process is gone: interrupted)."""
        self.interrupt_stale(project_id)
        with self._read() as conn:
            rows = conn.execute(select(*RUN_COLUMNS).where(runs.c.project_id == project_id).order_by(
                runs.c.number)).all()
        return [RunRow.of(r) for r in rows]

    def run_weights(self, run_id: int) -> bytes | None:
        with self._read() as conn:
            return conn.execute(select(runs.c.weights).where(runs.c.id == run_id)).scalar()

    def delete_run(self, project_id: int, number: int) -> bool:
        """Delete run `number` (not while it runs); where it was the project's model in use, the project
        goes back to the shipped model. False if there is no such run, or it is running."""
        with self._write() as conn:
            run_id = conn.execute(select(runs.c.id).where(runs.c.project_id == project_id, runs.c.number == number,
                                                          runs.c.status != "running")).scalar()
            if run_id is None:
                return False
            for dataset in conn.execute(select(uses.c.dataset).where(uses.c.run_id == run_id)).scalars().all():
                self._unuse(conn, project_id, dataset)
            conn.execute(delete(runs).where(runs.c.id == run_id))
            return True

    def heartbeat(self) -> None:
        """This process is alive: its running runs are still running."""
        with self._write() as conn:
            conn.execute(update(runs).where(runs.c.owner == self.process, runs.c.status == "running").values(
                heartbeat=time.time()))

    def interrupt_stale(self, project_id: int | None = None) -> int:
        """Runs whose process stopped saying it is alive are interrupted (their curves stay)."""
        where = [runs.c.status == "running", runs.c.heartbeat < time.time() - ALIVE_SECONDS]
        if project_id is not None:
            where.append(runs.c.project_id == project_id)
        with self._read() as conn:   # most reads find none: they need not wait for the write lock
            if not conn.execute(select(func.count()).select_from(runs).where(*where)).scalar_one():
                return 0
        with self._write() as conn:
            return conn.execute(update(runs).where(*where).values(status="interrupted", heartbeat=None)).rowcount

    # ----------------------------------------------------------------------------- models in use

    def use(self, project_id: int, dataset: str, title: str, *, run_id: int | None = None,
            weights: bytes | None = None) -> None:
        """The project's own model of `dataset` in use: run `run_id`'s, or `weights` (taught), and the
        Model menu's choice moves to it."""
        stamp = uuid.uuid4().hex
        with self._write() as conn:
            if weights is not None:
                self._check_room(conn, project_id, len(weights))
            conn.execute(delete(uses).where(uses.c.project_id == project_id, uses.c.dataset == dataset))
            conn.execute(insert(uses).values(project_id=project_id, dataset=dataset, run_id=run_id, weights=weights,
                                             title=title, stamp=stamp))
            self._choose(conn, project_id, dataset, OWN)

    def used(self, project_id: int, dataset: str) -> Use | None:
        with self._read() as conn:
            row = conn.execute(select(uses.c.run_id, uses.c.title, uses.c.stamp).where(
                uses.c.project_id == project_id, uses.c.dataset == dataset)).first()
        return Use(*row) if row is not None else None

    def choice_and_use(self, project_id: int, dataset: str) -> tuple[str | None, Use | None]:
        """The project's choice for `dataset` and its own model there, in one round trip."""
        with self._read() as conn:
            row = conn.execute(select(projects.c.chosen, uses.c.run_id, uses.c.title, uses.c.stamp).select_from(
                projects.outerjoin(uses, (uses.c.project_id == projects.c.id) & (uses.c.dataset == dataset))).where(
                projects.c.id == project_id)).first()
        if row is None:
            return None, None
        chosen = json.loads(row[0]).get(dataset) if row[0] else None
        return chosen, (Use(row[1], row[2], row[3]) if row[3] is not None else None)

    def use_weights(self, project_id: int, dataset: str) -> bytes | None:
        """The weights of the project's own model of `dataset` (its run's, or its own)."""
        with self._read() as conn:
            row = conn.execute(select(uses.c.run_id, uses.c.weights).where(
                uses.c.project_id == project_id, uses.c.dataset == dataset)).first()
            if row is None:
                return None
            if row[1] is not None:
                return row[1]
            return conn.execute(select(runs.c.weights).where(runs.c.id == row[0])).scalar()

    def unuse(self, project_id: int, dataset: str) -> None:
        """The project has no own model of `dataset` any more, and classifies it with the shipped one."""
        with self._write() as conn:
            self._unuse(conn, project_id, dataset)

    def _unuse(self, conn: Connection, project_id: int, dataset: str) -> None:
        conn.execute(delete(uses).where(uses.c.project_id == project_id, uses.c.dataset == dataset))
        self._choose(conn, project_id, dataset, None)

    # --------------------------------------------------------------------------- taught hands

    def add_capture(self, project_id: int, label: str, features: bytes, dataset: str = HANDS,
                    strokes: str | None = None) -> None:
        """One taught example of `dataset` (hands by default; a drawing with its `strokes`, JSON)."""
        with self._write() as conn:
            n = conn.execute(select(func.count()).select_from(captures).where(
                captures.c.project_id == project_id)).scalar_one()
            if n >= self.limits.max_captures:
                raise StoreError(f"A project keeps at most {self.limits.max_captures} examples: delete some first.")
            conn.execute(insert(captures).values(project_id=project_id, label=label, features=features,
                                                 created_at=time.time(), dataset=dataset, strokes=strokes))

    def sizes(self, project_id: int) -> tuple[int, int]:
        """How many runs and taught examples the project holds."""
        with self._read() as conn:
            held = [conn.execute(select(func.count()).select_from(t).where(t.c.project_id == project_id)).scalar_one()
                    for t in (runs, captures)]
        return held[0], held[1]

    def captures(self, project_id: int, dataset: str = HANDS) -> list[tuple[int, str, bytes]]:
        """(id, label, features) of the project's examples of `dataset`, in the order they were taught."""
        with self._read() as conn:
            return [tuple(r) for r in conn.execute(select(captures.c.id, captures.c.label, captures.c.features).where(
                captures.c.project_id == project_id, captures.c.dataset == dataset).order_by(captures.c.id)).all()]

    def capture_strokes(self, project_id: int, dataset: str) -> list[tuple[int, str, str | None, float]]:
        """(id, label, strokes JSON, when) of the project's examples of `dataset`, in the order taught."""
        with self._read() as conn:
            return [tuple(r) for r in conn.execute(select(captures.c.id, captures.c.label, captures.c.strokes,
                                                          captures.c.created_at).where(
                captures.c.project_id == project_id, captures.c.dataset == dataset).order_by(captures.c.id)).all()]

    def delete_captures(self, project_id: int, ids: list[int] | None = None, dataset: str | None = HANDS) -> None:
        """Forget examples `ids` of the project (None: all of `dataset`'s; `dataset` None: of every one)."""
        where = [captures.c.project_id == project_id]
        if ids is not None:
            where.append(captures.c.id.in_(ids))
        elif dataset is not None:
            where.append(captures.c.dataset == dataset)
        with self._write() as conn:
            conn.execute(delete(captures).where(*where))


OWN = "own"   # the Model menu's value for the project's own model of a data set (a run or taught)
