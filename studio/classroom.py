"""Classes as the app sees them: who may see what, the class's board and challenge, and the pages'
HTML. A student's class is their project's (`projects`); a teacher is whoever holds the class's
teacher secret, which every teacher request carries (nothing of it is kept by a process, so any
process behind the balancer answers).

What students see of each other: names and the figures of their runs on the board, never a
project, a key or a curve; a run its student shared on purpose can be used in classmates' tabs
(`shared_choices`, `shared_predictor`). The board ranks test accuracy, which training never reads
(`tests/test_trainer.py::test_the_test_set_never_changes_what_is_trained`).
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from classifier import data
from classifier.models import checkpoint
from classifier.serving.predict import Predictor
from classifier.training import trainer

from . import plots, projects
from .store import ClassError, ClassRow, ClassRun, Member, UnknownCode
from .store.classes import JOIN_HOURS

SHARED_PREFIX = "class:"     # the Model menu's value for a run a classmate shared: class:<run id>
MAX_NAME = 40
WRONG_CODES_PER_10_MIN = 30  # per address: guessing a code takes ~10^10 tries


class ClassroomError(ValueError):
    """A class request that cannot be done; the message says why, for the page."""


@dataclass(frozen=True)
class Challenge:
    """The teacher's challenge: a data set, and optional limits a run must keep to be ranked."""

    dataset: str
    max_epochs: float | None = None
    max_hidden: int | None = None      # hidden units, all layers together
    max_seconds: float | None = None   # training time on this server

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> Challenge | None:
        if not raw or raw.get("dataset") not in data.DATASETS:
            return None
        return cls(raw["dataset"], raw.get("max_epochs"), raw.get("max_hidden"), raw.get("max_seconds"))

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "max_epochs": self.max_epochs, "max_hidden": self.max_hidden,
                "max_seconds": self.max_seconds}

    def breaks(self, run: ClassRun) -> str:
        """Which limit `run` breaks, in words ("" if none)."""
        hidden = sum(run.config.get("hidden") or [])
        if self.max_epochs is not None and run.epochs > self.max_epochs + 1e-9:
            return f"{trainer.epochs_text(run.epochs)} > {trainer.epochs_text(self.max_epochs)}"
        if self.max_hidden is not None and hidden > self.max_hidden:
            return f"{hidden} hidden units > {self.max_hidden}"
        if self.max_seconds is not None and run.seconds > self.max_seconds:
            return f"{run.seconds:.0f} s > {self.max_seconds:.0f} s"
        return ""

    def words(self) -> str:
        limits = [f"at most {trainer.epochs_text(self.max_epochs)}" if self.max_epochs is not None else "",
                  f"at most {self.max_hidden} hidden units" if self.max_hidden is not None else "",
                  f"at most {self.max_seconds:.0f} s of training" if self.max_seconds is not None else ""]
        rules = ", ".join(x for x in limits if x)
        return f"the best {self.dataset} model" + (f" ({rules})" if rules else "")


# ------------------------------------------------------------------------------- who is who

_wrong: dict[str, deque[float]] = {}
_wrong_lock = threading.Lock()


def _count_wrong(client: str) -> None:
    now = time.monotonic()
    with _wrong_lock:
        tries = _wrong.setdefault(client, deque())
        while tries and now - tries[0] > 600:
            tries.popleft()
        if len(tries) >= WRONG_CODES_PER_10_MIN:
            raise ClassroomError("Too many wrong codes from this address: wait a few minutes.")
        tries.append(now)


def make(name: str, client: str = "") -> tuple[ClassRow, str]:
    """A new class named `name` and its teacher secret (shown once)."""
    name = " ".join((name or "").split())[:80]
    if not name:
        raise ClassroomError("Give the class a name (it is shown to its students).")
    try:
        return projects.store().new_class(name, client)
    except ClassError as e:
        raise ClassroomError(str(e)) from None


def taught_by(key: str) -> ClassRow:
    """The class whose teacher secret `key` is."""
    found = projects.store().class_of_teacher((key or "").strip())
    if found is None:
        raise ClassroomError("This teacher link opens no class: check the link (or the class was deleted).")
    return found


def membership(pid: int | None) -> tuple[ClassRow, str] | None:
    """The project's class and its student's name there, or None."""
    return projects.store().membership(pid) if pid is not None else None


def join(pid: int, code: str, name: str, client: str = "") -> ClassRow:
    """The project joins the class of `code` as `name`."""
    try:
        return projects.store().join(pid, code, (name or "")[:MAX_NAME])
    except UnknownCode as e:
        _count_wrong(client)   # past the limit, it says so instead
        raise ClassroomError(str(e)) from None
    except ClassError as e:
        raise ClassroomError(str(e)) from None


def leave(pid: int | None) -> bool:
    return projects.store().leave(pid) if pid is not None else False


