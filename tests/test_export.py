"""ONNX export: onnxruntime gives the PyTorch model's probabilities, and the file describes itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from classifier import data, paths
from classifier.data import handgen
from classifier.models import checkpoint, export
from classifier.models.preprocess import normalize
from classifier.training import presets
from classifier.training.trainer import Trainer

ort = pytest.importorskip("onnxruntime")


def _torch_probabilities(ckpt: checkpoint.Checkpoint, x: np.ndarray) -> np.ndarray:
    inputs = normalize(torch.as_tensor(x), ckpt.normalization)
    with torch.inference_mode():
        return torch.softmax(ckpt.model.eval()(inputs), dim=1).numpy()


def _onnx_probabilities(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(["probabilities"], {name: x.astype(np.float32)})[0]


def _test_images(name: str, folder: Path, n: int = 100) -> np.ndarray:
    x, _ = data.load(name, "test", folder)
    return x[:n].numpy()   # uint8 0-255, as the exported graph takes them (as float)


@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_a_shipped_model_gives_the_same_probabilities_in_onnxruntime(name: str, real_data_dir: Path,
                                                                     tmp_path: Path) -> None:
    ckpt = checkpoint.load(paths.weights_path(name))
    path = export.to_onnx(paths.weights_path(name), tmp_path / f"{name}.onnx")
    x = _test_images(name, real_data_dir)
    assert np.abs(_onnx_probabilities(path, x.astype(np.float32)) - _torch_probabilities(ckpt, x)).max() < 1e-5


def test_the_shipped_hand_shape_model_gives_the_same_probabilities(tmp_path: Path) -> None:
    path = export.to_onnx(paths.weights_path("handshape"), tmp_path / "handshape.onnx")
    x, _ = handgen.generate(5, seed=11)   # 120 generated hands
    ckpt = checkpoint.load(paths.weights_path("handshape"))
    assert np.abs(_onnx_probabilities(path, x) - _torch_probabilities(ckpt, x)).max() < 1e-5


def _fresh_run(preset: str, folder: Path, path: Path) -> Path:
    config = presets.get(preset).config("digits", epochs=1)
    config.max_batches = 40
    run = Trainer(config, data_dir=folder)
    list(run.fit())
    run.checkpoint(0.0, preset=preset).save(path)
    return path


@pytest.mark.parametrize("preset", ["quick", "linear"])
def test_a_freshly_trained_run_exports(preset: str, real_data_dir: Path, tmp_path: Path) -> None:
    weights = _fresh_run(preset, real_data_dir, tmp_path / f"{preset}.safetensors")
    path = export.to_onnx(weights, tmp_path / f"{preset}.onnx")
    x = _test_images("digits", real_data_dir)
    expected = _torch_probabilities(checkpoint.load(weights), x)
    assert np.abs(_onnx_probabilities(path, x.astype(np.float32)) - expected).max() < 1e-5


def test_the_metadata_holds_the_class_names(tmp_path: Path) -> None:
    path = export.to_onnx(paths.weights_path("signs"), tmp_path / "signs.onnx")
    assert json.loads(export.metadata(path)["classes"]) == list(data.SIGN_LETTERS)


def test_the_metadata_holds_the_preprocessing(tmp_path: Path) -> None:
    path = export.to_onnx(paths.weights_path("digits"), tmp_path / "digits.onnx")
    meta = checkpoint.read_meta(paths.weights_path("digits"))
    assert json.loads(export.metadata(path)["preprocessing"]) == meta["preprocessing"]


def test_the_input_is_named_and_shaped_for_a_batch_of_images(tmp_path: Path) -> None:
    path = export.to_onnx(paths.weights_path("digits"), tmp_path / "digits.onnx")
    (given,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()
    assert (given.name, given.shape[1:]) == ("image", [28, 28])


def test_a_hand_shape_model_takes_landmarks(tmp_path: Path) -> None:
    path = export.to_onnx(paths.weights_path("handshape"), tmp_path / "handshape.onnx")
    (given,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()
    assert (given.name, given.shape[1:]) == ("landmarks", [63])


def test_a_corrupt_file_gets_a_clear_message(tmp_path: Path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(export.ExportError, match="not a weights file this project can read"):
        export.to_onnx(junk, tmp_path / "junk.onnx")


def test_a_foreign_safetensors_file_gets_a_clear_message(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign))
    with pytest.raises(export.ExportError, match="not a weights file this project can read"):
        export.to_onnx(foreign, tmp_path / "foreign.onnx")
