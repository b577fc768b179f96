"""classifier.serving.predict: probabilities for one image, and the one batched forward pass."""

from __future__ import annotations

import numpy as np
import torch

from classifier import data
from classifier.models import checkpoint
from classifier.models.mlp import MLP, MLPConfig
from classifier.serving.predict import Predictor, logits


def _predictor(bias_class: int) -> Predictor:
    model = MLP(MLPConfig(hidden=[8], n_classes=10, batchnorm=False))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.net[-1].bias[bias_class] = 10.0  # always predicts bias_class
    meta = data.DATASETS["digits"].weights_meta(model.config)
    return Predictor(checkpoint.Checkpoint(model.eval(), meta))


def test_predict_returns_every_class() -> None:
    probs = _predictor(3).predict(np.zeros((28, 28), np.uint8))
    assert list(probs) == [str(i) for i in range(10)]
    assert abs(sum(probs.values()) - 1) < 1e-5
    assert max(probs, key=probs.get) == "3"
    assert _predictor(3).probabilities(np.zeros((5, 28, 28), np.uint8)).shape == (5, 10)


def test_logits_batches_and_keeps_training_mode() -> None:
    model = MLP(MLPConfig(hidden=[8], n_classes=10, dropout=0.5)).train()
    x = torch.randint(0, 256, (50, 28, 28), dtype=torch.uint8)
    whole = logits(model, x, data.DATASETS["digits"].normalization)
    parts = logits(model, x, data.DATASETS["digits"].normalization, batch_size=7)
    assert whole.shape == (50, 10)
    assert torch.allclose(whole, parts, atol=1e-6)  # eval mode: no dropout noise
    assert model.training
