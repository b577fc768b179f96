"""classifier.trainer: learning, stopping, reproducibility, optimizer and schedule choices."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from classifier import data
from classifier.trainer import TrainConfig, Trainer, recipe, resolve_device
from tests.conftest import synthetic_images


def _splits(n_train: int = 800, n_val: int = 200, n_test: int = 200, seed: int = 0) -> data.Splits:
    rng = np.random.default_rng(seed)

    def part(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = rng.integers(0, 10, size=n)
        return torch.from_numpy(synthetic_images(y, 10, seed=int(rng.integers(1e6)))), torch.from_numpy(y)

    return data.Splits(*part(n_train), *part(n_val), *part(n_test))


def _config(**kw) -> TrainConfig:
    base = dict(dataset="digits", hidden=[32], epochs=4, batch_size=64, lr=1e-2, dropout=0.0, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def test_learns_a_separable_set() -> None:
    trainer = Trainer(_config(), splits=_splits())
    history = list(trainer.run())
    assert len(history) == 4
    assert history[-1].val_acc > 0.95
    assert history[-1].train_loss < history[0].train_loss
    _, acc, preds = trainer.test()
    assert acc > 0.95 and preds.shape == (200,)
    assert history[-1].samples_per_sec > 0


def test_bf16_autocast_learns() -> None:
    trainer = Trainer(_config(precision="bf16"), splits=_splits())
    assert list(trainer.run())[-1].val_acc > 0.95
    assert next(trainer.model.parameters()).dtype == torch.float32  # master weights stay fp32


@pytest.mark.parametrize("optimizer,schedule", [("sgd", "cosine"), ("adamw", "constant"), ("sgd", "onecycle")])
def test_other_optimizers_and_schedules_learn(optimizer: str, schedule: str) -> None:
    lr = 0.1 if optimizer == "sgd" else 1e-2
    trainer = Trainer(_config(optimizer=optimizer, schedule=schedule, lr=lr), splits=_splits())
    assert list(trainer.run())[-1].val_acc > 0.9


def test_same_seed_same_run_different_seed_different_run() -> None:
    splits = _splits()
    a = [m.train_loss for m in Trainer(_config(epochs=2), splits=splits).run()]
    b = [m.train_loss for m in Trainer(_config(epochs=2), splits=splits).run()]
    c = [m.train_loss for m in Trainer(_config(epochs=2, seed=1), splits=splits).run()]
    assert a == b
    assert a != c


@pytest.mark.parametrize("how", ["event", "method"])
def test_stops_cleanly_between_batches(how: str) -> None:
    stop = threading.Event()
    trainer = Trainer(_config(epochs=50), splits=_splits(), stop_event=stop)
    batches = []

    def on_batch(step: int, total: int) -> None:
        batches.append(step)
        if len(batches) == 15:
            stop.set() if how == "event" else trainer.stop()

    history = list(trainer.run(on_batch=on_batch))
    assert history[-1].stopped
    assert len(batches) == 15  # not one batch more
    assert len(history) == 2  # 13 batches per epoch: stopped during the second
    assert 0.0 <= history[-1].val_acc <= 1.0


def test_max_batches_and_recipes() -> None:
    trainer = Trainer(_config(max_batches=2, epochs=1), splits=_splits())
    seen = []
    list(trainer.run(on_batch=lambda s, t: seen.append(s)))
    assert seen == [1, 2]
    assert recipe("signs").epochs == 30 and recipe("digits", epochs=3).epochs == 3
    with pytest.raises(ValueError):
        recipe("cats")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        Trainer(_config(optimizer="adam2"), splits=_splits())
    with pytest.raises(ValueError, match="schedule"):
        Trainer(_config(schedule="warp"), splits=_splits())
    with pytest.raises(ValueError, match="precision"):
        Trainer(_config(precision="fp8"), splits=_splits())
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    assert resolve_device("cpu").type == "cpu"
