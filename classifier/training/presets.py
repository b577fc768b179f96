"""The classic models as named recipes, one click (or `train.py --preset NAME`) each.

A preset is a complete set of training settings: every `TrainConfig` field that makes the
model what it is, so the same name gives the same run on any data set (only `best` follows
the data set: it is that set's own default recipe). The app fills its widgets from a preset and
the user may edit any of them; `name_of` tells which preset, if any, a config still is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .trainer import TrainConfig, overridden, recipe

# What a preset leaves out is off: no augmentation, dropout, BatchNorm, weight decay or schedule.
_PLAIN: dict[str, Any] = {"dropout": 0.0, "batchnorm": False, "augment": False, "weight_decay": 0.0,
                          "schedule": "constant", "label_smoothing": 0.0, "momentum": 0.0, "method": "gradient"}


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    about: str                                  # one line: what it is and where it comes from
    settings: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields; empty: the data set's recipe

    def config(self, dataset: str, **overrides: Any) -> TrainConfig:
        """This preset's TrainConfig for `dataset`; `overrides` (None values ignored) replace fields."""
        base = recipe(dataset) if not self.settings else TrainConfig(dataset=dataset, **{**_PLAIN, **self.settings})
        return overridden(base, **overrides)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("nearest-mean", "Nearest class mean",
           "The mean image of each class; an image gets the class of the nearest mean (pixel similarity). "
           "A baseline every model should beat.",
           {"method": "nearest_mean", "hidden": [], "epochs": 1}),
    Preset("linear", "Linear model",
           "One linear layer, 784 pixels -> one score per class: the classic 'linear model from scratch'.",
           {"hidden": [], "optimizer": "adamw", "lr": 1e-3, "batch_size": 128, "epochs": 10,
            "schedule": "cosine"}),
    Preset("small", "Small (784-30-10)",
           "The classic from-scratch MNIST network: 30 sigmoid units, plain SGD on mini-batches of 10.",
           {"hidden": [30], "activation": "sigmoid", "optimizer": "sgd", "lr": 0.5, "batch_size": 10,
            "epochs": 10}),
    Preset("tutorial", "Tutorial (784-128-64-10)",
           "The classic PyTorch tutorial: 128 ReLU then 64 Tanh units, SGD lr 0.01 momentum 0.9, batch 64, "
           "15 epochs (it reports 97.2% on MNIST).",
           {"hidden": [128, 64], "activation": ["relu", "tanh"], "optimizer": "sgd", "lr": 0.01, "momentum": 0.9,
            "batch_size": 64, "epochs": 15}),
    Preset("quick", "Quick (one epoch)",
           "This project's fastest recipe to 97.2% on MNIST: 256 units with BatchNorm, AdamW at a high learning "
           "rate annealed over one epoch of batches of 128.",
           {"hidden": [256], "batchnorm": True, "optimizer": "adamw", "lr": 0.02, "batch_size": 128, "epochs": 1,
            "schedule": "cosine"}),
    Preset("best", "Best (the shipped models)",
           "The data set's default recipe, tuned for accuracy: 1024-1024 with BatchNorm, dropout, augmentation, "
           "AdamW with a one-cycle schedule, and for digits outlier exposure (the shipped models).", {}),
]}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}") from None


# Fields that say how a run is done, not what is trained.
_NOT_RECIPE = {"dataset", "seed", "device", "val_fraction", "max_batches", "precision"}


def name_of(config: TrainConfig) -> str | None:
    """The preset `config` is (ignoring seed, device and precision), or None if edited."""
    if config.method == "nearest_mean":  # the only one of its kind; no other setting applies to it
        return "nearest-mean"
    for preset in PRESETS.values():
        ref = preset.config(config.dataset)
        if all(getattr(ref, f.name) == getattr(config, f.name) for f in fields(TrainConfig)
               if f.name not in _NOT_RECIPE):
            return preset.name
    return None
