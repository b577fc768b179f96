"""Projects: what a visitor makes, kept in the store (`studio.store`) so that a reload, a new tab,
another app process or a restart finds it again.

A browser session works in one project, found by the project's key: the page keeps the key in
its local storage (or opens a project link, `#project=KEY`, whose key never reaches a server's
logs) and hands it over when it loads; an API client gets its own with /project_key. Which project
a session works in is in the store too, so any process serves it. This module turns the store's
plain rows into what the app uses (runs with their `TrainConfig`, `Report` and `Checkpoint`, the
models in use, taught hands) and keeps a few decoded models per process, keyed so that a change
made by any process is seen by all.

The store opens on first use, at the URL `configure` set (`demo.py --database`), else
CLASSIFIER_DATABASE, else a SQLite file in the state folder (`state_dir`).
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier import data, paths
from classifier.inputs import strokes as drawn_strokes
from classifier.inputs.imageprep import ImageInputError
from classifier.models import checkpoint
from classifier.serving.predict import Predictor
from classifier.training.report import Report
from classifier.training.trainer import TrainConfig

from .store import HANDS, OWN, Limits, RunRow, Store, StoreError

log = logging.getLogger(__name__)

STATE_DIR_ENV = "CLASSIFIER_STATE_DIR"
DATABASE_ENV = "CLASSIFIER_DATABASE"
HEARTBEAT_SECONDS = 10.0    # how often this process says its running runs are alive
BOUND_SECONDS = 10.0        # how long a process trusts its memory of a session's project
CACHE_SIZE = 16             # decoded models a process keeps (a 1024-1024 model is ~12 MB)
SESSION_DAYS = 30           # a session binding unused this long goes (its project stays)


class ProjectError(ValueError):
    """A project request that cannot be taken; the message says why."""


def state_dir() -> Path:
    """Where the app keeps its store (git-ignored): $CLASSIFIER_STATE_DIR, else `state/` in the project."""
    return Path(os.environ.get(STATE_DIR_ENV) or paths.ROOT / "state")


def database_url() -> str:
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{(state_dir() / 'studio.db').resolve()}"


_store: Store | None = None
_store_lock = threading.Lock()
_url: str | None = None
_limits = Limits()


def configure(url: str | None = None, limits: Limits | None = None) -> None:
    """Use the store at `url` (None: the default), with `limits`; before the first request."""
    global _store, _url, _limits
    with _store_lock:
        if _store is not None:
            _store.close()
            _store = None
        _url = url
        _limits = limits or Limits()
    _bound.clear()
    _cache.clear()


def store() -> Store:
    """The store, opened (and migrated) on first use; this process's heartbeat starts with it."""
    global _store
    with _store_lock:
        if _store is None:
            _store = Store(_url or database_url(), _limits)
            _store.forget_sessions(SESSION_DAYS * 86400)
            threading.Thread(target=_beat, args=(_store,), name="store-heartbeat", daemon=True).start()
        return _store


def _beat(of: Store) -> None:
    """Say every HEARTBEAT_SECONDS that this process's running runs are alive (until the store changes)."""
    while _store is of:
        time.sleep(HEARTBEAT_SECONDS)
        try:
            of.heartbeat()
        except Exception:  # noqa: BLE001 - a store briefly unreachable: try again at the next beat
            log.exception("heartbeat failed")


# ---------------------------------------------------------------------------- sessions

# session -> (its project or None, when this process last read it); None too, so that a session
# without a project (a script that only classifies) costs no store read a request.
_bound: dict[str, tuple[int | None, float]] = {}
_bound_lock = threading.Lock()


def bound(session: str) -> int | None:
    """The project `session` works in, or None if it has none yet."""
    now = time.monotonic()
    with _bound_lock:
        known = _bound.get(session)
    if known is not None and now - known[1] < BOUND_SECONDS:
        return known[0]
    pid = store().project_of_session(session)   # made by another process, or deleted by one
    with _bound_lock:
        fresher = _bound.get(session)
        if fresher is not None and fresher[1] > now:   # bound or forgotten here while the store was read
            return fresher[0]
        _bound[session] = (pid, now)
        if len(_bound) > 100_000:  # memory only: the store keeps every binding
            _bound.pop(next(iter(_bound)))
    return pid


def _remember(session: str, pid: int | None) -> None:
    """What this process just wrote of `session`'s project (None: it has none now)."""
    with _bound_lock:
        _bound[session] = (pid, time.monotonic())


