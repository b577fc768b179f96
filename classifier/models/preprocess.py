"""The single source of truth for how a row (a 28x28 uint8 image, or a hand's normalized
landmarks) becomes model input.

Training (on whole batches, on the device) and the app (one input at a time) both call
`normalize`, and the constants travel inside every weights file, so a model is always fed
exactly what it was trained on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

IMAGE_SIZE = 28
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE

# Mean and standard deviation of the training pixels scaled to [0, 1] (the usual published
# figures; `tests/test_data.py` recomputes them from the real files).
MNIST_STATS = {"kind": "standardize", "mean": 0.1307, "std": 0.3081}
FASHION_STATS = {"kind": "standardize", "mean": 0.2860, "std": 0.3530}
# Hand-sign photos vary in lighting far more than scanned digits, so each image is scaled to
# zero mean and unit variance on its own: the model then never sees absolute brightness.
PER_IMAGE = {"kind": "per_image"}
# What a Sign Language MNIST image looks like on average: per-image pixel mean and standard
# deviation (0..255), averaged over the training set. Photos are brought to these so that the
# 28x28 image the app shows looks like the data set (`tests/test_data.py` checks the figures).
SIGNS_IMAGE_MEAN = 159.3
SIGNS_IMAGE_STD = 40.2

# Hands: `landmarks.hand_row` makes the 63 numbers from MediaPipe's 21 points (wrist at the origin,
# the wrist-to-middle-knuckle length as the unit, left hands mirrored); the model reads them as made.
N_LANDMARK_FEATURES = 63
# MediaPipe's z is its own estimate of each point's depth, which generated hands can only guess at:
# a model weighs it by `depth` (0: it reads x and y only). A file without the key reads z as made.
LANDMARKS = {"kind": "landmarks", "points": 21, "origin": "wrist", "unit": "wrist to middle knuckle",
             "mirror": "left hands into right ones", "source": "MediaPipe hand landmarker (x, y pixels, z depth)",
             "depth": 0.0}

_EPS = 1e-3


@dataclass(frozen=True)
class Rows:
    """What a data set's rows are, and so what its models read: one row's shape and type."""

    name: str                  # in words: "images", "hands"
    shape: tuple[int, ...]
    dtype: torch.dtype
    described: tuple[str, Any]  # what weights files say of a row: one key of their preprocessing, and its value

    @property
    def in_features(self) -> int:
        """The numbers a model reads per row."""
        return math.prod(self.shape)

    def random(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """`n` random rows of this shape and type (for measuring a training step)."""
        if self.dtype == torch.uint8:
            return torch.randint(0, 256, (n, *self.shape), dtype=torch.uint8, generator=generator)
        return torch.randn(n, *self.shape, generator=generator).to(self.dtype)


IMAGES = Rows("images", (IMAGE_SIZE, IMAGE_SIZE), torch.uint8, ("image_size", IMAGE_SIZE))   # 0-255 pixels
HANDS = Rows("hands", (N_LANDMARK_FEATURES,), torch.float32, ("input", "hand_landmarks"))   # landmarks, as made


def match_sign_brightness(squares: torch.Tensor) -> torch.Tensor:
    """Bring each of (N, 28, 28) grey squares (0..255 float) to a Sign Language MNIST image's typical
    brightness and contrast (SIGNS_IMAGE_MEAN, SIGNS_IMAGE_STD): a phone photo's are anything. The
    photo pipeline's square and every window the hand locator weighs go through this one function."""
    flat = squares.reshape(len(squares), -1).float()
    z = (flat - flat.mean(1, keepdim=True)) / flat.std(1, correction=0, keepdim=True).clamp(min=_EPS)
    return (SIGNS_IMAGE_MEAN + SIGNS_IMAGE_STD * z).clamp(0, 255).reshape(squares.shape)


def normalize(images: torch.Tensor, spec: dict[str, Any]) -> torch.Tensor:
    """Turn images (N, 28, 28) as uint8 in 0..255 or float in [0, 1] into float (N, 784); hands'
    landmarks (N, 63), already normalized by `landmarks.hand_row`, pass with their z weighed by the
    normalization's `depth`."""
    x = images.reshape(images.shape[0], -1)
    if x.dtype == torch.uint8:
        x = x.float().div_(255.0)
    else:
        x = x.float()
    kind = spec.get("kind")
    if kind == "landmarks":
        depth = float(spec.get("depth", 1.0))
        if depth != 1.0:
            x = (x.unflatten(1, (-1, 3)) * x.new_tensor([1.0, 1.0, depth])).flatten(1)
        return x
    if kind == "standardize":
        return (x - float(spec["mean"])) / float(spec["std"])
    if kind == "per_image":
        mean = x.mean(dim=1, keepdim=True)
        std = x.std(dim=1, keepdim=True)
        return (x - mean) / (std + _EPS)
    raise ValueError(f"unknown normalization kind {kind!r} (expected 'standardize', 'per_image' or 'landmarks')")
