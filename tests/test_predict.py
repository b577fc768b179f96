"""classifier.predict: probabilities for one image, and swapping models under concurrent use."""

from __future__ import annotations

import threading

import numpy as np
import torch

from classifier import checkpoint, data
from classifier.model import MLP, MLPConfig
from classifier.predict import ModelSlot, Predictor, logits


def _predictor(bias_class: int) -> Predictor:
    model = MLP(MLPConfig(hidden=[8], n_classes=10, batchnorm=False))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.net[-1].bias[bias_class] = 10.0  # always predicts bias_class
    meta = checkpoint.build_meta(data.DATASETS["digits"], model.config)
    return Predictor(checkpoint.Checkpoint(model.eval(), meta))


def test_predict_returns_every_class() -> None:
    probs = _predictor(3).predict(np.zeros((28, 28), np.uint8))
    assert list(probs) == [str(i) for i in range(10)]
    assert abs(sum(probs.values()) - 1) < 1e-5
    assert max(probs, key=probs.get) == "3"
    assert _predictor(3).probabilities(np.zeros((5, 28, 28), np.uint8)).shape == (5, 10)


def test_a_swap_never_changes_a_predictor_a_request_already_holds() -> None:
    """A request takes the slot's predictor, the slot is swapped mid-request, and the request's
    answer is still the old model's: swapping replaces predictors, it never edits the served one."""
    slot = ModelSlot(_predictor(1))
    image = np.zeros((28, 28), np.uint8)
    held = slot.get()
    slot.swap(_predictor(7))
    assert max(held.predict(image).items(), key=lambda kv: kv[1])[0] == "1"
    assert max(slot.get().predict(image).items(), key=lambda kv: kv[1])[0] == "7"
    assert held.model is not slot.get().model


def test_readers_during_swaps_always_get_a_whole_predictor() -> None:
    slot = ModelSlot(_predictor(1))
    seen: set[str] = set()
    errors: list[BaseException] = []
    stop = threading.Event()
    image = np.zeros((28, 28), np.uint8)

    def reader() -> None:
        try:
            while not stop.is_set():
                probs = slot.get().predict(image)
                seen.add(max(probs, key=probs.get))
        except BaseException as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for k in range(20):
        slot.swap(_predictor(2 if k % 2 == 0 else 1))
    stop.set()
    for t in threads:
        t.join()
    assert not errors and seen and seen <= {"1", "2"}


def test_logits_batches_and_keeps_training_mode() -> None:
    model = MLP(MLPConfig(hidden=[8], n_classes=10, dropout=0.5)).train()
    x = torch.randint(0, 256, (50, 28, 28), dtype=torch.uint8)
    whole = logits(model, x, data.DATASETS["digits"].normalization)
    parts = logits(model, x, data.DATASETS["digits"].normalization, batch_size=7)
    assert whole.shape == (50, 10) and torch.allclose(whole, parts, atol=1e-6)  # eval mode: no dropout noise
    assert model.training