def _bind(session: str, pid: int) -> None:
    store().bind(session, pid)
    _remember(session, pid)


def project(session: str, client: str = "") -> int:
    """The project `session` works in, made (for `client`, an address) if it has none."""
    pid = bound(session)
    if pid is None:
        try:
            pid, _ = store().new_project(client)
        except StoreError as e:
            raise ProjectError(str(e)) from None
        _bind(session, pid)
    return pid


def key(session: str, client: str = "") -> str:
    """The key of `session`'s project (made if it has none)."""
    found = store().key_of(project(session, client))
    if found is None:  # deleted in between
        _remember(session, None)
        found = store().key_of(project(session, client)) or ""
    return found


def open_key(session: str, key: str) -> int:
    """Make `session` work in the project whose key this is."""
    pid = store().project_of_key((key or "").strip())
    if pid is None:
        raise ProjectError("No project has this key: check the link, or the project was deleted.")
    _bind(session, pid)
    return pid


def attach(session: str, key: str, client: str = "") -> tuple[str, bool]:
    """A page opening: work in the project of `key` (what the browser kept), or in a new one if it has
    none (or it is gone). Returns the key the page should keep and whether the project is new."""
    key = (key or "").strip()
    if key:
        try:
            open_key(session, key)
            return key, False
        except ProjectError:
            pass
    new = bound(session) is None
    pid = project(session, client)
    return store().key_of(pid) or "", new


def delete(session: str) -> None:
    """Delete `session`'s project: every run, taught hand and choice in it. The session has none after."""
    pid = bound(session)
    if pid is not None:
        store().delete_project(pid)
    _remember(session, None)


# -------------------------------------------------------------------------------- models

_cache: OrderedDict[tuple[str, Any], Any] = OrderedDict()
_cache_lock = threading.Lock()


def _cached(key: tuple[str, Any], make: Any) -> Any:
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = make()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def _decode(raw: bytes | None, source: str) -> checkpoint.Checkpoint:
    if raw is None:
        raise ProjectError(f"{source} has no model (it was interrupted, or deleted).")
    try:
        return checkpoint.from_bytes(raw, source)
    except checkpoint.CheckpointError as e:
        raise ProjectError(str(e)) from None


def run_checkpoint(run_id: int) -> checkpoint.Checkpoint:
    """A stored run's model (decoded once a process)."""
    return _cached(("run", run_id), lambda: _decode(store().run_weights(run_id), f"run {run_id}"))


def own_predictor(pid: int, dataset: str, taught: bool = False) -> Predictor | None:
    """The project's own model of `dataset` in use (a run's, or taught; with `taught`, a taught one
    only: weights of its own), or None. Also None where the project classifies `dataset` with another
    model: see `choice`."""
    chosen, use = store().choice_and_use(pid, dataset)
    if chosen != OWN or use is None or (taught and use.run_id is not None):
        return None
    return _own(pid, dataset, use)


def own_model(pid: int, dataset: str) -> Predictor | None:
    """The project's own model of `dataset`, in use or not (the Model menu's entry), or None."""
    use = store().used(pid, dataset)
    return _own(pid, dataset, use) if use is not None else None


def _own(pid: int, dataset: str, use: Any) -> Predictor:
    """The predictor of the project's own model `use` (decoded once a process: `use.stamp` changes
    with every write)."""
    def make() -> Predictor:
        raw = store().use_weights(pid, dataset)
        return Predictor(_decode(raw, use.title), name=use.title)
    return _cached(("use", use.stamp), make)


def choice(pid: int | None, dataset: str) -> tuple[str, Predictor | None]:
    """What the project classifies `dataset` with: ("", None) for the shipped model, (OWN, its own
    model), or (a saved file's name, None)."""
    if pid is None:
        return "", None
    chosen, use = store().choice_and_use(pid, dataset)
    if chosen == OWN:
        return (OWN, _own(pid, dataset, use)) if use is not None else ("", None)
    return chosen or "", None


def own_title(pid: int | None, dataset: str) -> str | None:
    """The Model menu's name for the project's own model of `dataset` (whether in use or not)."""
    if pid is None:
        return None
    use = store().used(pid, dataset)
    return use.title if use is not None else None


def choose(pid: int, dataset: str, name: str) -> None:
    """Classify `dataset` with `name`: a saved file's name, OWN, or ("" or the data set's) the shipped model."""
    store().choose(pid, dataset, None if not name or name == dataset else name)


