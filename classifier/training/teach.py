"""Teaching a model a person's own examples in seconds: their rows under labels of their own,
trained by the `Trainer` with the data set's recipe (its layers, dropout, weight decay, label
smoothing and augmentation: each example turned, scaled and jittered at every step, which is what
makes a few examples enough).

From a model (the shipped one): its classes plus any new labels, its weights as the beginning, a
lower learning rate, and rows of its own classes mixed in (`rehearsal`), so a person who teaches a
few signs keeps the rest. Without one: a model of the taught labels only, in the order they first
appear. Every random draw comes from the seed's own generators, so teachings running at once in one
server neither disturb nor repeat each other.

The kind of input decides only the rows: hands (63 landmark numbers, rehearsed on generated hands)
or drawings (28x28, rehearsed on the data set's training rows where they are on disk). `keep`
False teaches a model of the taught labels alone, its hidden layers started from the model's (what
it learned to see), its answers only the taught labels; `not_sure` then sets its "not sure" rule.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import torch

from .. import data as datamod
from ..data import DatasetSpec, Splits, handgen
from ..data.augment import AugmentConfig, augment
from ..models import ood
from ..models.checkpoint import Checkpoint
from ..models.forward import logits
from . import finish
from .trainer import BATCH_SIZE_RANGE, MAX_EPOCHS, Trainer, recipe

# Each taught label weighs as much as this many rehearsal rows of a class of the model taught from.
REHEARSAL_PER_CLASS = 20
STEPS = 300                 # training steps
FROM_A_MODEL_LR = 1e-3      # from a model: a gentle learning rate keeps what it knows
COMMAND = "taught in the app"   # a taught model's `command` in its metadata (what made it)
MIN_ROWS = 64               # taught alone, the examples are repeated to at least this many rows
# Pictures taught alone: how their "not sure" varies each example to stand for a person's next ones.
LIKENESS_AUGMENT = AugmentConfig(degrees=20, scale=0.2, shift=3.0, shear=20)
LIKENESS_COPIES = 20


@cache
def rehearsal(classes: tuple[str, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """REHEARSAL_PER_CLASS rows of each of `classes`, and their indices into `classes`: generated
    hands, made for the purpose (the hand-shape data set's own generator)."""
    return handgen.generate(REHEARSAL_PER_CLASS, seed=seed, letters=classes)


@cache
def _training_rows(name: str, data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    x, y = datamod.load(name, "train", data_dir, download=False)
    return x.numpy(), y.numpy()


def rows_of(spec: DatasetSpec, classes: tuple[str, ...], seed: int,
            data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rehearsal rows of `classes` of `spec` and their indices into `classes`: generated hands for the
    hand shapes, else REHEARSAL_PER_CLASS of the data set's training rows a class (DataError where
    they are not on disk)."""
    if spec.rows.name == "hands":
        return rehearsal(classes, seed)
    x, y = _training_rows(spec.name, str(data_dir) if data_dir is not None else None)
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(y == spec.classes.index(c)), REHEARSAL_PER_CLASS, replace=False)
              for c in classes]
    return x[np.concatenate(picked)], np.repeat(np.arange(len(classes)), REHEARSAL_PER_CLASS)


def by_probability(not_sure_below: float, not_sure_margin: float | None) -> Callable[..., Checkpoint]:
    """A `finish` that says "not sure" by the top probability (under `not_sure_below`, or within
    `not_sure_margin` of the second): for models of a person's own labels, which have no held-out
    rows to calibrate a detector on."""
    def finish_it(model: torch.nn.Module, meta: dict[str, Any], *_: Any) -> Checkpoint:
        model.eval()
        rule: dict[str, Any] = {"not_sure_below": not_sure_below}
        if not_sure_margin is not None:
            rule["not_sure_margin"] = not_sure_margin
        return Checkpoint(model, {**meta, **rule})
    return finish_it


def by_likeness(model: torch.nn.Module, meta: dict[str, Any], spec: DatasetSpec, splits: Splits,
                *_: Any) -> Checkpoint:
    """A `finish` for a model of pictures taught alone (its classes all taught): "not sure" for a picture
    unlike every taught example. Its detector is the Mahalanobis distance of the last hidden layer to
    the nearest class (`models.ood`), fitted on LIKENESS_COPIES strongly varied copies of each example
    (`splits.val_x`: the examples themselves) and calibrated on as many others, flagging FLAG_RATE of
    those: a few examples leave no held-out rows, and their varied copies stand for a person's next
    drawings."""
    model.eval()
    g = torch.Generator().manual_seed(0)
    x = splits.val_x.float() / 255

    def copies() -> torch.Tensor:
        varied = torch.cat([augment(x, LIKENESS_AUGMENT, g) for _ in range(LIKENESS_COPIES)])
        return (varied * 255).round().clamp(0, 255).to(torch.uint8)

    detector = ood.fit(model, copies(), splits.val_y.repeat(LIKENESS_COPIES), copies(), spec.normalization,
                       model.config.n_classes, scores=("mahalanobis-last-hidden",))
    return Checkpoint(model, meta).with_detector(detector)


def teach(spec: DatasetSpec, rows: np.ndarray, labels: list[str], start: Checkpoint | None = None, seed: int = 0,
          steps: int = STEPS, keep: bool = True, data_dir: str | os.PathLike[str] | None = None,
          not_sure: tuple[float, float | None] | None = None, what: str = "signs") -> Checkpoint:
    """A model of `spec`'s rows taught one person's examples (`rows` and their `labels`), named for
    what it was taught (`what`: "signs", "drawings"). With `start` and `keep`, its classes stay (and
    are rehearsed); `keep` False: the taught labels only, from `start`'s hidden layers. "Not sure":
    for pictures taught alone, unlike every example (`by_likeness`); else `not_sure` (below, margin)
    if given, else the data set's rule."""
    dtype = np.uint8 if spec.rows.name != "hands" else np.float32
    x = np.asarray(rows, dtype=dtype).reshape(-1, *spec.rows.shape)
    if len(x) != len(labels) or not len(labels):
        raise ValueError(f"{len(x)} examples for {len(labels)} labels")
    keep = keep and start is not None
    classes = list(start.classes) if keep and start is not None else []
    classes += [label for label in dict.fromkeys(labels) if label not in classes]
    counts = {label: labels.count(label) for label in set(labels)}
    known = tuple(c for c in classes if c in spec.classes) if keep else ()
    # Few examples, each repeated so that a taught label counts as much as a class's rehearsal rows (or,
    # alone, so that a batch holds MIN_ROWS: augmentation makes each repeat another picture).
    repeat = [max(1, round(REHEARSAL_PER_CLASS / counts[label])) if known else max(1, -(-MIN_ROWS // len(labels)))
              for label in labels]
    train_x = np.repeat(x, repeat, axis=0)
    train_y = np.repeat([classes.index(label) for label in labels], repeat)
    if known:
        rx, ry = rows_of(spec, known, seed, data_dir)
        train_x = np.concatenate([train_x, rx.astype(train_x.dtype)])
        train_y = np.concatenate([train_y, [classes.index(known[i]) for i in ry]])
    taught_x, taught_y = torch.from_numpy(x), torch.tensor([classes.index(label) for label in labels])
    splits = Splits(torch.from_numpy(train_x), torch.from_numpy(train_y.astype(np.int64)), taught_x, taught_y,
                    taught_x, taught_y)
    # A few batches an epoch (two, or more where the steps outnumber the epochs a run may have).
    per_epoch = max(2, math.ceil(steps / MAX_EPOCHS))
    batch = min(max(math.ceil(len(train_x) / per_epoch), BATCH_SIZE_RANGE[0]), BATCH_SIZE_RANGE[1])
    while len(train_x) % batch == 1:   # a last batch of one row: BatchNorm cannot train on it
        batch += 1
    config = recipe(spec.name, epochs=math.ceil(steps / per_epoch), batch_size=batch, seed=seed,
                    lr=FROM_A_MODEL_LR if start is not None else None, device="cpu", outlier_exposure=0.0,
                    hidden=list(start.model.config.hidden) if start is not None else None)
    pictures = spec.rows.name != "hands"
    finish_with = (by_likeness if pictures and not keep else by_probability(*not_sure) if not_sure is not None
                   else finish.finish)
    trainer = Trainer(config, splits=splits, points_per_epoch=1, finish=finish_with, classes=classes,
                      start=start.model if start is not None else None, start_classes=keep)
    for _ in trainer.fit():
        pass
    name = f"taught {len(labels)} examples of {len(counts)} {what}" + (
        f", from {start.meta.get('name') or start.dataset}" if start is not None else "")
    return trainer.checkpoint(trainer.report().accuracy, name=name, command=COMMAND)



def examples_curve(spec: DatasetSpec, rows: np.ndarray, labels: list[str], start: Checkpoint | None = None,
                   sizes: tuple[int, ...] = (1, 2, 3, 5, 8), draws: int = 2, steps: int = STEPS // 2,
                   keep: bool = False, test: tuple[np.ndarray, list[str]] | None = None,
                   **teach_args: Any) -> list[dict[str, float]]:
    """How accuracy grows with the examples a label: for each size k (where every label has more than
    k examples, or any k with `test`), `draws` models taught k random examples of each label, read on
    the label's other examples (or on `test`, rows and labels). One dict a size: k, mean, min, max."""
    x = np.asarray(rows)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    fewest = min(len(v) for v in by_label.values())
    out = []
    for k in sizes:
        if k > fewest or (test is None and k >= fewest):
            continue
        accuracies = []
        for draw in range(draws):
            rng = np.random.default_rng(1000 * k + draw)
            picked = {label: list(rng.choice(ids, k, replace=False)) for label, ids in by_label.items()}
            taught_ids = [i for ids in picked.values() for i in ids]
            rest = sorted(set(range(len(x))) - set(taught_ids))
            held = test if test is not None else (x[rest], [labels[i] for i in rest])
            taught = teach(spec, x[taught_ids], [labels[i] for i in taught_ids], start=start, seed=draw, steps=steps,
                           keep=keep, **teach_args)
            with torch.inference_mode():
                answers = logits(taught.model, torch.as_tensor(np.asarray(held[0])), taught.normalization).argmax(1)
            accuracies.append(float(np.mean([taught.classes[int(a)] == t for a, t in zip(answers, held[1],
                                                                                       strict=True)])))
        out.append({"examples": k, "mean": float(np.mean(accuracies)), "min": min(accuracies),
                    "max": max(accuracies)})
    return out
