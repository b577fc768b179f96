"""Batched data augmentation that runs on the training device.

One call transforms a whole batch (for images a single `affine_grid` + `grid_sample`), so
augmentation costs a small fraction of the matmuls instead of dominating the epoch as
per-sample PIL transforms do. Each data set's settings are part of its spec (`data.DATASETS`):
`AugmentConfig` for 28x28 images, `HandAugmentConfig` for hands as normalized landmarks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    degrees: float = 10.0      # rotation, uniform in +-degrees
    scale: float = 0.1         # zoom, uniform in 1 +- scale
    shift: float = 2.0         # translation in pixels, uniform in +-shift
    shear: float = 0.0         # shear angle in degrees, uniform in +-shear
    hflip: bool = False        # left-right mirror with probability 1/2
    brightness: float = 0.0    # added to [0, 1] pixels, uniform in +-brightness
    contrast: float = 0.0      # factor around 0.5, uniform in 1 +- contrast
    gamma: float = 0.0         # exponent exp(uniform(+-gamma))
    # What shows where the transformed image left its frame. "zeros" suits ink on an empty
    # background; "border" repeats the edge pixels; "photo" shows, per image, the edge pixels, a
    # flat grey or a blurry texture: what a tilted or loosely cropped photo shows in the corners of
    # its square (a wall, or clutter behind the hand).
    padding: str = "zeros"

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return augment(x, self, g)


@dataclass
class HandAugmentConfig:
    """For hands as (N, 63) normalized landmarks: each hand turned about the wrist in the picture's
    plane (a hand is never held at quite the same angle), scaled a little, and a little noise on
    every point (the landmarker's own jitter)."""

    degrees: float = 15.0      # in-plane turn, uniform in +-degrees
    scale: float = 0.08        # uniform in 1 +- scale
    noise: float = 0.02        # Gaussian, per coordinate, in wrist-to-knuckle units

    def to_dict(self) -> dict:
        return {"kind": "hand_landmarks", **asdict(self)}

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return augment_hands(x, self, g)


def _uniform(n: int, half_width: float, g: torch.Generator, device: torch.device) -> torch.Tensor:
    return (torch.rand(n, device=device, generator=g) * 2 - 1) * half_width


def _photo_padding(x: torch.Tensor, grid: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """grid_sample whose outside is, a third of the images each: the border, a flat grey, a texture."""
    n, _, h, w = x.shape
    dev = x.device
    inside = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    frame = F.grid_sample(torch.ones_like(x[:1]).expand(n, -1, -1, -1), grid, mode="bilinear",
                          padding_mode="zeros", align_corners=False)
    border = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    flat = torch.rand(n, 1, 1, 1, device=dev, generator=g).expand(-1, 1, h, w)
    coarse = torch.rand(n, 1, 5, 5, device=dev, generator=g)
    texture = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    kind = torch.randint(0, 3, (n, 1, 1, 1), device=dev, generator=g)
    outside = torch.where(kind == 0, border, torch.where(kind == 1, flat, texture))
    # `inside` is the image times `frame` (zeros outside), so the blend keeps edges anti-aliased.
    return torch.where(kind == 0, border, inside + (1 - frame) * outside)


def augment(images: torch.Tensor, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    """Randomly transform float images (N, 28, 28) in [0, 1]; returns the same shape."""
    n, h, w = images.shape
    dev = images.device
    x = images.unsqueeze(1)
    if cfg.degrees or cfg.scale or cfg.shift or cfg.shear or cfg.hflip:
        angle = _uniform(n, math.radians(cfg.degrees), g, dev)
        shear = _uniform(n, math.radians(cfg.shear), g, dev)
        inv_scale = 1.0 / (1.0 + _uniform(n, cfg.scale, g, dev))
        flip = torch.ones(n, device=dev)
        if cfg.hflip:
            flip = torch.where(torch.rand(n, device=dev, generator=g) < 0.5, -1.0, 1.0)
        cos, sin = torch.cos(angle), torch.sin(angle)
        # affine_grid maps output coordinates to input ones: rotation, shear, then zoom and mirror.
        theta = torch.zeros(n, 2, 3, device=dev)
        theta[:, 0, 0] = cos * inv_scale * flip
        theta[:, 0, 1] = (-sin + cos * torch.tan(shear)) * inv_scale
        theta[:, 1, 0] = sin * inv_scale * flip
        theta[:, 1, 1] = (cos + sin * torch.tan(shear)) * inv_scale
        theta[:, 0, 2] = _uniform(n, 2 * cfg.shift / w, g, dev)
        theta[:, 1, 2] = _uniform(n, 2 * cfg.shift / h, g, dev)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        if cfg.padding == "photo":
            x = _photo_padding(x, grid, g)
        else:
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode=cfg.padding, align_corners=False)
    if cfg.gamma or cfg.contrast or cfg.brightness:
        shape = (n, 1, 1, 1)
        if cfg.gamma:
            x = x.clamp(min=0).pow(torch.exp(_uniform(n, cfg.gamma, g, dev)).view(shape))
        if cfg.contrast:
            x = (x - 0.5) * (1 + _uniform(n, cfg.contrast, g, dev)).view(shape) + 0.5
        if cfg.brightness:
            x = x + _uniform(n, cfg.brightness, g, dev).view(shape)
        x = x.clamp(0.0, 1.0)
    return x.squeeze(1)


def augment_hands(x: torch.Tensor, cfg: HandAugmentConfig, g: torch.Generator) -> torch.Tensor:
    """Randomly turn, scale and jitter float (N, 63) normalized hands (21 points of x, y, z)."""
    n, dev = len(x), x.device
    p = x.reshape(n, -1, 3)
    angle = _uniform(n, math.radians(cfg.degrees), g, dev)
    c, s = torch.cos(angle)[:, None], torch.sin(angle)[:, None]
    px, py = p[..., 0], p[..., 1]
    turned = torch.stack([c * px - s * py, s * px + c * py, p[..., 2]], dim=-1)
    scale = 1 + _uniform(n, cfg.scale, g, dev).view(n, 1, 1)
    noise = torch.randn(turned.shape, device=dev, generator=g) * cfg.noise
    return (turned * scale + noise).reshape(n, -1)