def use_run(pid: int, dataset: str, run: Run) -> None:
    store().use(pid, dataset, f"run {run.title}", run_id=run.id)


def use_taught(pid: int, dataset: str, ckpt: checkpoint.Checkpoint, title: str) -> None:
    try:
        store().use(pid, dataset, title, weights=ckpt.to_bytes())
    except StoreError as e:
        raise ProjectError(str(e)) from None


def forget_own(pid: int, dataset: str) -> None:
    """The project has no own model of `dataset` any more, and classifies it with the shipped one."""
    store().unuse(pid, dataset)


# ---------------------------------------------------------------------------------- runs

@dataclass
class Run:
    """One run of a project, as stored: what it was, how it went; its model is read when asked for."""

    id: int
    number: int                      # 1, 2, ... within the project
    preset: str                      # the preset it is, "custom", or "uploaded" (a weights file brought back)
    config: TrainConfig
    points: list[dict[str, Any]]     # the curve: `EpochMetrics` as dicts (none for a file brought back)
    # On the test set; None for a file brought back whose classes are not its data set's (a taught model).
    report: Report | None
    accuracy: float | None           # its test accuracy: measured here, else as its file says
    epochs: float
    seconds: float                   # training time, evaluations included
    device: str
    stopped: bool = False
    status: str = "done"             # running, done, stopped, interrupted (no model)

    @property
    def checkpoint(self) -> checkpoint.Checkpoint:
        """The model, ready to serve or save (ProjectError for an interrupted run)."""
        return run_checkpoint(self.id)

    @property
    def has_model(self) -> bool:
        return self.status in ("done", "stopped")

    @property
    def title(self) -> str:
        accuracy = "" if self.accuracy is None else f" · {self.accuracy:.2%}"
        return f"#{self.number} {self.preset} · {self.config.dataset}{accuracy}"

    @classmethod
    def of(cls, row: RunRow) -> Run:
        fields = {f.name for f in dataclasses.fields(TrainConfig)}
        config = TrainConfig(**{k: v for k, v in row.config.items() if k in fields})
        return cls(row.id, row.number, row.preset, config, row.points,
                   Report.from_dict(row.report) if row.report else None, row.accuracy, row.epochs, row.seconds,
                   row.device, row.stopped, row.status)


def runs(pid: int | None) -> list[Run]:
    """The project's runs, oldest first."""
    return [Run.of(r) for r in store().runs(pid)] if pid is not None else []


def pick(found: list[Run], number: int | str | None = None) -> Run | None:
    """Run `number` of `found` (the latest if None or empty), or None if there is no such run (any more)."""
    if number in (None, ""):
        return found[-1] if found else None
    return next((r for r in found if str(r.number) == str(number)), None)


def find_run(pid: int | None, number: int | str | None = None) -> Run | None:
    """The project's run `number` (the latest if None or empty), or None."""
    return pick(runs(pid), number)


def start_run(pid: int, dataset: str, preset: str, config: TrainConfig) -> tuple[int, int]:
    """A run starting in this process: its id and number."""
    return store().start_run(pid, dataset, preset, dataclasses.asdict(config))


def record(run_id: int, points: list[dict[str, Any]], epochs: float) -> None:
    """The running run's curve so far: what stays if its process dies."""
    store().record_points(run_id, points, epochs)


def finish_run(run_id: int, points: list[dict[str, Any]], report: Report | None, ckpt: checkpoint.Checkpoint,
               epochs: float, seconds: float, device: str, stopped: bool) -> None:
    try:
        store().finish_run(run_id, points=points, report=report.to_dict() if report else None,
                           accuracy=_accuracy(report, ckpt),
                           epochs=epochs, seconds=seconds, device=device, stopped=stopped, weights=ckpt.to_bytes())
    except StoreError as e:
        store().interrupt_run(run_id, points)
        raise ProjectError(str(e)) from None


def delete_run(pid: int, number: int) -> bool:
    """Delete run `number` (not while it trains); where it was the project's model in use, the
    shipped model is chosen again. False if it is still training."""
    return store().delete_run(pid, number)


def interrupt(run_id: int, points: list[dict[str, Any]]) -> None:
    store().interrupt_run(run_id, points)


