"""Hand-shape models: an MLP over a hand's 21 normalized landmarks (`landmarks.normalize`), the same
MLP family as the pixel models with a better input. Trained in seconds on a few examples a class,
so a person can teach it their own hand.

Augmentation is what makes a few examples enough: each step sees every example turned in the
picture's plane (a hand is never held at quite the same angle), scaled a little, and with a little
noise on every point (the landmarker's own jitter).
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import checkpoint
from .landmarks import N_POINTS
from .model import MLP, MLPConfig

N_FEATURES = N_POINTS * 3
HIDDEN = [128, 128]
ROTATION = math.radians(15)   # in-plane turn, either way
SCALE = 0.08                  # +- share of the hand's size
NOISE = 0.02                  # per coordinate, in wrist-to-knuckle units


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(N, 63) normalized hands, each turned about the wrist in the picture's plane, scaled and jittered."""
    n = len(x)
    p = x.reshape(n, N_POINTS, 3)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * ROTATION
    c, s = torch.cos(angle)[:, None], torch.sin(angle)[:, None]
    px, py = p[..., 0], p[..., 1]
    turned = torch.stack([c * px - s * py, s * px + c * py, p[..., 2]], dim=-1)
    scale = 1 + (torch.rand(n, 1, 1, generator=generator) * 2 - 1) * SCALE
    noise = torch.randn(turned.shape, generator=generator) * NOISE
    return (turned * scale + noise).reshape(n, -1)


def fit(features: np.ndarray, labels: np.ndarray, n_classes: int, steps: int = 600, lr: float = 3e-3,
        seed: int = 0, start: MLP | None = None) -> MLP:
    """An MLP trained on (N, 63) normalized hands with labels 0..n_classes-1 (full batches, AdamW,
    augmented every step). `start`: a model to start from (its weights are copied, not changed)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = MLP(MLPConfig(hidden=list(HIDDEN), dropout=0.1, batchnorm=False, in_features=N_FEATURES,
                          n_classes=n_classes))
    if start is not None:
        model.load_state_dict(start.state_dict())
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    model.train()
    for _ in range(steps):
        loss = F.cross_entropy(model(augment(x, generator)), y, label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@torch.inference_mode()
def probabilities(model: MLP, features: np.ndarray) -> np.ndarray:
    """(N, n_classes) class probabilities of (N, 63) normalized hands."""
    x = torch.as_tensor(np.asarray(features, dtype=np.float32)).reshape(-1, N_FEATURES)
    return torch.softmax(model.eval()(x).float(), dim=1).numpy()


# How a hand-shape model's input is made, as its weights file records it (`landmarks.normalize`).
NORMALIZATION = {"kind": "landmarks", "points": N_POINTS, "origin": "wrist", "unit": "wrist to middle knuckle",
                 "mirror": "left hands into right ones", "source": "MediaPipe hand landmarker (x, y pixels, z depth)"}


class HandShape:
    """A trained hand-shape model and its class names: immutable, so one object can serve any number
    of requests at once. Saved as this project's self-describing weights files (input: landmarks)."""

    def __init__(self, model: MLP, classes: list[str], name: str = "hand shape") -> None:
        self.model = model.eval()
        self.classes = list(classes)
        self.name = name

    def save(self, path: str | os.PathLike[str], **extra: Any) -> Path:
        meta = {"format": checkpoint.FORMAT, "format_version": checkpoint.FORMAT_VERSION, "dataset": "handshape",
                "classes": self.classes, "model": self.model.config.to_dict(),
                "preprocessing": {"input": "hand_landmarks", "normalization": dict(NORMALIZATION)},
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "versions": checkpoint.library_versions(), "name": self.name, **extra}
        return checkpoint.save(path, self.model, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> HandShape:
        """A hand-shape model from its weights file (CheckpointError for anything else)."""
        ckpt = checkpoint.load(path, expect_dataset="handshape")
        if ckpt.model.config.in_features != N_FEATURES:
            raise checkpoint.CheckpointError(f"{path}: a hand-shape model reads {N_FEATURES} numbers, not "
                                             f"{ckpt.model.config.in_features}")
        return cls(ckpt.model, ckpt.classes, str(ckpt.meta.get("name") or Path(path).stem))

    def answer(self, features: np.ndarray) -> dict[str, float]:
        """{class: probability} for one normalized hand (63,)."""
        probs = probabilities(self.model, features)[0]
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}
