"""A look inside an MLP for one input: what each hidden layer does, and what first-layer units look for.

"Why did it say 7?" has no answer in a bar chart. Here: the activations of every hidden layer for
the input (and which units are most active), and the incoming weights of those first-layer units
drawn as 28x28 images (red where a pixel's ink raises the unit's input, blue where it lowers it).
A model with no hidden layer (the linear model, the nearest-class-mean baseline) gets each class's
weights instead: its template of that class. Everything is read from the model itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .mlp import ACTIVATIONS, MLP
from .preprocess import IMAGE_SIZE


@dataclass(frozen=True)
class Layer:
    """One hidden layer's response to one input."""

    index: int                 # 1 for the first hidden layer
    activation: str            # its nonlinearity, e.g. "relu"
    values: np.ndarray         # (units,) its output for the input
    top: list[int]             # its most active units, highest first

    @property
    def active_share(self) -> float:
        """Share of units above zero (for ReLU: those that let anything through)."""
        return float((self.values > 0).mean()) if len(self.values) else 0.0


_ACTIVATION_NAMES = {cls: name for name, cls in ACTIVATIONS.items()}


@torch.inference_mode()
def hidden_layers(model: MLP, x: torch.Tensor, top: int = 8) -> list[Layer]:
    """Every hidden layer's output (after its nonlinearity) for one normalized input `x` (1, 784), in
    eval mode. Dropout does nothing in eval mode, so the values are what the answer was made from."""
    was_training = model.training
    model.eval()
    layers: list[Layer] = []
    h = x.reshape(1, -1).to(next(model.parameters()).device)
    try:
        for module in model.net:
            h = module(h)
            if type(module) in _ACTIVATION_NAMES:
                values = h[0].float().cpu().numpy()
                order = np.argsort(-values, kind="stable")[:top]
                layers.append(Layer(len(layers) + 1, _ACTIVATION_NAMES[type(module)], values, order.tolist()))
    finally:
        model.train(was_training)
    return layers


def first_layer_weights(model: MLP, units: list[int] | None = None) -> np.ndarray:
    """Incoming weights of first-layer units as (len(units), 28, 28); all rows if `units` is None.
    For a model with no hidden layer these are the classes' weights."""
    first = next(m for m in model.net if isinstance(m, nn.Linear))
    w = first.weight.detach().float().cpu()
    if units is not None:
        w = w[units]
    return w.reshape(len(w), IMAGE_SIZE, IMAGE_SIZE).numpy()


def diverging(weights: np.ndarray) -> np.ndarray:
    """(..., 28, 28) weights -> uint8 RGB images: white at 0, red positive, blue negative, each image
    scaled to its own largest magnitude (what matters is the pattern, not the scale)."""
    w = np.asarray(weights, dtype=np.float32)
    scale = np.abs(w).reshape(*w.shape[:-2], -1).max(-1)[..., None, None]
    t = np.clip(w / np.where(scale > 0, scale, 1), -1, 1)
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    # Towards red (220, 38, 38) for positive, blue (37, 99, 235) for negative.
    r = 255 - neg * (255 - 37) - pos * (255 - 220)
    g = 255 - neg * (255 - 99) - pos * (255 - 38)
    b = 255 - neg * (255 - 235) - pos * (255 - 38)
    return np.stack([r, g, b], -1).round().astype(np.uint8)


def activation_grid(values: np.ndarray) -> np.ndarray:
    """A layer's activations as a near-square grayscale image, one pixel per unit (darker: more
    active; units past the last fill the corner white), scaled to the layer's own range."""
    n = len(values)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    lo, hi = float(min(values.min(), 0.0)), float(values.max())
    t = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    grid = np.zeros(rows * cols, dtype=np.float32)
    grid[:n] = t
    return (255 - 255 * grid.reshape(rows, cols)).round().astype(np.uint8)
