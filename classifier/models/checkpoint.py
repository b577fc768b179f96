"""Weights files: safetensors tensors plus JSON metadata that describes the model fully.

A file carries the architecture, class names, preprocessing constants, data set, test
accuracy, training command and library versions, so `load()` rebuilds a working model from
the file alone. Writes are atomic; nothing here ever unpickles.
"""

from __future__ import annotations

import json
import os
import platform
import struct
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from safetensors.torch import save_file

from . import ood as ood_module
from .mlp import MLP, MLPConfig
from .ood import Detector

FORMAT = "classifier-mlp"
FORMAT_VERSION = 1
META_KEY = "classifier"


class CheckpointError(RuntimeError):
    """A weights file is missing, corrupt, or does not describe a model this code can build."""


@dataclass
class Checkpoint:
    model: MLP
    meta: dict[str, Any]
    # Says when an input is unlike the training data; None for files made before it existed.
    ood: Detector | None = None

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def normalization(self) -> dict[str, Any]:
        return self.meta["preprocessing"]["normalization"]

    @property
    def dataset(self) -> str:
        return self.meta["dataset"]

    @property
    def kind(self) -> str:
        """The name of the kind of input the model's rows come from (`classifier.inputs`); "" for none."""
        return str(self.meta["preprocessing"].get("user_input") or "")

    @property
    def not_sure_below(self) -> float | None:
        """For models without a detector: the top probability under which an answer is "not sure"."""
        value = self.meta.get("not_sure_below")
        return None if value is None else float(value)

    @property
    def not_sure_margin(self) -> float | None:
        """For the same models: an answer whose top two probabilities are closer than this is "not sure"."""
        value = self.meta.get("not_sure_margin")
        return None if value is None else float(value)

    def with_detector(self, ood: Detector) -> Checkpoint:
        """The same model with `ood` as its detector, its metadata saying so."""
        return Checkpoint(self.model, {**self.meta, "ood": ood.meta()}, ood)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model, its detector and its metadata to `path` (see `save`)."""
        return save(path, self.model, self.meta, self.ood)

    def to_bytes(self) -> bytes:
        """The weights file's bytes, as `save` writes them (for a store rather than a folder)."""
        tensors, meta = _file_parts(self.model, self.meta, self.ood)
        return save_bytes(tensors, metadata={META_KEY: json.dumps(meta, sort_keys=True)})


def library_versions() -> dict[str, str]:
    import safetensors

    return {"python": platform.python_version(), "torch": torch.__version__,
            "safetensors": safetensors.__version__}


def new_meta(dataset: str, classes: list[str], model_config: MLPConfig, preprocessing: dict[str, Any],
             **extra: Any) -> dict[str, Any]:
    """The metadata every weights file carries; `extra` adds training facts (accuracy, command...). A
    data set says what its rows are (`DatasetSpec.weights_meta`)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dataset": dataset,
        "classes": list(classes),
        "model": model_config.to_dict(),
        "preprocessing": preprocessing,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
        **extra,
    }


def save(path: str | os.PathLike[str], model: torch.nn.Module, meta: dict[str, Any],
         ood: Detector | None = None) -> Path:
    """Write weights (and the out-of-distribution detector, if any) + metadata atomically: a crash
    leaves either the old file or the new one."""
    tensors, meta = _file_parts(model, meta, ood)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta, sort_keys=True)})
        # After writing: mkstemp makes the file private, and save_file may replace it with its own.
        # A weights file is an ordinary shareable file.
        os.chmod(tmp, 0o644)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _file_parts(model: torch.nn.Module, meta: dict[str, Any],
                ood: Detector | None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and metadata a weights file holds."""
    if ood is not None:
        meta = {**meta, "ood": ood.meta()}
    _check_meta(meta, source="metadata to save")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if ood is not None:
        tensors.update(ood.tensors())
    return tensors, meta


def _check_meta(meta: Any, source: str) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{source}: not a {FORMAT} weights file (no '{FORMAT}' metadata)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{source}: format version {meta.get('format_version')} is not supported "
                              f"(this code reads version {FORMAT_VERSION})")
    for key in ("dataset", "classes", "model", "preprocessing"):
        if key not in meta:
            raise CheckpointError(f"{source}: metadata lacks {key!r}")
    n_classes = meta["model"].get("n_classes")
    if n_classes != len(meta["classes"]):
        raise CheckpointError(f"{source}: model has {n_classes} outputs but {len(meta['classes'])} class names")
    norm = meta["preprocessing"].get("normalization", {})
    if norm.get("kind") not in ("standardize", "per_image", "landmarks"):
        raise CheckpointError(f"{source}: unknown normalization {norm!r}")
    depth = norm.get("depth", 1.0)
    if norm["kind"] == "landmarks" and not (isinstance(depth, int | float) and 0 <= depth <= 1):
        raise CheckpointError(f"{source}: the landmarks' depth weight must be a number from 0 to 1, not {depth!r}")


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Only the metadata of a weights file (cheap: reads the header)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable safetensors file ({e})") from e
    return _parse_meta(raw, str(path))


