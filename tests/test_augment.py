"""classifier.augment: batched on-device augmentation."""

from __future__ import annotations

import torch

from classifier import data
from classifier.augment import AugmentConfig, augment


def _batch() -> torch.Tensor:
    x = torch.zeros(16, 28, 28)
    x[:, 8:20, 12:16] = 1.0
    return x


def test_identity_when_all_strengths_zero() -> None:
    x = _batch()
    cfg = AugmentConfig(degrees=0, scale=0, shift=0, shear=0)
    assert torch.equal(augment(x, cfg, torch.Generator().manual_seed(0)), x)


def test_shapes_range_and_determinism() -> None:
    x = _batch()
    for cfg in [spec.augment for spec in data.DATASETS.values() if spec.augment]:
        a = augment(x, cfg, torch.Generator().manual_seed(1))
        b = augment(x, cfg, torch.Generator().manual_seed(1))
        assert a.shape == x.shape
        assert torch.equal(a, b)
        assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
        assert not torch.equal(a, x)


def test_each_image_gets_its_own_transform() -> None:
    out = augment(_batch(), data.DATASETS["digits"].augment, torch.Generator().manual_seed(2))
    assert len({round(float(img.sum()), 3) for img in out}) > 8


def test_shift_moves_ink_by_at_most_the_limit() -> None:
    x = torch.zeros(64, 28, 28)
    x[:, 14, 14] = 1.0
    out = augment(x, AugmentConfig(degrees=0, scale=0, shift=2.0), torch.Generator().manual_seed(3))
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = out.sum((1, 2))
    cy = (out * ys).sum((1, 2)) / mass
    cx = (out * xs).sum((1, 2)) / mass
    assert float((cy - 14).abs().max()) <= 2.01 and float((cx - 14).abs().max()) <= 2.01
    assert float((cx - 14).abs().max()) > 1.0
