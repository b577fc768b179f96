"""classifier.data.augment: batched on-device augmentation."""

from __future__ import annotations

import torch

from classifier import data
from classifier.data.augment import AugmentConfig, HandAugmentConfig, augment, augment_hands


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
    for cfg in [spec.augment for spec in data.DATASETS.values() if isinstance(spec.augment, AugmentConfig)]:
        a = augment(x, cfg, torch.Generator().manual_seed(1))
        b = augment(x, cfg, torch.Generator().manual_seed(1))
        assert a.shape == x.shape
        assert torch.equal(a, b)
        assert float(a.min()) >= 0.0
        assert float(a.max()) <= 1.0
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
    assert float((cy - 14).abs().max()) <= 2.01
    assert float((cx - 14).abs().max()) <= 2.01
    assert float((cx - 14).abs().max()) > 1.0


def test_photo_padding_fills_the_corners_three_ways() -> None:
    """A mid-grey image turned 45 degrees: its corners leave the frame. With "photo" padding each
    image's corners show its own edge (mid-grey still), one flat grey, or a varying texture, about a
    third each, while the middle stays the image."""
    x = torch.full((300, 28, 28), 0.5)
    out = augment(x, AugmentConfig(degrees=0, scale=0, shift=0, shear=0, padding="photo"),
                  torch.Generator().manual_seed(4))
    assert torch.allclose(out, x)  # nothing leaves the frame: nothing changes
    cfg = AugmentConfig(degrees=45, scale=0, shift=0, shear=0, padding="photo")
    out = augment(x, cfg, torch.Generator().manual_seed(4))
    # Turns of up to 45 degrees either way: the corner pixels leave the frame, the centre stays.
    turned = out[:, 0, 0] != 0.5
    assert torch.allclose(out[:, 14, 14], x[:, 14, 14], atol=1e-5)
    corners = out[:, :3, :3].reshape(len(out), -1)
    flat = turned & (corners.std(1) < 1e-4)
    textured = corners.std(1) > 1e-3
    edge = ~turned
    for share in (flat, textured, edge):
        assert 0.15 < float(share.float().mean()) < 0.55


def _hands(n: int) -> torch.Tensor:
    return torch.randn(n, 63, generator=torch.Generator().manual_seed(5))


def test_hands_turn_about_the_wrist_and_keep_their_size() -> None:
    x = _hands(64)
    out = augment_hands(x, HandAugmentConfig(noise=0.0), torch.Generator().manual_seed(0))
    size = out.reshape(-1, 21, 3)[..., :2].norm(dim=-1).mean() / x.reshape(-1, 21, 3)[..., :2].norm(dim=-1).mean()
    assert abs(float(size) - 1) < 0.1


def test_hands_keep_their_depth_without_scale_or_noise() -> None:
    x = _hands(8)
    out = augment_hands(x, HandAugmentConfig(scale=0.0, noise=0.0), torch.Generator().manual_seed(0))
    assert torch.allclose(out.reshape(-1, 21, 3)[..., 2], x.reshape(-1, 21, 3)[..., 2])


def test_hands_are_augmented_alike_from_alike_generators() -> None:
    x = _hands(8)
    a, b = (augment_hands(x, HandAugmentConfig(), torch.Generator().manual_seed(2)) for _ in range(2))
    assert torch.equal(a, b)


def test_a_config_augments_its_own_kind_of_row() -> None:
    g = torch.Generator().manual_seed(0)
    assert HandAugmentConfig()(_hands(4), g).shape == (4, 63)
