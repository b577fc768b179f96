"""Data sets: every per-set fact in one spec, and how sets are read and split.

A `DatasetSpec` holds all that differs between data sets: where its rows come from (its `source`,
which also knows whether the set can be downloaded and says where a missing set belongs), what a
row is, class names, normalization, augmentation, the kind of input people give its models
(`classifier.inputs`), and its default training recipe. Code elsewhere asks these fields, never a
set's name: a new data set is a new entry in `DATASETS`.

Every set becomes two tensors per split, rows and labels (N,) as int64 class indices, read (or
made) once per process and then served from memory. A row is what the spec's `rows` says: uint8
28x28 pictures (`preprocess.IMAGES`) or float32 (63,) hands (`preprocess.HANDS`), as
`landmarks.hand_row` makes them from MediaPipe's 21 points.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..inputs import DRAWING, HAND_LANDMARKS, HAND_PHOTO, InputKind
from ..models import checkpoint, preprocess
from ..models.mlp import MLPConfig
from ..paths import data_dir
from .augment import AugmentConfig, HandAugmentConfig
from .sources import SPLITS, CsvSource, GeneratedHands, IdxSource


# ------------------------------------------------------------------------------------ specs

@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    classes: tuple[str, ...]
    noun: str                        # what one row shows: "digit", "sign" (for the app's wording)
    source: IdxSource | CsvSource | GeneratedHands
    normalization: dict[str, Any]
    # How its rows look, in words, recorded in weights files.
    style: str
    # The kind of input people give its models, and so the classify tab the app gives it; None:
    # none fits (its models read rows as the set has them), no tab.
    kind: InputKind | None = None
    rows: preprocess.Rows = preprocess.IMAGES
    augment: AugmentConfig | HandAugmentConfig | None = None
    # TrainConfig fields that differ from its defaults: what `python train.py NAME` uses.
    recipe: dict[str, Any] = field(default_factory=dict)
    # Share of the training rows held out for validation.
    val_fraction: float = 1 / 12
    note: str = ""                   # one line a user should know about the set
    # What the app calls the model shipped in weights/<name>.safetensors.
    shipped_title: str = "the shipped model"
    # Set where a validation split of the training rows flatters (it holds near-copies of them):
    # why, in one line. Training then also tracks the test set, and curves show it.
    validation_note: str = ""

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind.rows != self.rows:
            raise ValueError(f"{self.name}: its rows are {self.rows.name}, but {self.kind.name} input makes "
                             f"{self.kind.rows.name}")

    @property
    def in_features(self) -> int:
        """The numbers a model reads per row."""
        return self.rows.in_features

    @property
    def not_sure_below(self) -> float | None:
        """For models that carry no "not sure" detector: the kind's top probability under which an
        answer is "not sure" (None: they carry a detector)."""
        return self.kind.not_sure_below if self.kind is not None else None

    @property
    def not_sure_margin(self) -> float | None:
        """For the same models: how close the top two probabilities may be before an answer is "not sure"."""
        return self.kind.not_sure_margin if self.kind is not None else None

    def weights_meta(self, model_config: MLPConfig, classes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        """The metadata of a weights file of a model of this set (of `classes`, where a person named
        their own); `extra` adds training facts."""
        key, value = self.rows.described
        preprocessing = {key: value, "normalization": dict(self.normalization), "ink": self.style,
                         "user_input": self.kind.name if self.kind is not None else None}
        return checkpoint.new_meta(self.name, list(classes or self.classes), model_config, preprocessing, **extra)


SIGN_LETTERS = tuple("ABCDEFGHIKLMNOPQRSTUVWXY")  # J and Z need motion, so the set omits them

DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec(
        "digits", "MNIST handwritten digits", tuple("0123456789"), "digit",
        IdxSource("MNIST/raw", torchvision="MNIST"), preprocess.MNIST_STATS,
        style="light on dark, like MNIST", kind=DRAWING,
        augment=AugmentConfig(degrees=10, scale=0.1, shift=2.0, shear=10),
        # Outlier exposure: a scribble or a garment drawn in the Draw tab is answered "not sure"
        # (bench/ood.py) far more often when the model learnt to give made-up outliers a flat answer.
        recipe={"epochs": 60, "outlier_exposure": 0.5},
    ),
    "fashion": DatasetSpec(
        "fashion", "Fashion-MNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "garment", IdxSource("FashionMNIST/raw", torchvision="FashionMNIST"), preprocess.FASHION_STATS,
        style="light on dark, like MNIST",
        augment=AugmentConfig(degrees=0, scale=0.05, shift=1.5, hflip=True), recipe={"epochs": 40},
    ),
    "signs": DatasetSpec(
        "signs", "Sign Language MNIST (ASL letters)", SIGN_LETTERS, "sign",
        CsvSource("sign_mnist", ("sign_mnist_train.csv", "sign_mnist_test.csv"),
                  label_values=tuple(v for v in range(25) if v != 9),  # 9 would be J
                  manual="Kaggle, https://www.kaggle.com/datasets/datamunge/sign-language-mnist"),
        preprocess.PER_IMAGE, style="greyscale photo", kind=HAND_PHOTO,
        # Loose framing (shift, zoom) and "photo" padding: a square cut from a photo is never framed
        # quite as the data set's crops are, and its corners show the wall or clutter behind the hand
        # (docs/results.md, photo-like pictures).
        augment=AugmentConfig(degrees=10, scale=0.2, shift=4.0, shear=5, brightness=0.15, contrast=0.3,
                              gamma=0.3, padding="photo"),
        recipe={"epochs": 30}, val_fraction=0.1,
        note="J and Z need motion and are not in the data set. "
             "For a good picture: a plain background, the hand facing the camera, lit from the front.",
        validation_note="Its training rows are augmented copies of a few photos, so validation rows are "
                        "near-copies of training rows and flatter the model; the test curve (other photos) is honest.",
    ),
    # The Hand signs tab's first answer: the letters read from MediaPipe's landmarks of a hand. Its
    # rows are generated (no photo of a real hand is trained on), so its test split is generated
    # too: real photos are measured by bench/real_hands.py.
    "handshape": DatasetSpec(
        "handshape", "Hand shapes (generated hands, 21 landmarks)", SIGN_LETTERS, "hand shape",
        GeneratedHands(per_letter={"train": 1000, "test": 100}, seeds={"train": 0, "test": 10_000}),
        preprocess.LANDMARKS, style="21 hand landmarks, normalized", kind=HAND_LANDMARKS, rows=preprocess.HANDS,
        # Turned further and jittered more than the generator alone: real hands vary past its ranges.
        augment=HandAugmentConfig(degrees=25, noise=0.03),
        recipe={"hidden": [128, 128], "dropout": 0.1, "batchnorm": False, "epochs": 70, "batch_size": 512,
                "lr": 3e-3, "weight_decay": 1e-3, "label_smoothing": 0.05, "warmup": 0.3},
        note="Generated hands, the 24 static letters; real photos are read by the same landmarks.",
        shipped_title="the shipped letters model",
    ),
}


def spec_of(kind: InputKind) -> DatasetSpec | None:
    """The data set whose models read `kind`'s input (None: no data set does)."""
    return next((spec for spec in DATASETS.values() if spec.kind is kind), None)


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}") from None


