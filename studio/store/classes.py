"""The store's classes: a teacher's class, its join code and teacher secret, the projects in it
under their students' names, its challenge, and what its board reads (its members' runs).

Mixed into `Store`: the same engine, the same one-transaction-a-method rule. A class's teacher
secret is kept only as its SHA-256: the store never holds what opens the teacher's page.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .schema import captures, classes, members, runs

# Read aloud in a classroom: no 0/O, 1/I; 8 of 32 signs, 40 bits.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TEACHER_KEY_BYTES = 24     # 192 random bits
JOIN_HOURS = 24.0          # a new (or reopened) class takes joins this long
NEW_CLASSES_PER_HOUR = 20  # per client address
MAX_MEMBERS = 200


class ClassError(RuntimeError):
    """A class request the store cannot take (an unknown or closed code, a name taken); says why."""


class UnknownCode(ClassError):
    """No class has the join code given (what guessing codes meets)."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(code: str) -> str:
    """A join code as typed ("abcd-efgh ", "ABCD EFGH") as stored ("ABCDEFGH")."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:32]


def teacher_hash(key: str) -> str:
    return hashlib.sha256((key or "").encode()).hexdigest()


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()[:40]


@dataclass(frozen=True)
class ClassRow:
    id: int
    name: str
    join_code: str
    created_at: float
    joins_until: float
    challenge: dict[str, Any] | None

    @property
    def open(self) -> bool:
        return time.time() < self.joins_until

    @classmethod
    def of(cls, row: Any) -> ClassRow:
        m = row._mapping
        return cls(m["id"], m["name"], m["join_code"], float(m["created_at"]), float(m["joins_until"]),
                   json.loads(m["challenge"]) if m["challenge"] else None)


@dataclass(frozen=True)
class Member:
    project_id: int
    name: str
    joined_at: float
    runs: int
    taught: int


@dataclass(frozen=True)
class ClassRun:
    """A member's run as the class's pages show it (no weights)."""

    id: int
    project_id: int
    student: str
    number: int
    dataset: str
    preset: str
    config: dict[str, Any]
    points: list[dict[str, Any]]
    report: dict[str, Any] | None
    accuracy: float | None
    epochs: float
    seconds: float
    status: str
    created_at: float
    finished_at: float | None
    shared: bool
    hidden: bool


CLASS_COLUMNS = (classes.c.id, classes.c.name, classes.c.join_code, classes.c.created_at, classes.c.joins_until,
                 classes.c.challenge)


class ClassesMixin:
    """Classes, for `Store` (which gives `_read`, `_write`)."""

    _read: Any
    _write: Any
    _creator: Any   # Store's: an address as kept for rate limits

    def new_class(self, name: str, creator: str = "") -> tuple[ClassRow, str]:
        """A new class and its teacher secret (returned once, never kept); ClassError when this address
        made too many in the last hour."""
        who = self._creator(creator)
        key = secrets.token_urlsafe(TEACHER_KEY_BYTES)
        now = time.time()
        for _ in range(8):   # a code already taken: draw again
            try:
                with self._write() as conn:
                    made = conn.execute(select(func.count()).select_from(classes).where(
                        classes.c.creator == who, classes.c.created_at > now - 3600)).scalar_one()
                    if made >= NEW_CLASSES_PER_HOUR:
                        raise ClassError("Too many new classes from this address in the last hour: use one you "
                                         "made, or try again later.")
                    class_id = conn.execute(insert(classes).values(
                        name=name, join_code=new_code(), teacher_hash=teacher_hash(key), creator=who,
                        created_at=now, joins_until=now + JOIN_HOURS * 3600).returning(classes.c.id)).scalar_one()
                return self.class_by_id(class_id), key
            except IntegrityError:
                continue
        raise ClassError("No free join code was found; try again.")

    def class_by_id(self, class_id: int) -> ClassRow:
        with self._read() as conn:
            return ClassRow.of(conn.execute(select(*CLASS_COLUMNS).where(classes.c.id == class_id)).one())

    def class_of_teacher(self, key: str) -> ClassRow | None:
        """The class whose teacher secret this is, or None."""
        if not key or len(key) > 128:
            return None
        with self._read() as conn:
            row = conn.execute(select(*CLASS_COLUMNS).where(classes.c.teacher_hash == teacher_hash(key))).first()
        return ClassRow.of(row) if row is not None else None

    def class_of_code(self, code: str) -> ClassRow | None:
        """The class whose join code this is (open or not), or None."""
        code = normal_code(code)
        if len(code) != CODE_LENGTH:
            return None
        with self._read() as conn:
            row = conn.execute(select(*CLASS_COLUMNS).where(classes.c.join_code == code)).first()
        return ClassRow.of(row) if row is not None else None

    def set_joins(self, class_id: int, until: float) -> None:
        """The class takes joins until `until` (now or earlier: closed)."""
        with self._write() as conn:
            conn.execute(update(classes).where(classes.c.id == class_id).values(joins_until=until))

    def set_challenge(self, class_id: int, challenge: dict[str, Any] | None) -> None:
        with self._write() as conn:
            conn.execute(update(classes).where(classes.c.id == class_id).values(
                challenge=json.dumps(challenge) if challenge is not None else None))

    # ------------------------------------------------------------------------------ members

    def join(self, project_id: int, code: str, name: str) -> ClassRow:
        """The project joins the class of `code` under `name` (leaving any class it was in)."""
        name = " ".join((name or "").split())[:40]
        if not name:
            raise ClassError("Give a name for the class to see (a first name, or a nickname).")
        found = self.class_of_code(code)
        if found is None:
            raise UnknownCode("No class has this code: check it with your teacher.")
        if not found.open:
            raise ClassError("This class takes no more students: ask your teacher to open it again.")
        try:
            with self._write() as conn:
                held = conn.execute(select(func.count()).select_from(members).where(
                    members.c.class_id == found.id, members.c.project_id != project_id)).scalar_one()
                if held >= MAX_MEMBERS:
                    raise ClassError(f"This class is full ({MAX_MEMBERS} students).")
                conn.execute(delete(members).where(members.c.project_id == project_id))
                conn.execute(insert(members).values(project_id=project_id, class_id=found.id, name=name,
                                                    name_key=name_key(name), joined_at=time.time()))
        except IntegrityError:
            raise ClassError(f"Someone in this class is already called {name!r}: choose another name.") from None
        return found

    def leave(self, project_id: int, class_id: int | None = None) -> bool:
        """The project leaves its class (only class `class_id`'s, if given: a teacher removing it)."""
        where = [members.c.project_id == project_id]
        if class_id is not None:
            where.append(members.c.class_id == class_id)
        with self._write() as conn:
            return bool(conn.execute(delete(members).where(*where)).rowcount)

    def membership(self, project_id: int) -> tuple[ClassRow, str] | None:
        """The project's class and its student's name there, or None."""
        with self._read() as conn:
            row = conn.execute(select(*CLASS_COLUMNS, members.c.name.label("member")).select_from(
                members.join(classes, classes.c.id == members.c.class_id)).where(
                members.c.project_id == project_id)).first()
        return (ClassRow.of(row), row._mapping["member"]) if row is not None else None

    def members(self, class_id: int) -> list[Member]:
        """The class's students, in the order they joined, with how many runs and taught examples."""
        run_count = select(func.count()).select_from(runs).where(runs.c.project_id == members.c.project_id)
        taught = select(func.count()).select_from(captures).where(captures.c.project_id == members.c.project_id)
        with self._read() as conn:
            rows = conn.execute(select(members.c.project_id, members.c.name, members.c.joined_at,
                                       run_count.scalar_subquery(), taught.scalar_subquery()).where(
                members.c.class_id == class_id).order_by(members.c.joined_at, members.c.project_id)).all()
        return [Member(r[0], r[1], float(r[2]), int(r[3]), int(r[4])) for r in rows]

    # --------------------------------------------------------------------------- class runs

    def class_runs(self, class_id: int, dataset: str | None = None, *, curves: bool = True,
                   run_id: int | None = None) -> list[ClassRun]:
        """Every run of the class's students (oldest first; only run `run_id`, if given); `curves` False
        leaves points and reports out."""
        cols = [runs.c.id, runs.c.project_id, members.c.name, runs.c.number, runs.c.dataset, runs.c.preset,
                runs.c.config, runs.c.points if curves else runs.c.id, runs.c.report if curves else runs.c.id,
                runs.c.accuracy, runs.c.epochs, runs.c.seconds, runs.c.status, runs.c.created_at, runs.c.finished_at,
                runs.c.shared, runs.c.hidden]
        where = [members.c.class_id == class_id]
        if dataset is not None:
            where.append(runs.c.dataset == dataset)
        if run_id is not None:
            where.append(runs.c.id == run_id)
        with self._read() as conn:
            rows = conn.execute(select(*cols).select_from(members.join(runs, runs.c.project_id == members.c.project_id))
                                .where(*where).order_by(runs.c.created_at, runs.c.id)).all()
        return [ClassRun(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]),
                         json.loads(r[7]) if curves else [], json.loads(r[8]) if curves and r[8] else None,
                         r[9], float(r[10]), float(r[11]), r[12], float(r[13]),
                         float(r[14]) if r[14] is not None else None, bool(r[15]), bool(r[16])) for r in rows]

    def class_run(self, class_id: int, run_id: int) -> ClassRun | None:
        """Run `run_id` if a student of the class made it, else None."""
        found = self.class_runs(class_id, run_id=run_id)
        return found[0] if found else None

    def hide_run(self, class_id: int, run_id: int, hidden: bool) -> bool:
        """Take run `run_id` off the class's board (or put it back); False if it is not the class's."""
        with self._write() as conn:
            in_class = select(members.c.project_id).where(members.c.class_id == class_id)
            return bool(conn.execute(update(runs).where(runs.c.id == run_id, runs.c.project_id.in_(in_class))
                                     .values(hidden=hidden)).rowcount)

    def share_run(self, project_id: int, number: int, shared: bool) -> bool:
        """Share the project's run `number` with its class (or stop); False if there is no such run."""
        with self._write() as conn:
            return bool(conn.execute(update(runs).where(runs.c.project_id == project_id, runs.c.number == number)
                                     .values(shared=shared)).rowcount)

    def shared_runs(self, project_id: int, dataset: str) -> list[ClassRun]:
        """The runs of `dataset` that classmates of the project (not itself) shared with its class."""
        with self._read() as conn:
            class_id = conn.execute(select(members.c.class_id).where(members.c.project_id == project_id)).scalar()
        if class_id is None:
            return []
        return [r for r in self.class_runs(class_id, dataset, curves=False)
                if r.shared and r.project_id != project_id and r.status in ("done", "stopped")]
