"""classifier.predict: probabilities for one image, and swapping models under concurrent use."""

from __future__ import annotations

import threading

import numpy as np
import torch

from classifier import checkpoint, preprocess
from classifier.model import MLP, MLPConfig
from classifier.predict import ModelSlot, Predictor


def _predictor(bias_class: int, n_classes: int = 10) -> Predictor:
    model = MLP(MLPConfig(hidden=[8], n_classes=n_classes, batchnorm=False))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.net[-1].bias[bias_class] = 10.0  # always predicts bias_class
    meta = checkpoint.build_meta(dataset="digits", classes=[str(i) for i in range(n_classes)],
                                 model_config=model.config, normalization=preprocess.MNIST_STATS)
    return Predictor(checkpoint.Checkpoint(model.eval(), meta))


def test_predict_returns_every_class() -> None:
    probs = _predictor(3).predict(np.zeros((28, 28), np.uint8))
    assert list(probs) == [str(i) for i in range(10)]
    assert abs(sum(probs.values()) - 1) < 1e-5
    assert max(probs, key=probs.get) == "3"
    assert _predictor(3).probabilities(np.zeros((5, 28, 28), np.uint8)).shape == (5, 10)


def test_swap_under_concurrent_reads() -> None:
    slot = ModelSlot(_predictor(1))
    seen: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    image = np.zeros((28, 28), np.uint8)

    def reader() -> None:
        try:
            while not stop.is_set():
                probs = slot.get().predict(image)
                seen.append(max(probs, key=probs.get))
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
    assert not errors
    assert set(seen) <= {"1", "2"} and len(seen) > 0
    old = slot.swap(_predictor(7))
    assert old is not None and max(slot.get().predict(image).items(), key=lambda kv: kv[1])[0] == "7"