# ------------------------------------------------------------------------------- public API

_cache: dict[tuple[str, str, str], tuple[torch.Tensor, torch.Tensor]] = {}
_cache_lock = threading.Lock()


def load(name: str, split: str, root: str | os.PathLike[str] | None = None,
         download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows (uint8 images (N, 28, 28), or float32 hands (N, 63)) and labels (N,) int64 of one split
    ('train' or 'test').

    Served from memory after the first call for the same folder. Treat the tensors as read-only.
    """
    spec = get_spec(name)
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    folder = data_dir(root)
    key = (name, split, str(folder.resolve()))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        images, labels = spec.source.read(split, folder, spec, download)
        # frombuffer arrays are read-only views of the file bytes; torch wants writable memory.
        result = (torch.from_numpy(np.array(images, copy=True)), torch.from_numpy(np.array(labels, copy=True)))
        _cache[key] = result
        return result


@dataclass
class Splits:
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor


def load_splits(name: str, root: str | os.PathLike[str] | None = None,
                val_fraction: float | None = None, split_seed: int = 0,
                download: bool = True) -> Splits:
    """Train/validation (held out from the training rows with a fixed seed) and test splits."""
    spec = get_spec(name)
    frac = spec.val_fraction if val_fraction is None else val_fraction
    x, y = load(name, "train", root, download)
    tx, ty = load(name, "test", root, download)
    n_val = int(round(len(x) * frac))
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(split_seed))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    return Splits(x[train_idx], y[train_idx], x[val_idx], y[val_idx], tx, ty)


def is_available(name: str, root: str | os.PathLike[str] | None = None) -> bool:
    """True if both splits are on disk (no download attempted)."""
    return get_spec(name).source.available(data_dir(root))


def where_to_put(name: str, root: str | os.PathLike[str] | None = None) -> str:
    """The one message saying where a missing data set belongs (errors carry the same text)."""
    spec = get_spec(name)
    return spec.source.where_to_put(data_dir(root), spec.title)
