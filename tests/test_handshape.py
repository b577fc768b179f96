"""Hand-shape models: augmentation keeps a hand a hand; a few examples a class are learned."""

from __future__ import annotations

import numpy as np
import torch

from classifier import handshape


def _shapes(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three made-up hand shapes (fixed point sets) with a little noise."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(99).normal(size=(3, 63)).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class)
    return protos[y] + rng.normal(scale=0.05, size=(len(y), 63)).astype(np.float32), y


def test_augmentation_turns_about_the_wrist_and_keeps_the_size() -> None:
    x = torch.as_tensor(_shapes(4)[0])
    g = torch.Generator().manual_seed(0)
    out = handshape.augment(x, g)
    assert out.shape == x.shape
    ratio = out.reshape(-1, 21, 3)[..., :2].norm(dim=-1).mean() / x.reshape(-1, 21, 3)[..., :2].norm(dim=-1).mean()
    assert abs(float(ratio) - 1) < 0.1


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