def remove(class_id: int, project_id: int) -> bool:
    """The teacher takes a student out of the class (their project stays theirs)."""
    return projects.store().leave(project_id, class_id=class_id)


def set_open(class_id: int, open_: bool) -> None:
    """The class takes joins for JOIN_HOURS from now, or no more."""
    projects.store().set_joins(class_id, time.time() + (JOIN_HOURS * 3600 if open_ else -1))


def set_challenge(class_id: int, challenge: Challenge | None) -> None:
    projects.store().set_challenge(class_id, challenge.as_dict() if challenge is not None else None)


def hide(class_id: int, run_id: int, hidden: bool) -> bool:
    return projects.store().hide_run(class_id, run_id, hidden)


def share(pid: int, number: int, shared: bool = True) -> bool:
    return projects.store().share_run(pid, number, shared)


# ----------------------------------------------------------------------------------- board

@dataclass(frozen=True)
class Entry:
    """A place on a board: a student's best run of a data set."""

    rank: int
    run: ClassRun
    hidden: bool = False

    def as_dict(self) -> dict[str, Any]:
        r = self.run
        return {"rank": self.rank, "student": r.student, "run": r.number, "dataset": r.dataset,
                "test_accuracy": r.accuracy, "preset": r.preset, "hidden_sizes": list(r.config.get("hidden") or []),
                "epochs": r.epochs, "seconds": round(r.seconds, 1), "finished_at": r.finished_at}


def _scored(runs: list[ClassRun]) -> list[ClassRun]:
    return [r for r in runs if r.accuracy is not None and r.status in ("done", "stopped")]


def board(runs: list[ClassRun], dataset: str, challenge: Challenge | None = None,
          with_hidden: bool = False) -> list[Entry]:
    """Each student's best run of `dataset` (within the challenge's limits, if given), best first; ties
    go to the run that finished first. `with_hidden`: the teacher's view, hidden runs listed too."""
    best: dict[int, ClassRun] = {}
    hidden: list[ClassRun] = []
    for r in _scored(runs):
        if r.dataset != dataset or (challenge is not None and challenge.breaks(r)):
            continue
        if r.hidden:
            hidden.append(r)
            continue
        held = best.get(r.project_id)
        if held is None or _key(r) < _key(held):
            best[r.project_id] = r
    ranked = sorted(best.values(), key=_key)
    entries = [Entry(i + 1, r) for i, r in enumerate(ranked)]
    if with_hidden:
        entries += [Entry(0, r, hidden=True) for r in sorted(hidden, key=_key)]
    return entries


def _key(r: ClassRun) -> tuple[float, float, int]:
    return (-(r.accuracy or 0.0), r.finished_at or r.created_at, r.id)


def boards(class_: ClassRow, runs: list[ClassRun], with_hidden: bool = False) -> list[tuple[str, list[Entry]]]:
    """(title, entries) of the challenge's board first (if one is set), then one a data set with runs."""
    out: list[tuple[str, list[Entry]]] = []
    challenge = Challenge.of(class_.challenge)
    if challenge is not None:
        out.append((f"Challenge: {challenge.words()}", board(runs, challenge.dataset, challenge, with_hidden)))
    for dataset in sorted({r.dataset for r in _scored(runs)}):
        out.append((f"{dataset}: every run", board(runs, dataset, None, with_hidden)))
    return out


HONEST = ("Ranked by accuracy on the data set's test rows. Training never reads them: it learns from the "
          "training rows and is watched on validation rows held out from them; the test rows score a run "
          "once it ends. Each student's best run counts. (Where validation rows flatter, as Sign Language "
          "MNIST's do, the curves also show the test rows as a run goes: a run stopped by hand says so.)")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def board_html(titled: list[tuple[str, list[Entry]]], teacher: bool = False) -> str:
    """The boards as HTML tables (the teacher's have a Hide / Show link a row)."""
    if not titled:
        return '<div class="board"><p>No runs yet: the board fills as the class trains.</p></div>'
    parts = ['<div class="board">']
    for title, entries in titled:
        parts.append(f'<h4>{_esc(title)}</h4><table><thead><tr><th>#</th><th>student</th><th>test accuracy</th>'
                     f'<th>model</th><th>trained</th>{"<th></th>" if teacher else ""}</tr></thead><tbody>')
        if not entries:
            parts.append(f'<tr><td colspan="{6 if teacher else 5}">No run qualifies yet.</td></tr>')
        for e in entries:
            r = e.run
            hidden = ", ".join(map(str, r.config.get("hidden") or [])) or "linear"
            act = ""
            if teacher:
                act = (f'<td><a href="#" data-action="{"show" if e.hidden else "hide"}" data-run="{r.id}">'
                       f'{"show" if e.hidden else "hide"}</a></td>')
            parts.append(f'<tr class="{"hidden-entry" if e.hidden else ""}" data-run="{r.id}">'
                         f'<td>{e.rank or "hidden"}</td><td>{_esc(r.student)}</td><td>{r.accuracy:.2%}</td>'
                         f'<td>{_esc(r.preset)} · {_esc(hidden)}</td><td>{_esc(trainer.epochs_text(r.epochs))}'
                         f'{" (stopped)" if r.status == "stopped" else ""}, {r.seconds:.0f} s</td>{act}</tr>')
        parts.append("</tbody></table>")
    parts.append(f'<p class="board-note">{_esc(HONEST)}</p></div>')
    return "".join(parts)


