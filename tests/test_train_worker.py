"""The training process: runs train beside the app's process, stop keeps a model, abort keeps
nothing, a dead process is reported and replaced."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from classifier.models import checkpoint
from classifier.training import trainer
from studio import train_worker
from tests.conftest import make_mnist_dir


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    make_mnist_dir(root)
    return root


@pytest.fixture(scope="module")
def worker() -> train_worker.Worker:
    w = train_worker.Worker(threads=1)
    yield w
    w._close()


def _job(root: Path, epochs: int = 1, dataset: str = "digits") -> train_worker.Job:
    config = trainer.recipe(dataset, hidden=[16], epochs=epochs, batch_size=32, augment=False, outlier_exposure=0)
    return train_worker.Job(config, str(root), "custom", poll_seconds=0.05)


@pytest.fixture(scope="module")
def one_run(worker: train_worker.Worker, digits_dir: Path) -> list[tuple]:
    return list(worker.run(_job(digits_dir, epochs=2)))


def test_a_run_trains_in_another_process(one_run: list[tuple]) -> None:
    started = next(m[1] for m in one_run if m[0] == "started")
    assert started.pid != os.getpid()


def test_a_run_sends_its_curve_points(one_run: list[tuple]) -> None:
    points = [m[1] for m in one_run if m[0] == "point"]
    assert [p.epoch for p in points if not p.partial] == [1, 2]


def test_a_run_ends_with_a_servable_model(one_run: list[tuple]) -> None:
    assert one_run[-1][0] == "done"
    assert checkpoint.from_bytes(one_run[-1][1].weights).meta["dataset"] == "digits"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities are Linux's")
def test_the_training_process_runs_below_the_app(worker: train_worker.Worker, one_run: list[tuple]) -> None:
    assert os.getpriority(os.PRIO_PROCESS, worker.pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 10


def test_stop_ends_the_run_early_with_its_model(worker: train_worker.Worker, digits_dir: Path,
                                                 one_run: list[tuple]) -> None:
    messages = []
    for m in worker.run(_job(digits_dir, epochs=200)):
        messages.append(m)
        if m[0] == "point":
            worker.stop()
    assert messages[-1][0] == "done"
    assert messages[-1][1].stopped
    assert messages[-1][1].epochs_done < 200


def test_closing_a_run_aborts_it_and_the_process_takes_the_next(worker: train_worker.Worker,
                                                                digits_dir: Path, one_run: list[tuple]) -> None:
    pid = worker.pid
    run = worker.run(_job(digits_dir, epochs=200))
    next(m for m in run if m[0] == "point")
    run.close()
    assert [m[0] for m in worker.run(_job(digits_dir))][-1] == "done"
    assert worker.pid == pid


def test_a_process_that_dies_fails_its_run_and_is_replaced(worker: train_worker.Worker, digits_dir: Path,
                                                           one_run: list[tuple]) -> None:
    pid = worker.pid
    run = worker.run(_job(digits_dir, epochs=200))
    next(m for m in run if m[0] == "point")
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(train_worker.TrainingFailed, match="ended") as failed:
        list(run)
    assert failed.value.kind == "crash"
    assert [m[0] for m in worker.run(_job(digits_dir))][-1] == "done"
    assert worker.pid not in (None, pid)


def test_missing_data_is_a_data_failure(worker: train_worker.Worker, tmp_path: Path) -> None:
    with pytest.raises(train_worker.TrainingFailed) as failed:
        list(worker.run(_job(tmp_path, dataset="signs")))
    assert failed.value.kind == "data"


def test_the_training_process_exits_with_the_app(digits_dir: Path) -> None:
    w = train_worker.Worker(threads=1)
    w.start()
    proc = w._proc
    w._conn.close()   # what the app's exit does to its end of the socket
    assert proc.wait(timeout=30) == 0
