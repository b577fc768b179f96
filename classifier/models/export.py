"""Export a weights file to ONNX: one file any ONNX runtime can run with no code of this project.

The graph takes what a user has and gives class probabilities:

- image models: `image`, float32 (batch, 28, 28), pixel values 0-255 in the data set's own look
  (MNIST: a white digit on black, centred by its mass in a 20x20 box); the graph divides by 255,
  applies the model's normalization (`classifier.preprocess.normalize`, the same code training
  uses), runs the MLP and a softmax;
- hand-shape models: `landmarks`, float32 (batch, 63): MediaPipe's 21 hand landmarks normalized as
  `classifier.inputs.landmarks.hand_row` does (wrist at the origin, the wrist-to-middle-knuckle distance
  as the unit, left hands mirrored), x, y, z for each point in turn (the graph weighs z by the
  normalization's `depth`, as training did).

Output `probabilities`, float32 (batch, classes). The file's `metadata_props` hold the class names,
the input's description and preprocessing, and where the model came from, as JSON text.
Exported with `torch.onnx` (its dynamo exporter), checked with `onnx.checker`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from . import checkpoint
from .preprocess import normalize

OPSET = 18
IMAGE_INPUT = ("A batch of 28x28 greyscale images, float32 pixel values 0-255, in the data set's own look "
               "(for digits: a white digit on black, centred by its mass in a 20x20 box, as MNIST's are).")
LANDMARK_INPUT = ("A batch of 21 hand landmarks from MediaPipe's hand landmarker (x, y in pixels, z depth), "
                  "each hand normalized: the wrist subtracted, divided by the 2D distance from the wrist to the "
                  "middle finger's knuckle (point 9), x negated for a hand MediaPipe calls Left; then flattened "
                  "to 63 numbers (x0, y0, z0, x1, ...).")


class ExportError(ValueError):
    """A file that cannot be exported, with a message saying why."""


class _Probabilities(torch.nn.Module):
    """A model of this project as the exported graph runs it: its input as a user has it, out come
    class probabilities."""

    def __init__(self, model: torch.nn.Module, normalization: dict[str, Any] | None) -> None:
        super().__init__()
        self.model = model.eval()
        self.normalization = normalization

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalization is not None and self.normalization.get("kind") == "landmarks":
            x = normalize(x, self.normalization)   # the row as `landmarks.hand_row` makes it
        elif self.normalization is not None:   # images: 0-255 -> the model's normalized inputs
            x = normalize(x / 255.0, self.normalization)
        return torch.softmax(self.model(x), dim=1)


def _metadata(ckpt: checkpoint.Checkpoint, source: str, landmarks: bool) -> dict[str, str]:
    meta = ckpt.meta
    out = {
        "classes": json.dumps(ckpt.classes),
        "input_name": "landmarks" if landmarks else "image",
        "input": LANDMARK_INPUT if landmarks else IMAGE_INPUT,
        "preprocessing": json.dumps(meta.get("preprocessing", {})),
        "output": "probabilities: float32 (batch, classes), softmax over the classes, in the order of 'classes'",
        "dataset": str(meta.get("dataset", "")),
        "model": json.dumps(meta.get("model", {})),
        "source": source,
        "format": f"{checkpoint.FORMAT} {checkpoint.FORMAT_VERSION}, exported to ONNX",
    }
    for key in ("test_accuracy", "name", "command", "created"):
        if meta.get(key) is not None:
            out[key] = str(meta[key])
    return out


def to_onnx(weights: str | os.PathLike[str], output: str | os.PathLike[str]) -> Path:
    """Write the model in `weights` (this project's safetensors file) as an ONNX file at `output`."""
    weights = Path(weights)
    try:
        ckpt = checkpoint.load(weights)
    except (checkpoint.CheckpointError, OSError) as e:
        raise ExportError(f"{weights.name} is not a weights file this project can read: {e}") from None
    return checkpoint_to_onnx(ckpt, output, weights.name)


def checkpoint_to_onnx(ckpt: checkpoint.Checkpoint, output: str | os.PathLike[str], source: str) -> Path:
    """Write a loaded model (`source`: what to call where it came from) as an ONNX file at `output`."""
    import onnx

    output = Path(output)
    landmarks = ckpt.normalization.get("kind") == "landmarks"
    config = ckpt.model.config
    # A copy on the CPU: a model being served stays as it is.
    model_copy = type(ckpt.model)(ckpt.model.config)
    model_copy.load_state_dict({k: v.detach().cpu() for k, v in ckpt.model.state_dict().items()})
    wrapper = _Probabilities(model_copy, ckpt.normalization).eval()
    example = (torch.zeros(2, config.in_features) if landmarks else torch.zeros(2, 28, 28))
    name = "landmarks" if landmarks else "image"
    batch = torch.export.Dim("batch", min=1)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "model.onnx"
        torch.onnx.export(wrapper, (example,), str(raw), input_names=[name], output_names=["probabilities"],
                          dynamic_shapes=({0: batch},), opset_version=OPSET, dynamo=True, external_data=False,
                          verbose=False)
        model = onnx.load(str(raw))
    for key, value in _metadata(ckpt, source, landmarks).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "classifier-studio"
    onnx.checker.check_model(model, full_check=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    try:
        onnx.save(model, tmp_path)
        os.replace(tmp_path, output)
    finally:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
    return output


def metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """An exported file's metadata_props, as a dict."""
    import onnx

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
