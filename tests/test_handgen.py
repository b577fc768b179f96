"""Generated hands: each letter has its sign's defining properties, a seed gives the same hands,
and the shipped hand-shape letters model reads generated hands it was not trained on."""

from __future__ import annotations

import numpy as np
import pytest

from classifier import paths
from classifier.data import handgen
from classifier.inputs import HAND_LANDMARKS, landmarks
from classifier.serving.predict import Predictor


def _poses(letter: str, n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([handgen.pose(handgen.LETTERS[letter], rng) for _ in range(n)])


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Degrees between the vectors of two (n, 3) arrays, row by row."""
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _tips_from_palm(p: np.ndarray) -> np.ndarray:
    """(n, 4) distances of the four fingertips from the palm's centre, in wrist-to-knuckle units."""
    centre = p[:, [0, 5, 9, 13, 17]].mean(1, keepdims=True)
    return np.linalg.norm(p[:, [8, 12, 16, 20]] - centre, axis=2)


def test_every_letter_of_the_sign_alphabet_is_generated() -> None:
    from classifier import data

    assert list(handgen.LETTERS) == list(data.SIGN_LETTERS)


def test_in_L_the_index_is_straight() -> None:
    p = _poses("L")
    assert _angle(p[:, 6] - p[:, 5], p[:, 8] - p[:, 7]).max() < 25


def test_in_L_the_thumb_stands_out_from_the_index() -> None:
    # MediaPipe's landmarks of real L's put the thumb's last two bones about 55 degrees from the index.
    p = _poses("L")
    angle = _angle(p[:, 8] - p[:, 5], p[:, 4] - p[:, 2])
    assert angle.min() > 40
    assert angle.max() < 90


def test_in_A_every_fingertip_is_near_the_palm() -> None:
    assert _tips_from_palm(_poses("A")).max() < 0.85


def test_in_B_every_fingertip_is_farther_from_the_palm_than_in_any_A() -> None:
    assert (_tips_from_palm(_poses("B")).min(0) > _tips_from_palm(_poses("A")).max(0) + 0.05).all()


def test_in_A_the_thumb_is_beside_the_fist_not_across_it() -> None:
    # A's thumb tip is on the thumb's side of the index knuckle (x > index's); S's crosses in front of it.
    a, s = _poses("A"), _poses("S")
    assert np.median(a[:, 4, 0] - a[:, 5, 0]) > np.median(s[:, 4, 0] - s[:, 5, 0]) + 0.1


def test_in_V_the_two_fingers_spread_and_in_U_they_do_not() -> None:
    def gap(p: np.ndarray) -> np.ndarray:   # fingertips' distance over the knuckles'
        return np.linalg.norm(p[:, 8] - p[:, 12], axis=1) / np.linalg.norm(p[:, 5] - p[:, 9], axis=1)

    assert np.median(gap(_poses("V"))) > 2 * np.median(gap(_poses("U")))


def test_G_points_across_and_P_points_down_in_the_picture() -> None:
    rng = np.random.default_rng(0)

    def index_direction(letter: str) -> np.ndarray:   # the index's direction in the picture, unit (x, y)
        d = np.stack([(lambda p: p[8, :2] - p[5, :2])(handgen.sample(letter, rng)) for _ in range(200)])
        return d / np.linalg.norm(d, axis=1, keepdims=True)

    up_share = (index_direction("D")[:, 1] < -0.7).mean()   # y grows down the picture
    assert up_share > 0.9
    assert (np.abs(index_direction("G")[:, 1]) < 0.7).mean() > 0.5
    assert (index_direction("P")[:, 1] < -0.7).mean() < 0.5


def test_a_seed_gives_the_same_hands() -> None:
    a, ya = handgen.generate(3, seed=5)
    b, yb = handgen.generate(3, seed=5)
    assert np.array_equal(a, b)
    assert np.array_equal(ya, yb)


def test_another_seed_gives_other_hands() -> None:
    assert not np.allclose(handgen.generate(3, seed=5)[0], handgen.generate(3, seed=6)[0])


def test_generated_hands_are_normalized_as_real_ones_are() -> None:
    x, _ = handgen.generate(2, seed=1)
    p = x.reshape(-1, 21, 3)
    assert np.abs(p[:, landmarks.WRIST]).max() == 0
    assert np.allclose(np.linalg.norm(p[:, landmarks.MIDDLE_KNUCKLE, :2], axis=1), 1, atol=1e-5)


@pytest.fixture(scope="module")
def shipped() -> Predictor:
    from classifier.models import checkpoint

    return Predictor(checkpoint.load(paths.weights_path("handshape"), expect_dataset="handshape"))


def test_the_shipped_model_reads_generated_hands_it_was_not_trained_on(shipped: Predictor) -> None:
    x, y = handgen.generate(40, seed=2024)   # the shipped model's training seed is 0
    assert (shipped.probabilities(x).argmax(1) == y).mean() > 0.95


def test_the_shipped_model_describes_itself(shipped: Predictor) -> None:
    from classifier.models import checkpoint

    meta = checkpoint.read_meta(paths.weights_path("handshape"))
    assert meta["command"] == "python train.py handshape"
    assert shipped.classes == list(handgen.LETTERS)
    assert shipped.not_sure_below == HAND_LANDMARKS.not_sure_below