def _parse_meta(raw: str | None, source: str, expect_dataset: str | None = None) -> dict[str, Any]:
    """A file's metadata text as checked metadata (of `expect_dataset`'s model, if given)."""
    if raw is None:
        raise CheckpointError(f"{source}: safetensors file without '{META_KEY}' metadata")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{source}: metadata is not valid JSON ({e})") from e
    _check_meta(meta, source=source)
    _expect(meta, source, expect_dataset)
    return meta


def _expect(meta: dict[str, Any], source: str, dataset: str | None) -> None:
    if dataset is not None and meta["dataset"] != dataset:
        raise CheckpointError(f"{source}: weights are for {meta['dataset']!r}, not {dataset!r}")


def load(path: str | os.PathLike[str], device: str | torch.device = "cpu",
         expect_dataset: str | None = None, max_bytes: int | None = None) -> Checkpoint:
    """Rebuild the model a weights file describes, checking every tensor's name and shape. `max_bytes`:
    a file larger than this is refused before anything in it is read (files people upload)."""
    path = Path(path)
    if max_bytes is not None and path.is_file() and path.stat().st_size > max_bytes:
        raise CheckpointError(f"{path.name} is {path.stat().st_size / 1e6:.1f} MB; a weights file may be at most "
                              f"{max_bytes / 1e6:.0f} MB")
    meta = read_meta(path)
    _expect(meta, str(path), expect_dataset)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: tensors unreadable ({e})") from e
    return _build(tensors, meta, path, device)


def from_bytes(raw: bytes, source: str = "weights", device: str | torch.device = "cpu",
               expect_dataset: str | None = None) -> Checkpoint:
    """`load` for a weights file's bytes (`Checkpoint.to_bytes`); `source` names it in errors."""
    try:
        (size,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + size])
        said = header.get("__metadata__", {}).get(META_KEY)
        tensors = load_bytes(raw)
    except (struct.error, json.JSONDecodeError, UnicodeDecodeError, AttributeError, SafetensorError, ValueError,
            RuntimeError) as e:
        raise CheckpointError(f"{source}: not a readable safetensors file ({e})") from None
    return _build(tensors, _parse_meta(said, source, expect_dataset), source, device)


def _build(tensors: dict[str, torch.Tensor], meta: dict[str, Any], path: Any,
           device: str | torch.device) -> Checkpoint:
    """The model `meta` describes, with `tensors` as its weights, every name and shape checked."""
    try:
        model = MLP(MLPConfig.from_dict(meta["model"]))
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: metadata describes an invalid model ({e})") from e
    ood = _detector(path, tensors, meta, model)
    tensors = {k: v for k, v in tensors.items() if not k.startswith("ood.")}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{path}: tensors do not match the described model "
                              f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
    for name, t in tensors.items():
        if t.shape != expected[name].shape or t.dtype != expected[name].dtype:
            raise CheckpointError(f"{path}: tensor {name!r} is {tuple(t.shape)} {t.dtype}, the model needs "
                                  f"{tuple(expected[name].shape)} {expected[name].dtype}")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{path}: tensor {name!r} holds NaN or infinite values")
    model.load_state_dict(tensors, strict=True)
    model.eval()
    return Checkpoint(model.to(device), meta, ood)


def _detector(path: Any, tensors: dict[str, torch.Tensor], meta: dict[str, Any], model: MLP) -> Detector | None:
    """The file's out-of-distribution detector, checked against the model it belongs to."""
    if "ood" not in meta:
        return None
    width = model.config.hidden[-1] if model.config.hidden else model.config.in_features
    pixels = model.config.in_features
    # The quantiles' rows must match the scores the metadata names: `Detector.from_file` checks that.
    shapes = {"ood.means": (model.config.n_classes, width), "ood.precision": (width, width),
              "ood.pca_mean": (pixels,), "ood.components": (None, pixels), "ood.quantiles": (None, None)}
    used = ood_module.tensors_read(tuple(meta["ood"].get("scores", ood_module.DEFAULT_SCORES))
                                   if isinstance(meta["ood"], dict) else ())
    for name, shape in shapes.items():
        t = tensors.get(name)
        if name.removeprefix("ood.") not in used and t is not None and t.numel() == 0:
            continue   # a tensor its scores do not read, stored empty
        if name == "ood.precision" and t is not None and t.ndim == 1:
            shape = (width * (width + 1) // 2,)   # stored as its upper triangle
        fits = t is not None and t.ndim == len(shape) and all(want in (None, got) for want, got in zip(
            shape, t.shape, strict=True))
        if not fits or not torch.isfinite(t).all():
            need = tuple("any" if d is None else d for d in shape)
            raise CheckpointError(f"{path}: metadata names an out-of-distribution detector, but {name!r} is "
                                  f"{'missing' if t is None else tuple(t.shape)}; the model needs {need}, finite")
    try:
        return Detector.from_file(tensors, meta["ood"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: out-of-distribution metadata is invalid ({e})") from None
