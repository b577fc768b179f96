"""Hand-shape models: an MLP over a hand's 21 normalized landmarks (`landmarks.normalize`), the same
MLP family as the pixel models with a better input, and teaching one a person's own hand.

The shipped letters model is trained like any other data set's, by the `Trainer` on the
"handshape" data set of generated hands (`python train.py handshape`). Teaching fine-tunes it on
a few examples a sign in seconds (`teach`); the data set's augmentation (each example turned,
scaled and jittered at every step) is what makes a few examples enough.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import checkpoint, handgen
from .data import DATASETS
from .model import MLP, MLPConfig
from .preprocess import N_LANDMARK_FEATURES

N_FEATURES = N_LANDMARK_FEATURES
SPEC = DATASETS["handshape"]
HIDDEN = [128, 128]


def fit(features: np.ndarray, labels: np.ndarray, n_classes: int, steps: int = 600, lr: float = 3e-3,
        seed: int = 0, start: MLP | None = None, batch_size: int | None = None,
        hidden: list[int] | None = None) -> MLP:
    """An MLP trained on (N, 63) normalized hands with labels 0..n_classes-1 (AdamW, one-cycle,
    augmented every step): full batches, or random batches of `batch_size` for large sets.

    `start`: a model to start from, its weights copied (never changed): its hidden layers, and its
    answers for its own classes, which must be the first of the n_classes. Every random draw
    (initial weights, dropout, batches, augmentation) comes from the seed's own generator, so
    trainings running at once in one server neither disturb nor repeat each other."""
    generator = torch.Generator().manual_seed(seed)
    sizes = list(start.config.hidden if start is not None else hidden or HIDDEN)
    model = MLP(MLPConfig(hidden=sizes, dropout=0.1, batchnorm=False, in_features=N_FEATURES,
                          n_classes=n_classes), generator=generator)
    if start is not None:
        _copy_weights(start, model)
    model.set_dropout_generator(generator)
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    model.train()
    for _ in range(steps):
        xb, yb = x, y
        if batch_size is not None and batch_size < len(x):
            pick = torch.randint(len(x), (batch_size,), generator=generator)
            xb, yb = x[pick], y[pick]
        loss = F.cross_entropy(model(SPEC.augment(xb, generator)), yb, label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    model.set_dropout_generator(None)
    return model.eval()


def _copy_weights(source: MLP, target: MLP) -> None:
    """`source`'s weights into `target` of the same shape but for more classes (the extra classes'
    answers keep their fresh initial weights)."""
    if source.config.n_classes > target.config.n_classes:
        raise ValueError(f"a model of {source.config.n_classes} classes cannot start one of "
                         f"{target.config.n_classes}")
    with torch.no_grad():
        for mine, theirs in zip(target.state_dict().values(), source.state_dict().values(), strict=True):
            if mine.shape == theirs.shape:
                mine.copy_(theirs)
            else:  # the last layer: one row per class
                mine[: len(theirs)].copy_(theirs)


@torch.inference_mode()
def probabilities(model: MLP, features: np.ndarray) -> np.ndarray:
    """(N, n_classes) class probabilities of (N, 63) normalized hands."""
    x = torch.as_tensor(np.asarray(features, dtype=np.float32)).reshape(-1, N_FEATURES)
    return torch.softmax(model.eval()(x).float(), dim=1).numpy()


# The shipped letters model: trained on generated hands only (`classifier.handgen`, `python train.py handshape`).
SHIPPED_PATH = checkpoint.weights_path("handshape")
# Below this top probability a letters model's answer is "not sure" (the data set's own threshold).
NOT_SURE_BELOW = SPEC.not_sure_below


class HandShape:
    """A trained hand-shape model and its class names: immutable, so one object can serve any number
    of requests at once. Saved as this project's self-describing weights files (input: landmarks).

    `not_sure_below`: a top probability under which the answer is "not sure" (None: always sure)."""

    def __init__(self, model: MLP, classes: list[str], name: str = "hand shape",
                 not_sure_below: float | None = None) -> None:
        self.model = model.eval()
        self.classes = list(classes)
        self.name = name
        self.not_sure_below = not_sure_below

    def save(self, path: str | os.PathLike[str], **extra: Any) -> Path:
        meta = {**checkpoint.build_meta(SPEC, self.model.config), "classes": self.classes, "name": self.name,
                "not_sure_below": self.not_sure_below, **extra}
        return checkpoint.save(path, self.model, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> HandShape:
        """A hand-shape model from its weights file (CheckpointError for anything else)."""
        return cls.from_checkpoint(checkpoint.load(path, expect_dataset="handshape"), Path(path).stem)

    @classmethod
    def from_checkpoint(cls, ckpt: checkpoint.Checkpoint, name: str) -> HandShape:
        """A hand-shape model from a loaded (or just trained) checkpoint; `name` unless it names itself."""
        if ckpt.dataset != "handshape" or ckpt.model.config.in_features != N_FEATURES:
            raise checkpoint.CheckpointError(f"{name}: a hand-shape model reads {N_FEATURES} numbers of a hand, "
                                             f"not {ckpt.model.config.in_features} of {ckpt.dataset}")
        threshold = ckpt.meta.get("not_sure_below")
        return cls(ckpt.model, ckpt.classes, str(ckpt.meta.get("name") or name),
                   None if threshold is None else float(threshold))

    def answer(self, features: np.ndarray) -> dict[str, float]:
        """{class: probability} for one normalized hand (63,)."""
        probs = probabilities(self.model, features)[0]
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}

    def unsure(self, answer: dict[str, float]) -> bool:
        """Whether an answer of this model's is "not sure"."""
        return self.not_sure_below is not None and max(answer.values()) < self.not_sure_below


