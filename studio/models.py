"""The models the app serves, and each browser session's own choice among them.

Shipped models are loaded once, at import; a saved weights file once, on first use (a small
cache keyed by path and modification time). What a session classifies with is that session's
business: it starts with the shipped model, and only it can switch to its own trained run or a
saved file. A session's models and runs are freed when its browser page closes, or after an
idle hour for API clients that never close anything. Predictors are immutable, so one object
can serve any number of sessions at once.

Sessions live in this module's store (`SESSIONS`, keyed by Gradio's session hash, which API
clients have too) rather than in `gr.State`: a session's state is read and written by every tab
and by requests other than the one that made it (Stop reaches a running training generator; "Use
it" in the Train tab changes what the Draw tab answers), which would thread one State through
every event as input and output, and the idle hour is one rule here for pages and scripts alike.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier import data, paths
from classifier.models import checkpoint
from classifier.serving.predict import Predictor
from classifier.training.report import Report
from classifier.training.trainer import TrainConfig

log = logging.getLogger(__name__)

DATA_DIR = data.data_dir()
# Data sets that get a live classify tab: those whose kind of input has one.
TAB_SPECS = [spec for spec in data.DATASETS.values() if spec.kind is not None and spec.kind.wording is not None]
# Data sets whose models the app serves: those with a kind of input (the tabs', and the hand shapes
# the Hand signs tab reads first).
SERVED_SPECS = [spec for spec in data.DATASETS.values() if spec.kind is not None]
SESSION_RUN = "this session's trained model"  # not a file name: those are [A-Za-z0-9_-]
MAX_UPLOAD_BYTES = 64_000_000   # a weights file brought back (a 1024-1024 model and its detector: about 12 MB)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
IDLE_SECONDS = 3600
MAX_RUNS = 8  # per session; the oldest goes first (a 1024-1024 run holds ~12 MB)
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
class Run:
    """One finished (or stopped) training run of a session: what it was, how it went, its model."""

    number: int                      # 1, 2, ... within the session
    preset: str                      # the preset it is, "custom", or "uploaded" (a weights file brought back)
    config: TrainConfig
    points: list[dict[str, Any]]     # the curve: `EpochMetrics` as dicts (none for a file brought back)
    # On the test set; None for a file brought back whose classes are not its data set's (a taught model).
    report: Report | None
    checkpoint: checkpoint.Checkpoint    # the model, ready to serve or save
    seconds: float                   # training time, evaluations included
    device: str
    stopped: bool = False

    @property
    def accuracy(self) -> float | None:
        """Its test accuracy: measured here, else as its file says."""
        if self.report is not None:
            return self.report.accuracy
        value = self.checkpoint.meta.get("test_accuracy")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def title(self) -> str:
        accuracy = "" if self.accuracy is None else f" · {self.accuracy:.2%}"
        return f"#{self.number} {self.preset} · {self.config.dataset}{accuracy}"


@dataclass(frozen=True)
class Capture:
    """One example of a hand sign a user taught: what the hand-shape model reads, and what the user sees."""

    features: np.ndarray   # (63,) float32, `landmarks.hand_row`
    thumb: np.ndarray      # small uint8 greyscale picture of the hand's square


@dataclass
class Session:
    """What one browser session (or API client) has: its runs, its choices, its stop switch.

    Which model the session classifies with is written only by the methods below (the tabs call
    them) and read by `predictor_for`.
    """

    runs: list[Run] = field(default_factory=list)      # oldest first, at most MAX_RUNS
    runs_started: int = 0
    used: dict[str, Predictor] = field(default_factory=dict)   # data set -> its run or taught model, in use
    chosen: dict[str, str] = field(default_factory=dict)       # data set -> model name (absent: shipped)
    stop: threading.Event | None = None                # set to stop the session's training run
    inside: set[str] = field(default_factory=set)      # data sets whose tab looks inside the model
    # Teaching the hand-shape model one's own hand: label -> captures (the hand's row and a
    # thumbnail of the hand); the model taught on them is in `used`.
    captures: dict[str, list[Capture]] = field(default_factory=dict)
    recording: tuple[str, int] | None = None   # teaching from Live frames: (label, frames still to take)
    last_seen: float = field(default_factory=time.monotonic)

    def choose(self, dataset: str, name: str) -> None:
        """Classify `dataset` with `name`: a saved weights name, SESSION_RUN, or (empty or the data
        set's own name) the shipped model. The caller has checked that it can be served."""
        if not name or name == dataset:
            self.chosen.pop(dataset, None)
        else:
            self.chosen[dataset] = name

    def use_run(self, dataset: str, predictor: Predictor) -> None:
        """Classify `dataset` with this trained run's (or taught) model (the model menu's SESSION_RUN)."""
        self.used[dataset] = predictor
        self.chosen[dataset] = SESSION_RUN

    def use_shipped(self, dataset: str) -> None:
        """Classify `dataset` with the shipped model again (its trained one stays on the menu)."""
        self.choose(dataset, "")

    def add_run(self, run: Run) -> None:
        self.runs.append(run)
        del self.runs[:-MAX_RUNS]

    def find_run(self, number: int | str | None = None) -> Run | None:
        """Run `number` (the latest if None or empty), or None if there is no such run (any more)."""
        if number in (None, ""):
            return self.runs[-1] if self.runs else None
        return next((r for r in self.runs if str(r.number) == str(number)), None)


class Sessions:
    """Every session's own state, created on first write, dropped at the end or when idle."""

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
        """The session is over (its page closed): stop its run and free its models."""
        with self._lock:
            s = self._by_id.pop(session_id, None)
        if s is not None and s.stop is not None:
            s.stop.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)


SESSIONS = Sessions()


def session_id(request: Any) -> str:
    """The browser session (or API client) a Gradio request comes from."""
    return getattr(request, "session_hash", None) or "anonymous"


def predictor_for(dataset: str, session_id: str, name: str = "") -> Predictor:
    """The model that classifies `dataset` for this session: `name` if given, else the session's choice."""
    session = SESSIONS.get(session_id)
    name = name or (session.chosen.get(dataset, dataset) if session else dataset)
    if name == SESSION_RUN:
        if session is None or dataset not in session.used:
            raise ModelChoiceError(f"This session has no trained {dataset} model in use: train one and press "
                                   "'Use this model'.")
        return session.used[dataset]
    if name == dataset:
        predictor = SHIPPED.get(dataset)
        if predictor is None:
            raise ModelChoiceError(LOAD_ERRORS.get(dataset) or f"No shipped model for {dataset}.")
        return predictor
    return load_saved(dataset, name)


def own_model(dataset: str, session_id: str) -> Predictor | None:
    """The session's own model of `dataset` in use (a Train-tab run, or taught), or None."""
    session = SESSIONS.get(session_id)
    return session.used.get(dataset) if session is not None and session.chosen.get(dataset) == SESSION_RUN else None


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


def choices(dataset: str, session_id: str) -> list[tuple[str, str]]:
    """(label, name) of every model this session may pick for `dataset`."""
    options = [(f"{dataset}.safetensors (shipped)", dataset)] + [(f"{n}.safetensors", n) for n in saved_names(dataset)]
    session = SESSIONS.get(session_id)
    if session is not None and dataset in session.used:
        options.append((session.used[dataset].name, SESSION_RUN))   # named for the run it is: "run #1 ..."
    return options
