"""Teaching a model a person's own examples in seconds: their rows under labels of their own,
trained by the `Trainer` with the data set's recipe (its layers, dropout, weight decay, label
smoothing and augmentation: each example turned, scaled and jittered at every step, which is what
makes a few examples enough).

From a model (the shipped one): its classes plus any new labels, its weights as the beginning, a
lower learning rate, and rows of its own classes mixed in (`rehearsal`), so a person who teaches a
few signs keeps the rest. Without one: a model of the taught labels only, in the order they first
appear. Every random draw comes from the seed's own generators, so teachings running at once in one
server neither disturb nor repeat each other.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch

from ..data import DatasetSpec, Splits, handgen
from ..models.checkpoint import Checkpoint
from . import finish
from .trainer import BATCH_SIZE_RANGE, MAX_EPOCHS, Trainer, recipe

# Each taught label weighs as much as this many rehearsal rows of a class of the model taught from.
REHEARSAL_PER_CLASS = 20
STEPS = 300                 # training steps
FROM_A_MODEL_LR = 1e-3      # from a model: a gentle learning rate keeps what it knows


@cache
def rehearsal(classes: tuple[str, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """REHEARSAL_PER_CLASS rows of each of `classes`, and their indices into `classes`: generated
    hands, made for the purpose (the hand-shape data set's own generator)."""
    return handgen.generate(REHEARSAL_PER_CLASS, seed=seed, letters=classes)


def teach(spec: DatasetSpec, rows: np.ndarray, labels: list[str], start: Checkpoint | None = None, seed: int = 0,
          steps: int = STEPS) -> Checkpoint:
    """A model of `spec`'s rows taught one person's examples (`rows` and their `labels`), finished with
    the data set's "not sure" rule and named for what it was taught."""
    x = np.asarray(rows, dtype=np.float32).reshape(-1, spec.in_features)
    if len(x) != len(labels) or not len(labels):
        raise ValueError(f"{len(x)} examples for {len(labels)} labels")
    classes = list(start.classes) if start is not None else []
    classes += [label for label in dict.fromkeys(labels) if label not in classes]
    counts = {label: labels.count(label) for label in set(labels)}
    # Few examples, each repeated so that a taught label counts as much as a class's rehearsal rows.
    repeat = [max(1, round(REHEARSAL_PER_CLASS / counts[label])) if start is not None else 1 for label in labels]
    train_x = np.repeat(x, repeat, axis=0)
    train_y = np.repeat([classes.index(label) for label in labels], repeat)
    known = tuple(c for c in classes if c in spec.classes)
    if start is not None and known:
        rx, ry = rehearsal(known, seed)
        train_x = np.concatenate([train_x, rx])
        train_y = np.concatenate([train_y, [classes.index(known[i]) for i in ry]])
    taught_x, taught_y = torch.from_numpy(x), torch.tensor([classes.index(label) for label in labels])
    splits = Splits(torch.from_numpy(train_x), torch.from_numpy(train_y.astype(np.int64)), taught_x, taught_y,
                    taught_x, taught_y)
    # A few batches an epoch (two, or more where the steps outnumber the epochs a run may have).
    per_epoch = max(2, math.ceil(steps / MAX_EPOCHS))
    batch = math.ceil(len(train_x) / per_epoch)
    config = recipe(spec.name, epochs=math.ceil(steps / per_epoch), batch_size=min(max(batch, BATCH_SIZE_RANGE[0]),
                                                                                     BATCH_SIZE_RANGE[1]), seed=seed,
                    lr=FROM_A_MODEL_LR if start is not None else None, device="cpu",
                    hidden=list(start.model.config.hidden) if start is not None else None)
    trainer = Trainer(config, splits=splits, points_per_epoch=1, finish=finish.finish, classes=classes,
                      start=start.model if start is not None else None)
    for _ in trainer.fit():
        pass
    name = f"taught {len(labels)} examples of {len(counts)} signs" + (
        f", from {start.meta.get('name') or start.dataset}" if start is not None else "")
    return trainer.checkpoint(trainer.report().accuracy, name=name, command="taught in the app")

