"""A model's batched forward pass over rows: what evaluation, test reports, the "not sure" detector
and serving all read (the detector with the last hidden layer beside the logits)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from .preprocess import normalize


@torch.inference_mode()
def forward_batches(model: torch.nn.Module, rows: torch.Tensor, normalization: dict[str, Any],
                    batch_size: int = 8192) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(normalized inputs, last hidden layer, logits) of uint8 images (or landmark rows), batch by
    batch on the model's device, in eval mode (restored afterwards). The model's `net` ends with its
    output Linear; everything before it makes the features."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        for i in range(0, len(rows), batch_size):
            x = normalize(rows[i:i + batch_size].to(device), normalization)
            f = model.net[:-1](x)
            yield x, f, model.net[-1](f)
    finally:
        model.train(was_training)


def forward(model: torch.nn.Module, rows: torch.Tensor, normalization: dict[str, Any],
            batch_size: int = 8192) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`forward_batches` gathered: (normalized inputs, last hidden layer, logits), float, on the CPU."""
    parts = [tuple(t.float().cpu() for t in batch) for batch in forward_batches(model, rows, normalization,
                                                                                 batch_size)]
    return tuple(torch.cat(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def logits(model: torch.nn.Module, rows: torch.Tensor, normalization: dict[str, Any],
           batch_size: int = 8192) -> torch.Tensor:
    """Float logits (N, n_classes) on the CPU of rows (uint8 images (N, 28, 28) or hands (N, 63)), in eval
    mode, batched."""
    out = [lg.float().cpu() for _, _, lg in forward_batches(model, rows, normalization, batch_size)]
    n_classes = model.config.n_classes if hasattr(model, "config") else 0
    return torch.cat(out) if out else torch.zeros(0, n_classes)
