"""Training runs in a process of its own, beside the app's: the app's requests never wait for it.

A training run in a thread of the app's process shares the interpreter's lock with every request:
each time the run holds it (between tensor operations, or while a lower-priority thread is off the
CPU), the people drawing wait. So each app process keeps one training process, started with
`python -m studio.train_worker` (it imports only the library, never the app), at a lower scheduling
priority, with the app's share of the cores. The two talk over a socket pair with
`multiprocessing.connection` messages:

    app -> worker   ("job", Job)    train it (one at a time)
                    ("stop",)       stop after the current batch, keep the model (the Stop button)
                    ("abort",)      stop, keep nothing (the page went away)
    worker -> app   ("status", text)            something slow is being made first
                    ("started", Started)        the run's facts, once
                    ("progress", epoch, step, steps)    at most every `Job.poll_seconds`
                    ("point", EpochMetrics)     a curve point
                    ("done", Finished) / ("aborted",) / ("error", kind, message)   the run's end

What a process makes once (data sets, outlier images, "not sure" calibration inputs) it keeps for
the next run. The worker exits when the app does (its end of the socket closes); if the worker
dies (out of memory, a crash), the run is reported as failed and the next run starts a new one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch

from classifier import data
from classifier.training import finish, trainer
from classifier.training.trainer import Trainer

from . import memory, priority

log = logging.getLogger(__name__)

ABORT_SECONDS = 30.0   # how long an aborted run may take to wind down before its process is killed
START_SECONDS = 120.0  # how long a new worker may take to say it is ready


@dataclasses.dataclass(frozen=True)
class Job:
    """One training run: what to train, where its data is, and how it names its model."""
    config: trainer.TrainConfig
    data_dir: str
    label: str                     # the preset's name, or "custom"
    command: str = "trained in the app's Train tab"
    poll_seconds: float = 1.0      # the most time between two progress messages


@dataclasses.dataclass(frozen=True)
class Started:
    device: str
    steps_per_epoch: int
    train_rows: int
    validation_note: str | None
    pid: int


@dataclasses.dataclass(frozen=True)
class Finished:
    report: dict[str, Any]         # `Report.to_dict()`
    weights: bytes                 # the finished checkpoint (`Checkpoint.to_bytes()`)
    epochs_done: float
    stopped: bool
    seconds: float


class Aborted(Exception):
    """The app asked for the run to end without a model."""


class TrainingFailed(Exception):
    """The run failed; `kind` says how ("data", "settings", "crash", or an exception's name)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# --- the worker's side ----------------------------------------------------------------------------

def run_job(job: Job, send: Callable[[tuple[Any, ...]], None], stop: threading.Event,
            abort: threading.Event) -> None:
    """Train `job`, sending what happens (see the module's docstring); `stop` ends training early
    and keeps the model, `abort` (set with `stop`) keeps nothing."""
    config = job.config
    try:
        splits = data.load_splits(config.dataset, job.data_dir, config.val_fraction)
    except data.DataError as e:
        send(("error", "data", str(e)))
        return
    kind = data.get_spec(config.dataset).kind
    if config.trained_outlier_exposure and kind is not None and not kind.outliers_ready():
        send(("status", "Making outlier images for outlier exposure (once per training process)..."))
    try:
        training = Trainer(config, splits=splits, stop_event=stop, finish=finish.finish)
    except ValueError as e:
        send(("error", "settings", str(e)))
        return
    if not finish.ready(training.spec, splits):
        # The real inputs the "not sure" check is calibrated on: made beside training, not after it.
        threading.Thread(target=finish.prepare, args=(training.spec, splits), name="not-sure-calibration",
                         daemon=True).start()
    send(("started", Started(str(training.device), training.steps_per_epoch, len(splits.train_x),
                             training.spec.validation_note, os.getpid())))
    sent = 0.0

    def on_batch(step: int, steps: int) -> None:
        nonlocal sent
        if time.monotonic() - sent >= job.poll_seconds:
            send(("progress", len(training.history) + 1, step, steps))
            sent = time.monotonic()

    started = time.perf_counter()
    for m in training.fit(on_batch=on_batch):
        send(("point", m))
    seconds = time.perf_counter() - started
    if abort.is_set():
        send(("aborted",))
        return
    report = training.report()
    if not finish.ready(training.spec, splits):
        send(("status", "Calibrating \"not sure\" on real inputs as the tab reads them (once per training "
                        "process; longest for photos)..."))
    ckpt = training.checkpoint(report.accuracy, command=job.command, preset=job.label)
    stopped = bool(training.history and training.history[-1].stopped)
    send(("done", Finished(report.to_dict(), ckpt.to_bytes(), training.epochs_done, stopped, seconds)))


def serve(conn: Connection) -> None:
    """The worker's loop: run each job in a thread while this one listens for stop and abort."""
    lock = threading.Lock()  # the job thread and this one both send

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            conn.send(message)

    stop, abort = threading.Event(), threading.Event()
    job_thread: threading.Thread | None = None

    def work(job: Job) -> None:
        try:
            run_job(job, send, stop, abort)
        except Exception as e:  # noqa: BLE001 - not swallowed: logged here and reported to the app
            traceback.print_exc()
            send(("error", type(e).__name__, str(e)))
        finally:
            memory.trim()  # the run's batches, optimizer state and gradients are freed by now

    send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the app is gone
        if message[0] == "job":
            if job_thread is not None:
                job_thread.join(timeout=60)   # it said how its run ended; it may still be tidying up
            if job_thread is not None and job_thread.is_alive():
                send(("error", "busy", "a run is already training in this process"))
                continue
            stop.clear()
            abort.clear()
            job_thread = threading.Thread(target=work, args=(message[1],), name="train", daemon=True)
            job_thread.start()
        elif message[0] == "stop":
            stop.set()
        elif message[0] == "abort":
            abort.set()
            stop.set()


def main(argv: list[str]) -> None:
    fd, threads = int(argv[0]), int(argv[1])
    priority.lower()   # before torch starts its threads: they inherit it
    torch.set_num_threads(threads)
    memory.limit_arenas()
    serve(Connection(fd))


# --- the app's side -------------------------------------------------------------------------------

class Worker:
    """The app's handle on its training process: started when first needed, started again if it died.
    One run at a time (`run` waits for the one before)."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._run_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._aborted = False   # a run was aborted and its end not yet read: the next run reads it first

    @property
    def pid(self) -> int | None:
        """The training process's id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> None:
        """Start the training process if it is not running (the first run then need not wait for it)."""
        with self._start_lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            self._close()
            ours, theirs = socket.socketpair()
            threads = self.threads or torch.get_num_threads()
            try:
                proc = subprocess.Popen([sys.executable, "-m", "studio.train_worker", str(theirs.fileno()),
                                         str(threads)], pass_fds=[theirs.fileno()],
                                        cwd=Path(__file__).resolve().parent.parent)
            finally:
                theirs.close()
            priority.lower(tid=proc.pid)   # from its first import on: starting it costs requests nothing
            conn = Connection(ours.detach())
            if not conn.poll(START_SECONDS):
                proc.kill()
                conn.close()
                raise TrainingFailed("crash", "the training process did not start")
            try:
                conn.recv()  # ("ready", pid)
            except EOFError:
                conn.close()
                raise TrainingFailed("crash", f"the training process ended at start (exit code {proc.wait()})") \
                    from None
            self._proc, self._conn = proc, conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = self._conn = None

    def stop(self) -> None:
        """Stop the current run after its batch; it finishes with the model trained so far."""
        self._tell(("stop",))

    def _tell(self, message: tuple[Any, ...]) -> None:
        conn = self._conn
        if conn is not None:
            try:
                conn.send(message)
            except OSError:
                pass  # the process is gone: the run's reader reports it

    def run(self, job: Job) -> Iterator[tuple[Any, ...]]:
        """Train `job` in the training process, yielding its messages up to ("done", Finished). Raises
        TrainingFailed if it fails or the process dies. Closing the generator before the end aborts
        the run (nothing is kept) without waiting; the next run waits for it to end."""
        with self._run_lock:
            self.start()
            if self._aborted:
                self._finish_abort()
            assert self._conn is not None and self._proc is not None
            conn, proc = self._conn, self._proc
            ended = False
            try:
                conn.send(("job", job))
                while True:
                    if not conn.poll(1.0):
                        if proc.poll() is not None:
                            raise EOFError
                        continue
                    message = conn.recv()
                    if message[0] == "error":
                        ended = True
                        raise TrainingFailed(message[1], message[2])
                    if message[0] in ("done", "aborted"):
                        ended = True
                    yield message
                    if ended:
                        return
            except (EOFError, OSError):
                ended = True
                code = proc.wait()
                self._close()
                raise TrainingFailed("crash", f"the training process ended (exit code {code})") from None
            finally:
                if not ended:
                    self._abort(conn, proc)

    def _abort(self, conn: Connection, proc: subprocess.Popen) -> None:
        """End the run without a model. Never waits: a page that goes away may close the run from
        the server's event loop; the next run reads this one's end first (`_finish_abort`)."""
        try:
            conn.send(("abort",))
            self._aborted = True
        except OSError:
            self._close()   # the process is gone; the next run starts another

    def _finish_abort(self) -> None:
        """Read the aborted run's end; a process that does not give it in time is killed (and started again)."""
        self._aborted = False
        conn = self._conn
        try:
            deadline = time.monotonic() + ABORT_SECONDS
            while conn is not None and conn.poll(max(deadline - time.monotonic(), 0)):
                if conn.recv()[0] in ("done", "aborted", "error"):
                    return
        except (EOFError, OSError):
            pass
        log.warning("the training process did not end its aborted run in %.0f s: starting another", ABORT_SECONDS)
        self._close()
        self.start()


if __name__ == "__main__":
    # Run as the module's importable self, so that what it sends is pickled as
    # `studio.train_worker.Started`, not as `__main__.Started`, which the app cannot load.
    from studio import train_worker
    train_worker.main(sys.argv[1:])
