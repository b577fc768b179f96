"""The models the app serves, and each session's choice among them.

Shipped models are loaded once, at import; a saved weights file once, on first use (a small
cache keyed by path and modification time). What a session classifies with is its project's
business (`projects`): it starts with the shipped model, and only the project can switch to its
own trained run, a taught model or a saved file. Predictors are immutable, so one object can serve
any number of sessions at once.

What a session has in this process only (its stop switch, what its tabs show) lives in `SESSIONS`,
keyed by Gradio's session hash, which API clients have too, rather than in `gr.State`: Stop
reaches a running training generator from another request, and the idle hour is one rule here
for pages and scripts alike (their projects stay in the store).
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import data, paths
from classifier.models import checkpoint
from classifier.serving import spelling
from classifier.serving.predict import Predictor

from . import classroom, projects
from .store import OWN, Limits

log = logging.getLogger(__name__)

DATA_DIR = data.data_dir()
# Data sets that get a live classify tab: those whose kind of input has one.
TAB_SPECS = [spec for spec in data.DATASETS.values() if spec.kind is not None and spec.kind.wording is not None]
# Data sets whose models the app serves: those with a kind of input (the tabs', and the hand shapes
# the Hand signs tab reads first).
SERVED_SPECS = [spec for spec in data.DATASETS.values() if spec.kind is not None]
OWN_MODEL = OWN   # the Model menu's value for the project's own model (not a file name: "own" is not one)
MAX_UPLOAD_BYTES = 64_000_000   # a weights file brought back (a 1024-1024 model and its detector: about 12 MB)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
IDLE_SECONDS = 3600
MAX_RUNS = Limits.max_runs  # per project; the oldest not in use goes first (a 1024-1024 run holds ~12 MB)
FILE_CACHE_SIZE = 16


@dataclass(frozen=True)
class Saving:
    """Whether visitors may save a run into the server's weights/ folder, and how much of it.

    Off unless the person who runs the app turns it on (`demo.py --save-to-weights`): on a shared
    or public server, saving would let any visitor fill the disk and plant files that others then
    load from the model menu. Everyone can download their runs either way."""

    enabled: bool = False
    max_files: int = 50                  # saved files in weights/, the shipped ones not counted
    max_bytes: int = 1_000_000_000       # their total size


SAVING = Saving()


class ModelChoiceError(ValueError):
    """A model name that cannot be served for a data set; the message says why."""


def _load_shipped(name: str) -> tuple[Predictor | None, str]:
    path = paths.weights_path(name)
    try:
        return Predictor(checkpoint.load(path, expect_dataset=name), name=path.name), ""
    except checkpoint.CheckpointError as e:
        log.error("cannot load shipped weights: %s", e)
        return None, f"No usable model for {name}: {e}. Train one with `python train.py {name}`."


SHIPPED: dict[str, Predictor | None] = {}
LOAD_ERRORS: dict[str, str] = {}
for _spec in SERVED_SPECS:
    SHIPPED[_spec.name], LOAD_ERRORS[_spec.name] = _load_shipped(_spec.name)


# ---------------------------------------------------------------------------- saved files

_files: OrderedDict[tuple[str, int], Predictor] = OrderedDict()
_files_lock = threading.Lock()


def saved_names(dataset: str) -> list[str]:
    """Names of the weights files in weights/ for `dataset`, other than the shipped ones."""
    names = []
    for path in sorted(paths.WEIGHTS_DIR.glob("*.safetensors")):
        if path.stem in data.DATASETS:
            continue
        try:
            if checkpoint.read_meta(path)["dataset"] == dataset:
                names.append(path.stem)
        except checkpoint.CheckpointError:
            continue  # not ours to serve; `load_saved` explains if someone asks for it by name
    return names


def saved_files() -> list[Path]:
    """Every weights file in weights/ that is not one the app ships (the data sets' and the locator)."""
    shipped = {*data.DATASETS, paths.WEIGHTS_DIR.joinpath("hand_locator").name}
    return [p for p in sorted(paths.WEIGHTS_DIR.glob("*.safetensors")) if p.stem not in shipped]


def load_saved(dataset: str, name: str) -> Predictor:
    """The predictor of weights/<name>.safetensors, which must be a `dataset` model."""
    if not SAFE_NAME.match(name):
        raise ModelChoiceError(f"{name!r} is not a weights name (letters, digits, - and _).")
    path: Path = paths.weights_path(name)
    if not path.is_file():
        raise ModelChoiceError(f"There is no weights file {path.name}.")
    key = (str(path), path.stat().st_mtime_ns)
    with _files_lock:
        if key in _files:
            _files.move_to_end(key)
            return _files[key]
    try:
        predictor = Predictor(checkpoint.load(path, expect_dataset=dataset), name=path.name)
    except checkpoint.CheckpointError as e:
        raise ModelChoiceError(str(e)) from None
    with _files_lock:
        _files[key] = predictor
        while len(_files) > FILE_CACHE_SIZE:
            _files.popitem(last=False)
    return predictor


# ------------------------------------------------------------------------------ downloads

DOWNLOADS = Path(tempfile.mkdtemp(prefix="classifier-downloads-"))
DOWNLOAD_SECONDS = 600  # Gradio copies a returned file into its own cache at once; ours go after this


def download_folder() -> Path:
    """A new folder for one file to download; folders older than DOWNLOAD_SECONDS are deleted."""
    now = time.time()
    for old in DOWNLOADS.iterdir():
        try:
            stale = now - old.stat().st_mtime > DOWNLOAD_SECONDS
        except FileNotFoundError:  # another request cleaned it first
            continue
        if stale:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=DOWNLOADS))


