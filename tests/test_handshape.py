"""Hand-shape models: augmentation keeps a hand a hand; a few examples a class are learned."""

from __future__ import annotations

import functools

import numpy as np
import torch

from classifier import handshape


def _shapes(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three made-up hand shapes (fixed point sets) with a little noise."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(99).normal(size=(3, 63)).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class)
    return protos[y] + rng.normal(scale=0.05, size=(len(y), 63)).astype(np.float32), y


def test_a_few_examples_a_class_are_learned() -> None:
    x, y = _shapes(3)
    model = handshape.fit(x, y, 3, steps=200)
    test_x, test_y = _shapes(10, seed=1)
    assert (handshape.probabilities(model, test_x).argmax(1) == test_y).mean() >= 0.95


def test_the_same_seed_gives_the_same_model() -> None:
    x, y = _shapes(3)
    a = handshape.probabilities(handshape.fit(x, y, 3, steps=50, seed=3), x)
    b = handshape.probabilities(handshape.fit(x, y, 3, steps=50, seed=3), x)
    assert np.array_equal(a, b)


def test_a_saved_model_describes_itself_and_answers_the_same(tmp_path) -> None:
    import pytest

    from classifier import checkpoint

    x, y = _shapes(3)
    model = handshape.HandShape(handshape.fit(x, y, 3, steps=50), ["A", "B", "hello"], "mine")
    path = model.save(tmp_path / "hand.safetensors")
    meta = checkpoint.read_meta(path)
    assert meta["preprocessing"]["input"] == "hand_landmarks"
    assert meta["classes"] == ["A", "B", "hello"]
    back = handshape.HandShape.load(path)
    assert back.answer(x[0]) == pytest.approx(model.answer(x[0]))
    with pytest.raises(checkpoint.CheckpointError, match="not 'handshape'"):
        handshape.HandShape.load(checkpoint.weights_path("digits"))


def test_training_leaves_torchs_global_random_state_alone() -> None:
    x, y = _shapes(3)
    before = torch.get_rng_state()
    handshape.fit(x, y, 3, steps=20, seed=1)
    assert torch.equal(torch.get_rng_state(), before)


@functools.cache
def _start() -> handshape.HandShape:
    x, y = _shapes(5)
    return handshape.HandShape(handshape.fit(x, y, 3, steps=200), ["p", "q", "r"], "start", 0.5)


def test_teaching_from_a_model_keeps_its_classes_and_adds_new_ones_after_them() -> None:
    new = np.random.default_rng(7).normal(size=(2, 63)).astype(np.float32)
    taught = handshape.teach(new, ["s", "s"], start=_start(), steps=100)
    assert taught.classes == ["p", "q", "r", "s"]


def test_teaching_a_sign_of_ones_own_keeps_the_shipped_letters() -> None:
    from classifier import handgen

    hello = handgen.generate(2, seed=3, letters=("B",))[0] * np.tile([-1, 1, 1], 21)   # a B mirrored: no letter
    taught = handshape.teach(hello, ["hello", "hello"], start=handshape.shipped())
    x, y = handgen.generate(10, seed=2024)
    assert (handshape.probabilities(taught.model, x).argmax(1) == y).mean() >= 0.9


def test_teaching_a_new_sign_from_a_model_learns_it() -> None:
    proto = np.random.default_rng(7).normal(size=(1, 63)).astype(np.float32)
    taught = handshape.teach(np.repeat(proto, 2, 0), ["s", "s"], start=_start(), steps=100)
    probe = proto + np.random.default_rng(8).normal(scale=0.05, size=(5, 63)).astype(np.float32)
    assert (handshape.probabilities(taught.model, probe).argmax(1) == 3).all()


def test_teaching_from_scratch_knows_only_the_taught_signs_in_the_order_taught() -> None:
    x, y = _shapes(2)
    taught = handshape.teach(x, [["r", "p", "q"][i] for i in y])
    assert taught.classes == ["r", "p", "q"]


def test_a_taught_model_keeps_its_starts_not_sure_threshold() -> None:
    x, y = _shapes(1)
    assert handshape.teach(x, ["s", "t", "u"], start=_start(), steps=10).not_sure_below == 0.5


def test_an_answer_below_the_threshold_is_not_sure() -> None:
    model = _start()
    assert model.unsure({"p": 0.4, "q": 0.35, "r": 0.25})


def test_an_answer_above_the_threshold_is_sure() -> None:
    assert not _start().unsure({"p": 0.6, "q": 0.3, "r": 0.1})
