"""Batched data augmentation that runs on the training device.

One call transforms a whole batch (a single `affine_grid` + `grid_sample`), so augmentation
costs a small fraction of the matmuls instead of dominating the epoch as per-sample PIL
transforms do. Each data set's settings are part of its spec (`data.DATASETS`).
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