def add_run(pid: int, preset: str, config: TrainConfig, report: Report | None, ckpt: checkpoint.Checkpoint,
            seconds: float, device: str) -> Run:
    """A finished model made elsewhere (a file brought back) as the project's newest run."""
    try:
        run_id, _ = store().add_run(pid, dataset=config.dataset, preset=preset, config=dataclasses.asdict(config),
                                    points=[], report=report.to_dict() if report else None,
                                    accuracy=_accuracy(report, ckpt),
                                    epochs=float(ckpt.meta.get("epochs") or 0), seconds=seconds, device=device,
                                    weights=ckpt.to_bytes())
    except StoreError as e:
        raise ProjectError(str(e)) from None
    return next(r for r in runs(pid) if r.id == run_id)


def _accuracy(report: Report | None, ckpt: checkpoint.Checkpoint) -> float | None:
    """A model's test accuracy: measured here (`report`), else as its file says."""
    if report is not None:
        return report.accuracy
    value = ckpt.meta.get("test_accuracy")
    return float(value) if isinstance(value, (int, float)) else None


# ---------------------------------------------------------------------------- taught hands

def _row_type(dataset: str) -> tuple[str, tuple[int, ...]]:
    """How a taught example of `dataset` is kept: hands as little-endian float32, pictures as uint8."""
    rows = data.get_spec(dataset).rows
    return ("<f4" if rows.name == "hands" else "u1"), tuple(rows.shape)


def add_capture(pid: int, label: str, row: np.ndarray, dataset: str = HANDS, strokes: str | None = None) -> None:
    """A taught example of `dataset` (a hand's row; a drawing's 28x28 and its strokes, JSON)."""
    dtype, shape = _row_type(dataset)
    try:
        store().add_capture(pid, label, np.asarray(row, dtype=dtype).reshape(shape).tobytes(), dataset, strokes)
    except StoreError as e:
        raise ProjectError(str(e)) from None


def captures(pid: int | None, dataset: str = HANDS) -> dict[str, list[tuple[int, np.ndarray]]]:
    """The project's taught examples of `dataset`: label -> [(id, its row)], in the order taught."""
    dtype, shape = _row_type(dataset)
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for capture_id, label, raw in store().captures(pid, dataset) if pid is not None else []:
        row = np.frombuffer(raw, dtype=dtype).reshape(shape)
        out.setdefault(label, []).append((capture_id, row.astype(np.float32 if dtype == "<f4" else np.uint8)))
    return out


def capture_strokes(pid: int | None, dataset: str) -> list[tuple[int, str, str | None, float]]:
    """(id, label, strokes JSON, when) of the project's taught drawings of `dataset`, in the order taught."""
    return store().capture_strokes(pid, dataset) if pid is not None else []


def delete_captures(pid: int, ids: list[int] | None = None, dataset: str = HANDS) -> None:
    store().delete_captures(pid, ids, dataset)


# ----------------------------------------------------------------------------- project files

FILE_FORMAT = "classifier-project"
FILE_VERSION = 1
MAX_FILE_MEMBERS = 64
MAX_FILE_BYTES = 250_000_000     # uncompressed, all members together


