"""classifier.models.checkpoint: safetensors + metadata round trip, atomic writes, refusing bad files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from classifier import data, paths
from classifier.models import checkpoint, preprocess
from classifier.models.mlp import MLP, MLPConfig


def _model(hidden=(16, 8)) -> tuple[MLP, dict]:
    torch.manual_seed(0)
    cfg = MLPConfig(hidden=list(hidden), n_classes=10)
    model = MLP(cfg).eval()
    meta = data.DATASETS["digits"].weights_meta(cfg, test_accuracy=0.5)
    return model, meta


def test_roundtrip_rebuilds_identical_model(tmp_path: Path) -> None:
    model, meta = _model()
    path = checkpoint.save(tmp_path / "m.safetensors", model, meta)
    ckpt = checkpoint.load(path)
    x = torch.randn(4, 784)
    assert torch.equal(ckpt.model(x), model(x))
    assert ckpt.classes == meta["classes"]
    assert ckpt.normalization == preprocess.MNIST_STATS
    assert ckpt.meta["versions"]["torch"] == torch.__version__
    assert checkpoint.read_meta(path)["test_accuracy"] == 0.5
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary left behind
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # an ordinary file others may read


def test_bytes_are_the_weights_file_and_rebuild_the_same_model(tmp_path: Path) -> None:
    model, meta = _model()
    path = checkpoint.save(tmp_path / "m.safetensors", model, meta)
    raw = checkpoint.load(path).to_bytes()
    ckpt = checkpoint.from_bytes(raw, "stored")
    x = torch.randn(4, 784)
    assert torch.equal(ckpt.model(x), model(x))
    (tmp_path / "b.safetensors").write_bytes(raw)   # the same bytes, as a file: a weights file like any other
    assert checkpoint.read_meta(tmp_path / "b.safetensors") == checkpoint.read_meta(path)


@pytest.mark.parametrize("raw, message", [
    (b"", "not a readable safetensors file"),
    (b"\xff" * 64, "not a readable safetensors file"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b" " * 14, "without 'classifier' metadata"),
])
def test_bytes_that_are_not_weights_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(checkpoint.CheckpointError, match=message):
        checkpoint.from_bytes(raw, "stored")


def test_bytes_of_another_data_sets_model_are_refused() -> None:
    model, meta = _model()
    raw = checkpoint.Checkpoint(model, meta).to_bytes()
    with pytest.raises(checkpoint.CheckpointError, match="not 'signs'"):
        checkpoint.from_bytes(raw, "stored", expect_dataset="signs")


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, meta = _model()
    path = checkpoint.save(tmp_path / "m.safetensors", model, meta)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        Path(args[1]).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, _model(hidden=(4,))[0], meta)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_refuses_truncated_and_garbage(tmp_path: Path) -> None:
    model, meta = _model()
    path = checkpoint.save(tmp_path / "m.safetensors", model, meta)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(checkpoint.CheckpointError, match="m.safetensors"):
        checkpoint.load(path)
    path.write_bytes(b"\x80\x04garbage pickle-like bytes")
    with pytest.raises(checkpoint.CheckpointError, match="not a readable safetensors file"):
        checkpoint.load(path)


def test_refuses_pickle_file(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(_model()[0].state_dict(), path)
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.load(path)


def test_refuses_mismatched_shapes(tmp_path: Path) -> None:
    model, meta = _model(hidden=(16, 8))
    meta["model"]["hidden"] = [32, 8]
    path = tmp_path / "m.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path),
              metadata={checkpoint.META_KEY: json.dumps(meta)})
    with pytest.raises(checkpoint.CheckpointError, match="tensor 'net.0.weight' is \\(16, 784\\)"):
        checkpoint.load(path)


def test_refuses_missing_metadata_and_inconsistent_classes(tmp_path: Path) -> None:
    model, meta = _model()
    bare = tmp_path / "bare.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(bare))
    with pytest.raises(checkpoint.CheckpointError, match="without 'classifier' metadata"):
        checkpoint.load(bare)
    meta["classes"] = meta["classes"][:5]
    with pytest.raises(checkpoint.CheckpointError, match="10 outputs but 5 class names"):
        checkpoint.save(tmp_path / "x.safetensors", model, meta)


def test_refuses_nan_weights_and_wrong_dataset(tmp_path: Path) -> None:
    model, meta = _model()
    path = checkpoint.save(tmp_path / "m.safetensors", model, meta)
    with pytest.raises(checkpoint.CheckpointError, match="for 'digits', not 'signs'"):
        checkpoint.load(path, expect_dataset="signs")
    with torch.no_grad():
        model.net[0].weight[0, 0] = float("nan")
    checkpoint.save(path, model, meta)
    with pytest.raises(checkpoint.CheckpointError, match="NaN"):
        checkpoint.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(checkpoint.CheckpointError, match="no such weights file"):
        checkpoint.load(tmp_path / "nope.safetensors")


def test_a_detector_stores_only_the_tensors_its_scores_read(tmp_path) -> None:
    """The shipped digits detector scores max-probability alone: no 1024x1024 precision matrix in the file."""
    from safetensors import safe_open

    from classifier.models import checkpoint

    ckpt = checkpoint.load(paths.weights_path("digits"))
    assert ckpt.ood.scores == ("max-probability",)
    path = ckpt.save(tmp_path / "digits.safetensors")
    with safe_open(str(path), "pt") as f:
        assert f.get_slice("ood.precision").get_shape() == [0]


def test_a_detector_without_its_unread_tensors_loads_and_answers_the_same(tmp_path) -> None:
    import torch

    from classifier.models import checkpoint

    ckpt = checkpoint.load(paths.weights_path("digits"))
    back = checkpoint.load(ckpt.save(tmp_path / "digits.safetensors"))
    x = torch.rand(4, 784)
    feats, logits = torch.rand(4, 1024), torch.rand(4, 10)
    assert torch.equal(back.ood.score(x, feats, logits), ckpt.ood.score(x, feats, logits))


def _hands_model(depth) -> tuple[MLP, dict]:
    torch.manual_seed(0)
    cfg = MLPConfig(in_features=63, hidden=[8], n_classes=24)
    meta = data.DATASETS["handshape"].weights_meta(cfg, test_accuracy=0.5)
    if depth is None:
        del meta["preprocessing"]["normalization"]["depth"]
    else:
        meta["preprocessing"]["normalization"]["depth"] = depth
    return MLP(cfg).eval(), meta


@pytest.mark.parametrize("depth", [-0.5, 2, "none", [0]])
def test_a_hand_model_whose_depth_weight_is_not_0_to_1_is_refused(tmp_path: Path, depth) -> None:
    model, meta = _hands_model(depth)
    with pytest.raises(checkpoint.CheckpointError, match="depth weight"):
        checkpoint.load(checkpoint.save(tmp_path / "h.safetensors", model, meta))


def test_hand_models_read_z_by_their_depth_weight() -> None:
    rows = torch.randn(5, 63)
    flat = rows.clone().unflatten(1, (21, 3))
    flat[..., 2] = 0
    assert torch.equal(preprocess.normalize(rows, {"kind": "landmarks", "depth": 0.0}), flat.flatten(1))


def test_a_hand_model_without_a_depth_weight_reads_z_as_made() -> None:
    rows = torch.randn(5, 63)
    assert torch.equal(preprocess.normalize(rows, {"kind": "landmarks"}), rows)


def test_the_shipped_hand_shape_model_ignores_z() -> None:
    ckpt = checkpoint.load(paths.weights_path("handshape"))
    rows = torch.randn(5, 63)
    deeper = rows.clone().unflatten(1, (21, 3))
    deeper[..., 2] *= 3
    assert torch.equal(preprocess.normalize(deeper.flatten(1), ckpt.normalization),
                       preprocess.normalize(rows, ckpt.normalization))
