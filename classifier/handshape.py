"""Hand-shape models: an MLP over a hand's 21 normalized landmarks (`landmarks.normalize`), the same
MLP family as the pixel models with a better input. Trained in seconds on a few examples a class,
so a person can teach it their own hand.

Augmentation is what makes a few examples enough: each step sees every example turned in the
picture's plane (a hand is never held at quite the same angle), scaled a little, and with a little
noise on every point (the landmarker's own jitter).
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import checkpoint, handgen
from .landmarks import N_POINTS
from .model import MLP, MLPConfig

N_FEATURES = N_POINTS * 3
HIDDEN = [128, 128]
ROTATION = math.radians(15)   # in-plane turn, either way
SCALE = 0.08                  # +- share of the hand's size
NOISE = 0.02                  # per coordinate, in wrist-to-knuckle units


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(N, 63) normalized hands, each turned about the wrist in the picture's plane, scaled and jittered."""
    n = len(x)
    p = x.reshape(n, N_POINTS, 3)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * ROTATION
    c, s = torch.cos(angle)[:, None], torch.sin(angle)[:, None]
    px, py = p[..., 0], p[..., 1]
    turned = torch.stack([c * px - s * py, s * px + c * py, p[..., 2]], dim=-1)
    scale = 1 + (torch.rand(n, 1, 1, generator=generator) * 2 - 1) * SCALE
    noise = torch.randn(turned.shape, generator=generator) * NOISE
    return (turned * scale + noise).reshape(n, -1)


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
        loss = F.cross_entropy(model(augment(xb, generator)), yb, label_smoothing=0.05)
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


# The shipped letters model's recipe (`python train.py handshape` makes it with these).
LETTERS_RECIPE = {"per_letter": 1000, "steps": 3000, "batch_size": 512, "lr": 3e-3, "hidden": [128, 128]}


def train_letters(seed: int = 0, per_letter: int = LETTERS_RECIPE["per_letter"],
                  steps: int = LETTERS_RECIPE["steps"], batch_size: int = LETTERS_RECIPE["batch_size"],
                  lr: float = LETTERS_RECIPE["lr"], hidden: list[int] | None = None) -> tuple[HandShape, float]:
    """The letters model trained on generated hands only (`handgen`, seeded), and its accuracy on
    generated hands it was not trained on (another seed's)."""
    x, y = handgen.generate(per_letter, seed=seed)
    model = fit(x, y, len(handgen.LETTERS), steps=steps, lr=lr, seed=seed, batch_size=batch_size,
                hidden=list(hidden or LETTERS_RECIPE["hidden"]))
    test_x, test_y = handgen.generate(max(per_letter // 10, 20), seed=seed + 10_000)
    accuracy = float((probabilities(model, test_x).argmax(1) == test_y).mean())
    return HandShape(model, list(handgen.LETTERS), "letters from generated hands", NOT_SURE_BELOW), accuracy


@torch.inference_mode()
def probabilities(model: MLP, features: np.ndarray) -> np.ndarray:
    """(N, n_classes) class probabilities of (N, 63) normalized hands."""
    x = torch.as_tensor(np.asarray(features, dtype=np.float32)).reshape(-1, N_FEATURES)
    return torch.softmax(model.eval()(x).float(), dim=1).numpy()


# How a hand-shape model's input is made, as its weights file records it (`landmarks.normalize`).
NORMALIZATION = {"kind": "landmarks", "points": N_POINTS, "origin": "wrist", "unit": "wrist to middle knuckle",
                 "mirror": "left hands into right ones", "source": "MediaPipe hand landmarker (x, y pixels, z depth)"}


# The shipped letters model: trained on generated hands only (`classifier.handgen`, `python train.py handshape`).
SHIPPED_PATH = checkpoint.weights_path("handshape")
# Below this top probability the shipped model's answer is "not sure". Chosen with the real photos of
# `real_hands_dev` as a development set: it flags few of the photos the model reads right.
NOT_SURE_BELOW = 0.5


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
        meta = {"format": checkpoint.FORMAT, "format_version": checkpoint.FORMAT_VERSION, "dataset": "handshape",
                "classes": self.classes, "model": self.model.config.to_dict(),
                "preprocessing": {"input": "hand_landmarks", "normalization": dict(NORMALIZATION)},
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "versions": checkpoint.library_versions(), "name": self.name,
                "not_sure_below": self.not_sure_below, **extra}
        return checkpoint.save(path, self.model, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> HandShape:
        """A hand-shape model from its weights file (CheckpointError for anything else)."""
        ckpt = checkpoint.load(path, expect_dataset="handshape")
        if ckpt.model.config.in_features != N_FEATURES:
            raise checkpoint.CheckpointError(f"{path}: a hand-shape model reads {N_FEATURES} numbers, not "
                                             f"{ckpt.model.config.in_features}")
        threshold = ckpt.meta.get("not_sure_below")
        return cls(ckpt.model, ckpt.classes, str(ckpt.meta.get("name") or Path(path).stem),
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
    return HandShape.load(SHIPPED_PATH) if SHIPPED_PATH.is_file() else None


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