def _when(t: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) if t else ""


def students_html(members: list[Member]) -> str:
    """The teacher's list of students, each with a Remove link."""
    if not members:
        return '<div class="roster"><p>No students yet: give them the join code.</p></div>'
    rows = "".join(f'<tr><td>{_esc(m.name)}</td><td>{m.runs}</td><td>{m.taught}</td><td>{_when(m.joined_at)}</td>'
                   f'<td><a href="#" data-action="remove" data-member="{m.project_id}" data-name="{_esc(m.name)}">'
                   f'remove</a></td></tr>' for m in members)
    return (f'<div class="roster"><table><thead><tr><th>student</th><th>runs</th><th>taught hands</th>'
            f'<th>joined</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>')


ENDED = {"running": "running", "interrupted": "interrupted", "stopped": "stopped"}


def runs_html(runs: list[ClassRun]) -> str:
    """Every run of the class, newest first, a small curve each; a click on a row opens it."""
    if not runs:
        return '<div class="class-runs"><p>No runs yet.</p></div>'
    rows = []
    for r in sorted(runs, key=lambda r: (r.finished_at or r.created_at), reverse=True):
        hidden = ", ".join(map(str, r.config.get("hidden") or [])) or "linear"
        accuracy = f"{r.accuracy:.2%}" if r.accuracy is not None else ENDED.get(r.status, "")
        rows.append(f'<tr data-run="{r.id}" title="Open this run"><td>{_esc(r.student)}</td><td>#{r.number}</td>'
                    f'<td>{_esc(r.dataset)}</td><td>{_esc(r.preset)} · {_esc(hidden)}</td><td>{accuracy}</td>'
                    f'<td>{_when(r.finished_at or r.created_at)}</td><td>{plots.sparkline(r.points)}</td></tr>')
    return ('<div class="class-runs"><table><thead><tr><th>student</th><th>run</th><th>data set</th><th>model</th>'
            '<th>test accuracy</th><th>when</th><th>validation accuracy</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def settings_md(run: ClassRun) -> str:
    """A run's settings, as a list."""
    keep = ("hidden", "activation", "dropout", "batchnorm", "epochs", "batch_size", "lr", "weight_decay",
            "optimizer", "schedule", "augment", "label_smoothing", "method", "seed")
    words = {**run.config, "hidden": trainer.in_words(run.config.get("hidden") or []) or "none (linear)"}
    lines = [f"{k.replace('_', ' ')} **{trainer.in_words(words[k])}**" for k in keep if k in words]
    return (f"**{run.student}, run #{run.number}** ({run.preset}, {run.dataset}): "
            + (f"test accuracy {run.accuracy:.2%}, " if run.accuracy is not None else "")
            + f"{trainer.epochs_text(run.epochs)} in {run.seconds:.0f} s.\n\nSettings: " + " · ".join(lines))


# ------------------------------------------------------------------------------- shared runs

def shared_choices(pid: int | None, dataset: str) -> list[tuple[str, str]]:
    """(label, value) of the runs of `dataset` classmates shared with the project's class."""
    if pid is None:
        return []
    return [(f"{r.student}'s run #{r.number}" + (f" · {r.accuracy:.2%}" if r.accuracy is not None else "")
             + " (class)", f"{SHARED_PREFIX}{r.id}") for r in projects.store().shared_runs(pid, dataset)]


def shared_predictor(pid: int | None, dataset: str, name: str) -> Predictor:
    """The predictor of the classmate's shared run `name` (class:<run id>), if it is still shared with
    the project's class."""
    try:
        run_id = int(name.removeprefix(SHARED_PREFIX))
    except ValueError:
        raise ClassroomError(f"{name!r} is not a class run.") from None
    shared = {r.id: r for r in (projects.store().shared_runs(pid, dataset) if pid is not None else [])}
    run = shared.get(run_id)
    if run is None:
        raise ClassroomError("That class run is not shared with your class any more: choose another model.")
    try:
        ckpt: checkpoint.Checkpoint = projects.run_checkpoint(run_id)
    except projects.ProjectError as e:
        raise ClassroomError(str(e)) from None
    return Predictor(ckpt, name=f"{run.student}'s run #{run.number}")
