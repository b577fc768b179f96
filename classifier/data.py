"""Data sets: where they live, how they are read, and how they are split.

Every set becomes two uint8 tensors per split, images (N, 28, 28) and labels (N,) as int64
class indices, read once per process with vectorised NumPy (no per-row Python) and then
served from memory. MNIST-style sets are raw IDX files (gzipped or not); Sign Language
MNIST is the Kaggle CSV (gzipped or not).
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import preprocess

DEFAULT_DATA_DIR = "data"
DATA_DIR_ENV = "CLASSIFIER_DATA_DIR"

SIGN_LETTERS = tuple("ABCDEFGHIKLMNOPQRSTUVWXY")  # J and Z need motion, so the set omits them
SIGNS_KAGGLE = "https://www.kaggle.com/datasets/datamunge/sign-language-mnist"


class DataError(RuntimeError):
    """A data set is missing, unreadable or not what it claims to be."""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    classes: tuple[str, ...]
    normalization: dict[str, Any]
    # Default held-out share of the training rows used for validation.
    val_fraction: float


DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec(
        "digits", "MNIST handwritten digits", tuple("0123456789"), preprocess.MNIST_STATS, 1 / 12
    ),
    "fashion": DatasetSpec(
        "fashion",
        "Fashion-MNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        preprocess.FASHION_STATS,
        1 / 12,
    ),
    "signs": DatasetSpec(
        "signs", "Sign Language MNIST (ASL letters)", SIGN_LETTERS, preprocess.PER_IMAGE, 0.1
    ),
}

_IDX_FOLDERS = {"digits": "MNIST", "fashion": "FashionMNIST"}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}") from None


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


def _find(base: Path) -> Path | None:
    for candidate in (base.with_name(base.name + ".gz"), base):
        if candidate.is_file():
            return candidate
    return None


def _download_idx(name: str, root: Path) -> None:
    import torchvision.datasets as tvd

    cls = {"digits": tvd.MNIST, "fashion": tvd.FashionMNIST}[name]
    try:
        for train in (True, False):
            cls(root=str(root), train=train, download=True)
    except Exception as e:  # noqa: BLE001 - any failure here means "not available"; re-raised with context
        raise DataError(
            f"{get_spec(name).title} is not in {root / _IDX_FOLDERS[name] / 'raw'} and downloading it "
            f"failed ({type(e).__name__}: {e}). Put the four IDX files (.gz or plain) there, "
            f"or set {DATA_DIR_ENV} / --data-dir to a folder that has them."
        ) from e


def _load_idx_split(name: str, split: str, root: Path, download: bool) -> tuple[np.ndarray, np.ndarray]:
    raw_dir = root / _IDX_FOLDERS[name] / "raw"
    img_base, lbl_base = (raw_dir / n for n in _IDX_FILES[split])
    img_path, lbl_path = _find(img_base), _find(lbl_base)
    if (img_path is None or lbl_path is None) and download:
        _download_idx(name, root)
        img_path, lbl_path = _find(img_base), _find(lbl_base)
    if img_path is None or lbl_path is None:
        missing = img_base if img_path is None else lbl_base
        raise DataError(
            f"{get_spec(name).title}: {missing}(.gz) not found. Put the IDX files in {raw_dir}, "
            f"or set {DATA_DIR_ENV} / --data-dir to a folder that has them."
        )
    images = read_idx(img_path, 3)
    labels = read_idx(lbl_path, 1)
    if images.shape[1:] != (28, 28):
        raise DataError(f"{img_path}: images are {images.shape[1:]}, expected 28x28")
    if len(images) != len(labels):
        raise DataError(f"{img_path} has {len(images)} images but {lbl_path} has {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DataError(f"{lbl_path}: label {int(labels.max())} out of range 0..9")
    return images, labels.astype(np.int64)


def sign_label_to_index(labels: np.ndarray) -> np.ndarray:
    """Map Sign Language MNIST's labels 0..24 (9 = J absent) to contiguous indices 0..23."""
    return np.where(labels > 9, labels - 1, labels)


def sign_index_to_label(indices: np.ndarray) -> np.ndarray:
    """Inverse of `sign_label_to_index`."""
    return np.where(indices >= 9, indices + 1, indices)


def read_sign_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a Sign Language MNIST CSV (header `label,pixel1..pixel784`)."""
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
    bad = (labels < 0) | (labels > 24) | (labels == 9)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{path}: row {row + 1}: label {int(labels[row])} is not a letter (0..24 without 9)")
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{path}: pixel values outside 0..255")
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    return images, sign_label_to_index(labels).astype(np.int64)


def _load_signs_split(split: str, root: Path) -> tuple[np.ndarray, np.ndarray]:
    folder = root / "sign_mnist"
    base = folder / f"sign_mnist_{split}.csv"
    path = _find(base)
    if path is None:
        raise DataError(
            f"Sign Language MNIST is not downloaded automatically: get it from Kaggle "
            f"(datamunge/sign-language-mnist, {SIGNS_KAGGLE}) and put "
            f"sign_mnist_train.csv and sign_mnist_test.csv (or .csv.gz) in {folder.resolve()} "
            f"(missing: {base.name})."
        )
    return read_sign_csv(path)


# ------------------------------------------------------------------------------- public API

_cache: dict[tuple[str, str, str], tuple[torch.Tensor, torch.Tensor]] = {}
_cache_lock = threading.Lock()


def load(name: str, split: str, root: str | os.PathLike[str] | None = None,
         download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of one split ('train' or 'test').

    Served from memory after the first call for the same folder. Treat the tensors as read-only.
    """
    get_spec(name)
    if split not in _IDX_FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    folder = data_dir(root)
    key = (name, split, str(folder.resolve()))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        if name == "signs":
            images, labels = _load_signs_split(split, folder)
        else:
            images, labels = _load_idx_split(name, split, folder, download)
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
    folder = data_dir(root)
    if name == "signs":
        return all(_find(folder / "sign_mnist" / f"sign_mnist_{s}.csv") for s in ("train", "test"))
    raw = folder / _IDX_FOLDERS[name] / "raw"
    return all(_find(raw / f) for pair in _IDX_FILES.values() for f in pair)


def where_to_put(name: str, root: str | os.PathLike[str] | None = None) -> str:
    """A sentence saying where a missing data set belongs."""
    folder = data_dir(root).resolve()
    if name == "signs":
        return (f"Sign Language MNIST: download it from Kaggle (datamunge/sign-language-mnist) and put "
                f"sign_mnist_train.csv and sign_mnist_test.csv (or .csv.gz) in {folder / 'sign_mnist'}.")
    return (f"{get_spec(name).title}: put the four IDX files (.gz or plain) in "
            f"{folder / _IDX_FOLDERS[name] / 'raw'}, or train once with internet access to download them.")
