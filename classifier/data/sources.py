"""Where a data set's rows come from: the readers of its files (MNIST's IDX, Sign Language MNIST's
CSV, gzipped or plain, with clear errors for anything truncated or malformed) and the sources a
spec names: IDX files, CSV files, or hands the kinematic hand generates.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..paths import DATA_DIR_ENV
from . import handgen

if TYPE_CHECKING:
    from .datasets import DatasetSpec

SPLITS = ("train", "test")


class DataError(RuntimeError):
    """A data set is missing, unreadable or not what it claims to be."""


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
    """Hands made by `handgen` (a kinematic hand posed as each letter, seen from many
    views), normalized as real hands are: nothing to download, the same seeds give the same hands."""

    per_letter: dict[str, int]      # split -> hands a letter
    seeds: dict[str, int]           # split -> the generator's seed (other seeds, other hands)

    downloadable: ClassVar[bool] = True   # nothing to fetch: it is made when asked for

    def available(self, root: Path) -> bool:
        return True

    def where_to_put(self, root: Path, title: str) -> str:
        return f"{title} is generated when training starts; nothing needs to be on disk."

    def read(self, split: str, root: Path, spec: DatasetSpec, download: bool) -> tuple[np.ndarray, np.ndarray]:
        return handgen.generate(self.per_letter[split], seed=self.seeds[split], letters=spec.classes)


