"""Data sets: every per-set fact in one spec, and how sets are read and split.

A `DatasetSpec` holds all that differs between data sets: where its files live and how they
are read (its `source`, which also knows whether the set can be downloaded and says where a
missing set belongs), class names, normalization, augmentation, which image pipeline turns a
user's input into its 28x28 style, and its default training recipe. Code elsewhere branches
on these fields, never on a set's name: a new data set is a new entry in `DATASETS`.

Every set becomes two tensors per split, rows and labels (N,) as int64 class indices, read (or
made) once per process with vectorised NumPy and then served from memory. A row is what the
spec's `inputs` says: an "image" set's rows are uint8 28x28 pictures; a "landmarks" set's are
float32 (63,) hands, as `landmarks.normalize` makes them from MediaPipe's 21 points.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from . import preprocess
from .augment import AugmentConfig, HandAugmentConfig

DEFAULT_DATA_DIR = "data"
DATA_DIR_ENV = "CLASSIFIER_DATA_DIR"
SPLITS = ("train", "test")


class DataError(RuntimeError):
    """A data set is missing, unreadable or not what it claims to be."""


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: an explicit value, else $CLASSIFIER_DATA_DIR, else `data/`."""
    return Path(explicit or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


# ---------------------------------------------------------------------------------- readers

def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise DataError(f"{path}: cannot read ({type(e).__name__}: {e}); the file is truncated or corrupt") from e


def _find(base: Path) -> Path | None:
    """`base` gzipped or plain, whichever is there."""
    for candidate in (base.with_name(base.name + ".gz"), base):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (MNIST's format) into a NumPy array."""
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (header {raw[:4].hex()})")
    if ndim != expected_ndim:
        raise DataError(f"{path}: expected {expected_ndim} dimensions, header says {ndim}")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{path}: header truncated")
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected = header_len + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{path}: header promises shape {shape} ({expected} bytes) but file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def read_label_csv(path: Path, label_values: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV with header `label,pixel1..pixel784`; labels become indices into `label_values`."""
    text = _read_bytes(path)
    newline = text.find(b"\n")
    header = text[: newline if newline >= 0 else len(text)].decode("ascii", "replace").strip()
    expected_header = ",".join(["label"] + [f"pixel{i}" for i in range(1, 785)])
    if header != expected_header:
        raise DataError(f"{path}: header is not 'label,pixel1,...,pixel784' (starts {header[:40]!r})")
    body = text[newline + 1:] if newline >= 0 else b""
    try:
        table = np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.int32, ndmin=2)
    except ValueError as e:
        raise DataError(f"{path}: malformed row ({e})") from e
    if table.size == 0:
        raise DataError(f"{path}: no data rows")
    if table.shape[1] != 785:
        raise DataError(f"{path}: rows have {table.shape[1]} values, expected 785")
    labels, pixels = table[:, 0], table[:, 1:]
    lookup = np.full(max(label_values) + 1, -1, dtype=np.int64)
    lookup[list(label_values)] = np.arange(len(label_values))
    in_range = (labels >= 0) & (labels < len(lookup))
    index = np.where(in_range, lookup[np.clip(labels, 0, len(lookup) - 1)], -1)
    if (index < 0).any():
        row = int(np.argmax(index < 0))
        raise DataError(f"{path}: row {row + 1}: label {int(labels[row])} is not one of the data set's "
                        f"labels ({_ranges(label_values)})")
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{path}: pixel values outside 0..255")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), index


def _ranges(values: tuple[int, ...]) -> str:
    """(0, 1, 2, 4) -> '0..2, 4': how to name a set of labels in a message."""
    runs: list[list[int]] = []
    for v in sorted(values):
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


# ---------------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class IdxSource:
    """Four IDX files (gzipped or plain) under torchvision's names in `<data dir>/<folder>`."""

    folder: str
    # The torchvision.datasets class that can download the set into the data directory; None: manual only.
    torchvision: str | None = None
    FILES: ClassVar[dict[str, tuple[str, str]]] = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }

    @property
    def downloadable(self) -> bool:
        return self.torchvision is not None

    def available(self, root: Path) -> bool:
        return all(_find(root / self.folder / f) for pair in self.FILES.values() for f in pair)

    def where_to_put(self, root: Path, title: str) -> str:
        return (f"{title} is not in {(root / self.folder).resolve()}: put the four IDX files (.gz or plain) there, "
                f"or set {DATA_DIR_ENV} / --data-dir to a folder that has them"
                + (", or train once with internet access to download them." if self.downloadable else "."))

    def _download(self, root: Path, title: str) -> None:
        import torchvision.datasets as tvd

        try:
            for train in (True, False):
                getattr(tvd, str(self.torchvision))(root=str(root), train=train, download=True)
        except Exception as e:  # noqa: BLE001 - any failure here means "not available"; re-raised with context
            raise DataError(f"{self.where_to_put(root, title)} Downloading it failed "
                            f"({type(e).__name__}: {e}).") from e

    def read(self, split: str, root: Path, spec: DatasetSpec, download: bool) -> tuple[np.ndarray, np.ndarray]:
        img_base, lbl_base = (root / self.folder / n for n in self.FILES[split])
        img_path, lbl_path = _find(img_base), _find(lbl_base)
        if (img_path is None or lbl_path is None) and download and self.downloadable:
            self._download(root, spec.title)
            img_path, lbl_path = _find(img_base), _find(lbl_base)
        if img_path is None or lbl_path is None:
            missing = img_base if img_path is None else lbl_base
            raise DataError(f"{self.where_to_put(root, spec.title)} (Missing: {missing.name}.)")
        images = read_idx(img_path, 3)
        labels = read_idx(lbl_path, 1)
        if images.shape[1:] != (28, 28):
            raise DataError(f"{img_path}: images are {images.shape[1:]}, expected 28x28")
        if len(images) != len(labels):
            raise DataError(f"{img_path} has {len(images)} images but {lbl_path} has {len(labels)} labels")
        if labels.size and labels.max() >= len(spec.classes):
            raise DataError(f"{lbl_path}: label {int(labels.max())} out of range 0..{len(spec.classes) - 1}")
        return images, labels.astype(np.int64)


@dataclass(frozen=True)
class CsvSource:
    """Two CSV files (gzipped or plain), `label,pixel1..pixel784`, in `<data dir>/<folder>`."""

    folder: str
    files: tuple[str, str]          # train, test (".gz" after the name is also accepted)
    label_values: tuple[int, ...]   # the label each class has in the files, in class order
    manual: str                     # where a person gets the files (CSV sets are never downloaded)

    downloadable: ClassVar[bool] = False

    def _base(self, root: Path, split: str) -> Path:
        return root / self.folder / self.files[SPLITS.index(split)]

    def available(self, root: Path) -> bool:
        return all(_find(self._base(root, s)) for s in SPLITS)

    def where_to_put(self, root: Path, title: str) -> str:
        return (f"{title} is not downloaded automatically: get it from {self.manual} and put "
                f"{' and '.join(self.files)} (or .gz) in {(root / self.folder).resolve()}.")

    def read(self, split: str, root: Path, spec: DatasetSpec, download: bool) -> tuple[np.ndarray, np.ndarray]:
        path = _find(self._base(root, split))
        if path is None:
            raise DataError(f"{self.where_to_put(root, spec.title)} (Missing: {self._base(root, split).name}.)")
        return read_label_csv(path, self.label_values)


@dataclass(frozen=True)
class GeneratedHands:
    """Hands made by `classifier.handgen` (a kinematic hand posed as each letter, seen from many
    views), normalized as real hands are: nothing to download, the same seeds give the same hands."""

    per_letter: dict[str, int]      # split -> hands a letter
    seeds: dict[str, int]           # split -> the generator's seed (other seeds, other hands)

    downloadable: ClassVar[bool] = True   # nothing to fetch: it is made when asked for

    def available(self, root: Path) -> bool:
        return True

    def where_to_put(self, root: Path, title: str) -> str:
        return f"{title} is generated when training starts; nothing needs to be on disk."

    def read(self, split: str, root: Path, spec: DatasetSpec, download: bool) -> tuple[np.ndarray, np.ndarray]:
        from . import handgen  # it imports `landmarks`, which imports this module's users

        return handgen.generate(self.per_letter[split], seed=self.seeds[split], letters=spec.classes)


# ------------------------------------------------------------------------------------ specs

@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    classes: tuple[str, ...]
    noun: str                        # what one image shows: "digit", "sign" (for the app's wording)
    source: IdxSource | CsvSource | GeneratedHands
    normalization: dict[str, Any]
    # How the 28x28 images look, recorded in weights files.
    image_style: str
    # The `imageprep.PIPELINES` entry that turns a user's input into this set's style, and so the
    # kind of live classify tab the app gives it; None: no pipeline fits, no tab.
    user_input: str | None = None
    augment: AugmentConfig | HandAugmentConfig | None = None
    # What a row is: "image" (uint8 28x28) or "landmarks" (float32 normalized hand, 63 numbers).
    inputs: str = "image"
    # TrainConfig fields that differ from its defaults: what `python train.py NAME` uses.
    recipe: dict[str, Any] = field(default_factory=dict)
    # Share of the training rows held out for validation.
    val_fraction: float = 1 / 12
    note: str = ""                   # one line a user should know about the set
    # Set where a validation split of the training rows flatters (it holds near-copies of them):
    # why, in one line. Training then also tracks the test set, and curves show it.
    validation_note: str = ""
    # For sets whose models carry no "not sure" detector (`ood`, which reads 28x28 images): a top
    # probability under which an answer is "not sure".
    not_sure_below: float | None = None

    @property
    def rows(self) -> str:
        """What the set's rows are, in words: "images" or "hands"."""
        return "images" if self.inputs == "image" else "hands"

    @property
    def in_features(self) -> int:
        """The numbers a model reads per row."""
        return preprocess.N_PIXELS if self.inputs == "image" else preprocess.N_LANDMARK_FEATURES


SIGN_LETTERS = tuple("ABCDEFGHIKLMNOPQRSTUVWXY")  # J and Z need motion, so the set omits them

DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec(
        "digits", "MNIST handwritten digits", tuple("0123456789"), "digit",
        IdxSource("MNIST/raw", torchvision="MNIST"), preprocess.MNIST_STATS,
        image_style="light on dark, like MNIST", user_input="drawing",
        augment=AugmentConfig(degrees=10, scale=0.1, shift=2.0, shear=10),
        # Outlier exposure: a scribble or a garment drawn in the Draw tab is answered "not sure"
        # (bench/ood.py) far more often when the model learnt to give made-up outliers a flat answer.
        recipe={"epochs": 60, "outlier_exposure": 0.5},
    ),
    "fashion": DatasetSpec(
        "fashion", "Fashion-MNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "garment", IdxSource("FashionMNIST/raw", torchvision="FashionMNIST"), preprocess.FASHION_STATS,
        image_style="light on dark, like MNIST",
        augment=AugmentConfig(degrees=0, scale=0.05, shift=1.5, hflip=True), recipe={"epochs": 40},
    ),
    "signs": DatasetSpec(
        "signs", "Sign Language MNIST (ASL letters)", SIGN_LETTERS, "sign",
        CsvSource("sign_mnist", ("sign_mnist_train.csv", "sign_mnist_test.csv"),
                  label_values=tuple(v for v in range(25) if v != 9),  # 9 would be J
                  manual="Kaggle, https://www.kaggle.com/datasets/datamunge/sign-language-mnist"),
        preprocess.PER_IMAGE, image_style="greyscale photo", user_input="hand_photo",
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
        preprocess.LANDMARKS, image_style="21 hand landmarks, normalized", inputs="landmarks",
        augment=HandAugmentConfig(),
        recipe={"hidden": [128, 128], "dropout": 0.1, "batchnorm": False, "epochs": 70, "batch_size": 512,
                "lr": 3e-3, "weight_decay": 1e-3, "label_smoothing": 0.05, "warmup": 0.3},
        # Chosen with the real photos of `real_hands_dev` as a development set: it flags few of those
        # the shipped model reads right.
        not_sure_below=0.5,
        note="Generated hands, the 24 static letters; real photos are read by the same landmarks.",
    ),
}


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