# ------------------------------------------------------------------------------- sessions

@dataclass
class Session:
    """What one browser session (or API client) has in this process only: its stop switch, what its
    tabs show. Its work (runs, choices, taught hands) is its project's, in the store (`projects`)."""

    stop: Callable[[], None] | None = None             # stops the session's training run, while it trains
    inside: set[str] = field(default_factory=set)      # data sets whose tab looks inside the model
    recording: tuple[str, int] | None = None   # teaching from Live frames: (label, frames still to take)
    recorded_at: float = 0.0                   # when the last of them was taken (time.monotonic)
    speller: spelling.Speller | None = None    # the live frames' letters (Hand signs, Live)
    spelled: str = ""                          # the live word line
    practice: Any = None                       # the word being practised (`spell_panel.Practice`)
    last_seen: float = field(default_factory=time.monotonic)


class Sessions:
    """Every session's own state in this process, created on first write, dropped at the end or when idle."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._by_id: dict[str, Session] = {}

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            s = self._by_id.get(session_id)
            if s is not None:
                s.last_seen = time.monotonic()
            return s

    def edit(self, session_id: str) -> Session:
        """The session's state, created if new; also drops sessions idle for too long."""
        now = time.monotonic()
        with self._lock:
            for sid in [k for k, v in self._by_id.items() if now - v.last_seen > self.idle_seconds]:
                if sid != session_id and (self._by_id[sid].stop is None):  # never drop a running session
                    del self._by_id[sid]
            s = self._by_id.setdefault(session_id, Session())
            s.last_seen = now
            return s

    def end(self, session_id: str) -> None:
        """The session is over (its page closed): stop its run."""
        with self._lock:
            s = self._by_id.pop(session_id, None)
        if s is not None and s.stop is not None:
            s.stop()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)


SESSIONS = Sessions()
BEHIND_PROXY = False   # demo.py --behind-proxy: the client's address is the proxy's X-Forwarded-For


def session_id(request: Any) -> str:
    """The browser session (or API client) a Gradio request comes from."""
    return getattr(request, "session_hash", None) or "anonymous"


def client(request: Any) -> str:
    """The address a request comes from (what making projects is rate-limited by)."""
    if BEHIND_PROXY:
        forwarded = (getattr(request, "headers", None) or {}).get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()   # the hop our own proxy added
    return str(getattr(getattr(request, "client", None), "host", "") or "")


def project_of(request: Any) -> int:
    """The project the request's session works in, made if it has none (for a request that writes)."""
    return projects.project(session_id(request), client(request))


def predictor_for(dataset: str, session_id: str | None, name: str = "") -> Predictor:
    """The model that classifies `dataset` for this session: `name` if given, else its project's choice.
    `session_id` None: the page as it is built, before any session (no store is opened for it)."""
    pid = projects.bound(session_id) if session_id is not None else None
    if not name:
        chosen, own = projects.choice(pid, dataset)
        if own is not None:
            return own
        name = chosen or dataset
    if name.startswith(classroom.SHARED_PREFIX):
        try:
            return classroom.shared_predictor(pid, dataset, name)
        except classroom.ClassroomError as e:
            raise ModelChoiceError(str(e)) from None
    if name == OWN_MODEL:
        own = projects.own_model(pid, dataset) if pid is not None else None
        if own is None:
            raise ModelChoiceError(f"This project has no trained {dataset} model of its own: train one and press "
                                   "'Use this model'.")
        return own
    if name == dataset:
        predictor = SHIPPED.get(dataset)
        if predictor is None:
            raise ModelChoiceError(LOAD_ERRORS.get(dataset) or f"No shipped model for {dataset}.")
        return predictor
    return load_saved(dataset, name)


def own_model(dataset: str, session_id: str) -> Predictor | None:
    """The project's own model of `dataset` in use (a Train-tab run, or taught), or None."""
    pid = projects.bound(session_id)
    return projects.own_predictor(pid, dataset) if pid is not None else None


def chosen(dataset: str, session_id: str) -> str:
    """The Model menu's value for this session: the data set's name (shipped), a saved file's, or OWN_MODEL."""
    return projects.choice(projects.bound(session_id), dataset)[0] or dataset


def where_read(dataset: str) -> tuple[str, str] | None:
    """Where the app reads `dataset`'s models, in words: ("digits tab", "uses") for a data set with a tab
    of its own, ("Hand signs tab", "reads hand shapes with") for one another tab's kind reads first;
    None where no tab does."""
    spec = data.get_spec(dataset)
    if spec in TAB_SPECS:
        return f"{dataset} tab", "uses"
    reader = next((t for t in TAB_SPECS if t.kind is not None and t.kind.hands is spec.kind), None)
    if reader is None or reader.kind is None or reader.kind.wording is None:
        return None
    return f"{reader.kind.wording.tab} tab", f"reads {spec.noun}s with"


def choices(dataset: str, session_id: str | None) -> list[tuple[str, str]]:
    """(label, name) of every model this session may pick for `dataset` (None: the page as built)."""
    options = [(f"{dataset}.safetensors (shipped)", dataset)] + [(f"{n}.safetensors", n) for n in saved_names(dataset)]
    pid = projects.bound(session_id) if session_id is not None else None
    title = projects.own_title(pid, dataset)
    if title is not None:
        options.append((title, OWN_MODEL))   # named for the run it is: "run #1 ..."
    return options + classroom.shared_choices(pid, dataset)   # classmates' runs shared with the class
