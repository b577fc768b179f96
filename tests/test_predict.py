"""classifier.serving.predict: probabilities for one image, and the one batched forward pass."""

from __future__ import annotations

import numpy as np
import torch

from classifier import data
from classifier.inputs.kind import Prepared
from classifier.inputs.landmarks import Hand
from classifier.models import checkpoint
from classifier.models.mlp import MLP, MLPConfig
from classifier.serving.predict import (
    LIKE_PIXEL_DATA,
    TYPICAL_PICTURE,
    Answer,
    Predictor,
    like_pixel_data,
    logits,
    read_pixels,
)


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


def test_a_picture_the_locator_frames_surely_and_the_detector_finds_typical_is_like_the_pixel_data() -> None:
    assert like_pixel_data(LIKE_PIXEL_DATA, _answer(unsure=False, ood_score=TYPICAL_PICTURE - 0.01))


def test_a_picture_the_detector_finds_untypical_is_not_like_the_pixel_data_however_surely_framed() -> None:
    assert not like_pixel_data(1.0, _answer(unsure=False, ood_score=TYPICAL_PICTURE + 0.01))


def test_the_more_typical_the_picture_the_less_sure_the_locator_need_be() -> None:
    assert like_pixel_data(LIKE_PIXEL_DATA - 0.2, _answer(unsure=False, ood_score=TYPICAL_PICTURE - 0.21))


def test_a_picture_barely_typical_and_loosely_framed_is_not_like_the_pixel_data() -> None:
    assert not like_pixel_data(LIKE_PIXEL_DATA - 0.2, _answer(unsure=False, ood_score=TYPICAL_PICTURE - 0.19))


def test_without_a_detector_no_picture_is_like_the_pixel_data() -> None:
    assert not like_pixel_data(1.0, _answer(unsure=False))


class _Fixed(Predictor):
    """A predictor whose answer is told by the 28x28 it reads: its top-left pixel is the answer's
    detector score in hundredths."""

    def __init__(self) -> None:
        pass

    def answer(self, row: np.ndarray, squares: np.ndarray | None = None) -> Answer:
        return _answer(unsure=False, ood_score=float(row[0, 0]) / 100)


def _photo(ood_percent: int, framed_ood_percent: int | None, located: float = 0.9, look: int = 0) -> Prepared:
    def square(v: int) -> np.ndarray:
        return np.full((28, 28), v, np.uint8)
    framed = (Prepared(square(framed_ood_percent), located=located, note="framed")
              if framed_ood_percent is not None else None)
    hand = Hand(np.zeros((21, 3), np.float32), "Right", 0.9, look)
    return Prepared(square(ood_percent), note="around the landmarks", hand=hand, framed=framed)


def test_where_no_hand_was_read_the_pixel_model_answers_first() -> None:
    assert read_pixels(_Fixed(), _photo(99, None), hand_read=False).first


def test_where_a_hand_was_read_and_the_locator_framed_none_the_hand_shape_answers_first() -> None:
    assert not read_pixels(_Fixed(), _photo(10, None), hand_read=True).first


def test_a_photo_like_the_pixel_data_is_read_from_the_locators_squares_first() -> None:
    reading = read_pixels(_Fixed(), _photo(99, 50), hand_read=True)
    assert (reading.first, reading.prepared.note) == (True, "framed")


def test_a_photo_unlike_the_pixel_data_is_read_around_its_landmarks_second() -> None:
    reading = read_pixels(_Fixed(), _photo(50, 99), hand_read=True)
    assert (reading.first, reading.prepared.note) == (False, "around the landmarks")


def test_a_hand_found_only_in_a_made_up_look_gives_way_where_the_locator_frames_it_surely() -> None:
    reading = read_pixels(_Fixed(), _photo(50, 99, located=LIKE_PIXEL_DATA, look=1), hand_read=True)
    assert reading.first


def test_a_hand_found_as_given_keeps_its_place_however_surely_the_locator_frames_it() -> None:
    reading = read_pixels(_Fixed(), _photo(50, 99, located=1.0, look=0), hand_read=True)
    assert not reading.first


def test_a_hand_found_only_in_a_made_up_look_keeps_its_place_where_the_locator_is_unsure() -> None:
    reading = read_pixels(_Fixed(), _photo(50, 99, located=LIKE_PIXEL_DATA - 0.1, look=1), hand_read=True)
    assert not reading.first