def export(pid: int) -> bytes:
    """The project as one file (a zip): `project.json` (its runs' settings, curves and reports, its
    taught examples, which models it uses) and each model as a safetensors file. Nothing in it is
    executable; `import_into` reads it back."""
    found = runs(pid)
    own = {}
    for dataset in data.DATASETS:
        use = store().used(pid, dataset)
        if use is not None:
            own[dataset] = use
    chosen = store().chosen(pid)
    # Each data set's taught examples, and the strokes of those drawn.
    taught = [(d, {i: st for i, _, st, _ in capture_strokes(pid, d)}) for d in data.DATASETS if data.DATASETS[d].kind]
    listing: dict[str, Any] = {"format": FILE_FORMAT, "version": FILE_VERSION, "runs": [], "uses": [],
                               "captures": [{"label": label, "row": row.tolist(), "dataset": dataset}
                                            | ({"strokes": strokes.get(capture_id)} if strokes.get(capture_id) else {})
                                            for dataset, strokes in taught for label, rows in
                                            captures(pid, dataset).items() for capture_id, row in rows]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for run in found:
            name = f"runs/{run.number}.safetensors" if run.has_model else None
            if name is not None:
                z.writestr(name, store().run_weights(run.id) or b"")
            listing["runs"].append({"number": run.number, "preset": run.preset,
                                    "config": dataclasses.asdict(run.config), "points": run.points,
                                    "report": run.report.to_dict() if run.report else None,
                                    "accuracy": run.accuracy, "epochs": run.epochs, "seconds": run.seconds,
                                    "device": run.device, "stopped": run.stopped, "status": run.status, "file": name})
        for dataset, use in own.items():
            entry: dict[str, Any] = {"dataset": dataset, "title": use.title, "in_use": chosen.get(dataset) == OWN}
            number = next((r.number for r in found if r.id == use.run_id), None)
            if number is not None:
                entry["run"] = number
            else:
                entry["file"] = f"taught/{dataset}.safetensors"
                z.writestr(entry["file"], store().use_weights(pid, dataset) or b"")
            listing["uses"].append(entry)
        z.writestr("project.json", json.dumps(listing))
    return buffer.getvalue()


def import_into(pid: int, path: str | Path) -> str:
    """Add a project file's runs, taught examples and models in use to project `pid`; what was added."""
    name = Path(path).name
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            if len(members) > MAX_FILE_MEMBERS or sum(m.file_size for m in members) > MAX_FILE_BYTES:
                raise ProjectError(f"{name} holds more than a project file may ({MAX_FILE_MEMBERS} files, "
                                   f"{MAX_FILE_BYTES / 1e6:.0f} MB).")
            listing = json.loads(z.read("project.json"))
            if not isinstance(listing, dict) or listing.get("format") != FILE_FORMAT:
                raise ProjectError(f"{name} is not a project file of this app.")
            if listing.get("version") != FILE_VERSION:
                raise ProjectError(f"{name} is a project file of version {listing.get('version')}; this app reads "
                                   f"version {FILE_VERSION}.")
            files = {m.filename for m in members}

            def model(member: str) -> checkpoint.Checkpoint:
                if member not in files:
                    raise ProjectError(f"{name} names {member}, which it does not hold.")
                return _decode(z.read(member), f"{name}: {member}")

            added: dict[int, Run] = {}
            fields = {f.name for f in dataclasses.fields(TrainConfig)}
            for entry in listing.get("runs", []):
                if not entry.get("file"):
                    continue   # an interrupted run: nothing to bring back but a curve
                ckpt = model(str(entry["file"]))
                config = TrainConfig(**{k: v for k, v in dict(entry["config"]).items() if k in fields})
                report = Report.from_dict(entry["report"]) if entry.get("report") else None
                run_id, _ = store().add_run(
                    pid, dataset=ckpt.dataset, preset=str(entry.get("preset") or "uploaded"),
                    config=dataclasses.asdict(config), points=list(entry.get("points") or []),
                    report=report.to_dict() if report else None,
                    accuracy=_accuracy(report, ckpt),
                    epochs=float(entry.get("epochs") or 0), seconds=float(entry.get("seconds") or 0),
                    device=str(entry.get("device") or ""), weights=ckpt.to_bytes())
                added[int(entry["number"])] = next(r for r in runs(pid) if r.id == run_id)
            taught = 0
            for capture in listing.get("captures", []):
                dataset = str(capture.get("dataset") or HANDS)
                if dataset not in data.DATASETS or data.DATASETS[dataset].kind is None:
                    raise ProjectError(f"{name}: a taught example names no data set this app teaches ({dataset!r}).")
                _, shape = _row_type(dataset)
                row = np.asarray(capture["row"], dtype=np.float32)
                if row.shape != shape or not np.isfinite(row).all() or (shape != (63,) and (
                        (row < 0).any() or (row > 255).any())):
                    raise ProjectError(f"{name}: a taught example is not a {dataset} row {shape}.")
                drawn = capture.get("strokes")
                if drawn is not None:
                    drawn_strokes.parse(drawn)   # checked as any drawing sent is (ImageInputError: not one)
                add_capture(pid, str(capture["label"])[:64], row, dataset, drawn if isinstance(drawn, str) else None)
                taught += 1
            for entry in listing.get("uses", []):
                dataset = str(entry["dataset"])
                if "run" in entry and int(entry["run"]) in added:
                    use_run(pid, dataset, added[int(entry["run"])])
                elif "file" in entry:
                    use_taught(pid, dataset, model(str(entry["file"])), str(entry.get("title") or "taught"))
                else:
                    continue
                if not entry.get("in_use"):
                    choose(pid, dataset, "")
    except ProjectError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, ImageInputError) as e:
        raise ProjectError(f"{name} is not a readable project file ({type(e).__name__}: {e}).") from None
    except StoreError as e:
        raise ProjectError(str(e)) from None
    return f"Added from {name}: {len(added)} run(s), {taught} taught example(s)."
