"""J and Z: generated motions, the motion row, the shipped motion model, and the speller writing them."""

from __future__ import annotations

import numpy as np
import pytest

from classifier import paths
from classifier.data import handgen, handmotion
from classifier.inputs import motion
from classifier.inputs.landmarks import hand_row
from classifier.models import checkpoint
from classifier.serving import spelling
from classifier.serving.predict import Predictor


@pytest.fixture(scope="module")
def shape_model() -> Predictor:
    return Predictor(checkpoint.load(paths.weights_path("handshape"), expect_dataset="handshape"))


@pytest.fixture(scope="module")
def reader() -> motion.MotionReader:
    found = motion.reader()
    assert found is not None, "weights/hand_motion.safetensors is missing: python train_motion.py"
    return found


def test_the_same_seed_makes_the_same_motions() -> None:
    a, b = handmotion.generate(2, seed=5), handmotion.generate(2, seed=5)
    assert all(np.array_equal(x[2], y[2]) for x, y in zip(a, b, strict=True))


def test_a_motion_row_does_not_depend_on_where_the_hand_is_or_how_large() -> None:
    times, points = handmotion.motion("J", np.random.default_rng(0))
    moved = points * 1.7 + np.array([300.0, -40.0, 0.0])
    assert np.allclose(motion.motion_row(times, points), motion.motion_row(times, moved), atol=1e-4)


def test_a_motion_row_does_not_depend_on_the_frame_rate() -> None:
    times, points = handmotion.motion("Z", np.random.default_rng(1))
    half = slice(None, None, 2)
    assert np.abs(motion.motion_row(times, points) - motion.motion_row(times[half], points[half])).max() < 0.15


def test_a_single_frame_makes_a_row() -> None:
    times, points = handmotion.motion("none", np.random.default_rng(2))
    assert motion.motion_row(times[:1], points[:1]).shape == (motion.N_FEATURES,)


def test_the_shipped_motion_model_reads_generated_motions_of_another_seed(reader: motion.MotionReader) -> None:
    found = handmotion.generate(40, seed=123_456)
    rows = np.stack([motion.motion_row(t, p) for _, t, p in found])
    guess = reader.probabilities(rows).argmax(1)
    assert np.mean([reader.classes[g] == kind for g, (kind, _, _) in zip(guess, found, strict=True)]) >= 0.9


def test_the_shipped_motion_model_describes_itself(reader: motion.MotionReader) -> None:
    assert reader.meta["command"] == "python train_motion.py"


def _stream(speller: spelling.Speller, model: Predictor, times: np.ndarray, points: np.ndarray,
            start: float) -> float:
    for t, p in zip(times, points, strict=True):
        speller.feed(start + float(t), model.probabilities(hand_row(p, "Right"))[0], p)
    return start + float(times[-1]) + 0.05


def _held(letter: str, rng: np.random.Generator, seconds: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    hand = handgen.sample(letter, rng) * 100 + 200
    times = np.arange(0, seconds, 1 / 15)
    return times, np.stack([hand + rng.normal(0, 0.5, hand.shape) for _ in times])


@pytest.mark.parametrize("kind", ["J", "Z"])
def test_the_speller_writes_a_motion_after_a_letter(kind: str, shape_model: Predictor,
                                                    reader: motion.MotionReader) -> None:
    rng = np.random.default_rng(7)
    speller = spelling.Speller(shape_model.classes, motion=reader)
    t = _stream(speller, shape_model, *_held("B", rng), 0.0)
    _stream(speller, shape_model, *handmotion.motion(kind, rng), t)
    assert speller.text == "B" + kind


def test_without_a_motion_model_no_motion_is_written(shape_model: Predictor) -> None:
    rng = np.random.default_rng(7)
    speller = spelling.Speller(shape_model.classes)
    _stream(speller, shape_model, *handmotion.motion("J", rng), 0.0)
    assert "J" not in speller.text


def test_a_slide_of_a_letter_is_not_a_motion(shape_model: Predictor, reader: motion.MotionReader) -> None:
    rng = np.random.default_rng(11)
    speller = spelling.Speller(shape_model.classes, motion=reader)
    times, points = _held("L", rng, 1.5)
    points = points + np.linspace(0, 150, len(times))[:, None, None] * np.array([1.0, 0.0, 0.0])
    _stream(speller, shape_model, times, points, 0.0)
    assert not {"J", "Z"} & set(speller.text)
