"""classifier.training.teach: a few examples a class are learned through the Trainer and the hand-shape
recipe; a taught model keeps its start's classes; and a hand-shape model served says "not sure" by its
threshold."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from classifier import data, paths
from classifier.data import handgen
from classifier.models import checkpoint
from classifier.models.mlp import MLP, MLPConfig
from classifier.serving.predict import Predictor
from classifier.training import teach

SPEC = data.get_spec("handshape")
NAMES = ["p", "q", "r"]


def _shapes(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three made-up hand shapes (fixed point sets) with a little noise, and their names."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(99).normal(size=(3, 63)).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class)
    return protos[y] + rng.normal(scale=0.05, size=(len(y), 63)).astype(np.float32), [NAMES[i] for i in y]


def _accuracy(model: checkpoint.Checkpoint, x: np.ndarray, labels: list[str]) -> float:
    probs = Predictor(model).probabilities(x)
    return float(np.mean([model.classes[int(p.argmax())] == label for p, label in zip(probs, labels, strict=True)]))


def test_a_few_examples_a_class_are_learned() -> None:
    x, labels = _shapes(3)
    test_x, test_labels = _shapes(10, seed=1)
    assert _accuracy(teach.teach(SPEC, x, labels, steps=200), test_x, test_labels) >= 0.95


def test_the_same_seed_gives_the_same_model() -> None:
    x, labels = _shapes(3)
    a = Predictor(teach.teach(SPEC, x, labels, steps=50, seed=3)).probabilities(x)
    b = Predictor(teach.teach(SPEC, x, labels, steps=50, seed=3)).probabilities(x)
    assert np.array_equal(a, b)


def test_a_saved_model_describes_itself_and_answers_the_same(tmp_path) -> None:
    x, labels = _shapes(3)
    taught = teach.teach(SPEC, x, ["A" if n == "p" else "B" if n == "q" else "hello" for n in labels], steps=50)
    path = taught.save(tmp_path / "hand.safetensors")
    meta = checkpoint.read_meta(path)
    assert meta["preprocessing"]["input"] == "hand_landmarks"
    assert meta["classes"] == ["A", "B", "hello"]
    back = Predictor(checkpoint.load(path, expect_dataset="handshape"))
    assert back.predict(x[0]) == pytest.approx(Predictor(taught).predict(x[0]))
    with pytest.raises(checkpoint.CheckpointError, match="not 'handshape'"):
        checkpoint.load(paths.weights_path("digits"), expect_dataset="handshape")


def test_training_leaves_torchs_global_random_state_alone() -> None:
    x, labels = _shapes(3)
    before = torch.get_rng_state()
    teach.teach(SPEC, x, labels, steps=20, seed=1)
    assert torch.equal(torch.get_rng_state(), before)


@functools.cache
def _start() -> checkpoint.Checkpoint:
    x, labels = _shapes(5)
    return teach.teach(SPEC, x, labels, steps=200)


def test_teaching_from_a_model_keeps_its_classes_and_adds_new_ones_after_them() -> None:
    new = np.random.default_rng(7).normal(size=(2, 63)).astype(np.float32)
    taught = teach.teach(SPEC, new, ["s", "s"], start=_start(), steps=100)
    assert taught.classes == ["p", "q", "r", "s"]


def test_teaching_a_sign_of_ones_own_keeps_the_shipped_letters() -> None:
    hello = handgen.generate(2, seed=3, letters=("B",))[0] * np.tile([-1, 1, 1], 21)   # a B mirrored: no letter
    shipped = checkpoint.load(paths.weights_path("handshape"))
    taught = teach.teach(SPEC, hello, ["hello", "hello"], start=shipped)
    x, y = handgen.generate(10, seed=2024)
    assert (Predictor(taught).probabilities(x).argmax(1) == y).mean() >= 0.9


def test_teaching_a_new_sign_from_a_model_learns_it() -> None:
    proto = np.random.default_rng(7).normal(size=(1, 63)).astype(np.float32)
    taught = teach.teach(SPEC, np.repeat(proto, 2, 0), ["s", "s"], start=_start(), steps=100)
    probe = proto + np.random.default_rng(8).normal(scale=0.05, size=(5, 63)).astype(np.float32)
    assert (Predictor(taught).probabilities(probe).argmax(1) == 3).all()


def test_teaching_from_scratch_knows_only_the_taught_signs_in_the_order_taught() -> None:
    x, labels = _shapes(2)
    order = {"p": "r", "q": "p", "r": "q"}
    taught = teach.teach(SPEC, x, [order[n] for n in labels])
    assert taught.classes == ["r", "p", "q"]


def test_a_taught_model_keeps_its_starts_not_sure_threshold() -> None:
    x, _ = _shapes(1)
    assert teach.teach(SPEC, x, ["s", "t", "u"], start=_start(), steps=10).not_sure_below == 0.5


def _fixed(bias: list[float]) -> Predictor:
    """A hand-shape model that answers every hand alike: its output layer's bias alone."""
    model = MLP(MLPConfig(hidden=[], batchnorm=False, in_features=63, n_classes=3))
    with torch.no_grad():
        model.net[-1].weight.zero_()
        model.net[-1].bias.copy_(torch.tensor(bias))
    meta = SPEC.weights_meta(model.config, classes=NAMES, not_sure_below=0.5)
    return Predictor(checkpoint.Checkpoint(model.eval(), meta))


def test_an_answer_below_the_threshold_is_not_sure() -> None:
    assert _fixed([0.0, 0.0, 0.0]).answer(np.zeros(63, np.float32)).unsure   # 1/3 each


def test_an_answer_above_the_threshold_is_sure() -> None:
    assert not _fixed([3.0, 0.0, 0.0]).answer(np.zeros(63, np.float32)).unsure


def test_teaching_alone_from_a_model_answers_only_the_taught_labels() -> None:
    spec = data.DATASETS["handshape"]
    start = checkpoint.load(paths.weights_path("handshape"))
    x, y = handgen.generate(3, seed=5, letters=("A", "B"))
    taught = teach.teach(spec, x, [("A", "B")[i] for i in y], start=start, keep=False, steps=40)
    assert taught.classes == ["A", "B"]


def test_a_not_sure_rule_given_is_the_taught_models() -> None:
    spec = data.DATASETS["handshape"]
    x, y = handgen.generate(3, seed=5, letters=("A", "B"))
    taught = teach.teach(spec, x, [("A", "B")[i] for i in y], steps=40, not_sure=(0.7, None))
    assert (taught.not_sure_below, taught.not_sure_margin) == (0.7, None)
