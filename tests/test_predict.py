"""classifier.serving.predict: probabilities for one image, and the one batched forward pass."""

from __future__ import annotations

import numpy as np
import torch

from classifier import data
from classifier.models import checkpoint
from classifier.models.mlp import MLP, MLPConfig
from classifier.serving.predict import TYPICAL_PICTURE, Answer, Predictor, logits, pixels_first


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


def _ruled(below: float, margin: float | None) -> Predictor:
    model = MLP(MLPConfig(hidden=[8], n_classes=10, batchnorm=False))
    meta = {**data.DATASETS["digits"].weights_meta(model.config), "not_sure_below": below}
    if margin is not None:
        meta["not_sure_margin"] = margin
    return Predictor(checkpoint.Checkpoint(model.eval(), meta))


def test_a_close_call_between_the_top_two_is_not_sure() -> None:
    assert _ruled(0.5, 0.2).close_call(np.array([0.55, 0.38, 0.07]))


def test_a_clear_top_answer_is_sure() -> None:
    assert not _ruled(0.5, 0.2).close_call(np.array([0.8, 0.15, 0.05]))


def test_a_low_top_probability_is_not_sure_whatever_the_margin() -> None:
    assert _ruled(0.5, 0.2).close_call(np.array([0.45, 0.1, 0.1, 0.35]))


def test_without_a_margin_only_the_top_probability_counts() -> None:
    assert not _ruled(0.5, None).close_call(np.array([0.55, 0.45]))


def _answer(unsure: bool, ood_score: float | None = None) -> Answer:
    return Answer({"A": 0.9, "B": 0.1}, unsure, ood_score)


def test_the_hand_shape_answers_first_wherever_a_hand_is_found_in_a_real_photo() -> None:
    assert not pixels_first(_answer(unsure=True), _answer(unsure=False, ood_score=0.5))


def test_the_pixel_model_answers_first_where_no_hand_was_found() -> None:
    assert pixels_first(None, _answer(unsure=True))


def test_the_pixel_model_answers_first_where_the_picture_is_typical_of_its_data() -> None:
    assert pixels_first(_answer(unsure=False), _answer(unsure=False, ood_score=TYPICAL_PICTURE - 0.01),
                        like_pixel_data=True)


def test_the_hand_shape_answers_first_where_the_pixel_model_finds_the_picture_untypical() -> None:
    assert not pixels_first(_answer(unsure=False), _answer(unsure=False, ood_score=TYPICAL_PICTURE + 0.01),
                            like_pixel_data=True)


def test_the_hand_shape_answers_first_where_the_pixel_model_has_no_detector() -> None:
    assert not pixels_first(_answer(unsure=False), _answer(unsure=False), like_pixel_data=True)