@cache
def shipped() -> HandShape | None:
    """The shipped letters model, loaded once (None if its file is missing)."""
    if not SHIPPED_PATH.is_file():
        return None
    return HandShape.from_checkpoint(checkpoint.load(SHIPPED_PATH, expect_dataset="handshape"),
                                     "the shipped letters model")


# Teaching: each taught sign weighs as much as this many generated hands of a letter, which are
# mixed in (for every letter of the model taught from) so that the letters not taught stay known.
REHEARSAL_PER_LETTER = 20
TEACH_STEPS = 300


@cache
def _rehearsal(letters: tuple[str, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    return handgen.generate(REHEARSAL_PER_LETTER, seed=seed, letters=letters)


def teach(features: np.ndarray, labels: list[str], start: HandShape | None = None, seed: int = 0,
          steps: int = TEACH_STEPS) -> HandShape:
    """A hand-shape model taught one person's examples ((N, 63) normalized hands and their labels).

    From `start` (the shipped letters model): its classes plus any new labels, its weights as the
    beginning, and generated hands of its letters mixed in, so a person who teaches a few letters
    keeps the rest. Without: a model of the taught labels only, in the order they first appear."""
    features = np.asarray(features, dtype=np.float32).reshape(-1, N_FEATURES)
    if len(features) != len(labels) or not len(labels):
        raise ValueError(f"{len(features)} hands for {len(labels)} labels")
    classes = list(start.classes) if start is not None else []
    classes += [label for label in dict.fromkeys(labels) if label not in classes]
    counts = {label: labels.count(label) for label in set(labels)}
    # Few examples, each repeated so that a taught sign counts as much as a letter's generated hands.
    repeat = [max(1, round(REHEARSAL_PER_LETTER / counts[label])) if start is not None else 1 for label in labels]
    x = np.repeat(features, repeat, axis=0)
    y = np.repeat([classes.index(label) for label in labels], repeat)
    known = tuple(c for c in classes if c in handgen.LETTERS)
    if start is not None and known:
        gx, gy = _rehearsal(known, seed)
        x = np.concatenate([x, gx])
        y = np.concatenate([y, [classes.index(known[i]) for i in gy]])
    model = fit(x, y, len(classes), steps=steps, lr=1e-3 if start is not None else 3e-3, seed=seed,
                start=start.model if start is not None else None)
    taught = len(counts)
    name = (f"taught {len(labels)} examples of {taught} signs" + (f", from {start.name}" if start is not None else ""))
    return HandShape(model, classes, name, start.not_sure_below if start is not None else None)
