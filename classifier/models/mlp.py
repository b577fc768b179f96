"""The multilayer perceptron (`classifier.presets` names the classic ones).

A model is fully described by a small JSON-able config (`MLPConfig`), which weights files
carry so that the app can rebuild the network from the file alone.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from .preprocess import N_PIXELS

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,  # the classic from-scratch networks' choice
}


@dataclass
class MLPConfig:
    # Sizes of the hidden layers; empty: a linear model (784 -> classes).
    hidden: list[int] = field(default_factory=lambda: [1024, 1024])
    # One name for every hidden layer, or one per hidden layer (the tutorial net mixes them).
    activation: str | list[str] = "relu"
    dropout: float = 0.0
    # BatchNorm after each hidden Linear: lets large batches train fast at high learning rates.
    batchnorm: bool = True
    in_features: int = N_PIXELS
    n_classes: int = 10

    def activations(self) -> list[str]:
        acts = [self.activation] * len(self.hidden) if isinstance(self.activation, str) else list(self.activation)
        if len(acts) != len(self.hidden):
            raise ValueError(f"{len(acts)} activations given for {len(self.hidden)} hidden layers")
        for a in acts:
            if a not in ACTIVATIONS:
                raise ValueError(f"unknown activation {a!r}; choose from {', '.join(ACTIVATIONS)}")
        return acts

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> MLPConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


class Dropout(nn.Module):
    """Dropout drawing its masks from a generator of the caller's (nn.Dropout can only use torch's
    process-wide one, which every thread shares)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        # ATen's CPU dropout, step for step: with an equally seeded generator the result is bit-identical.
        noise = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        noise.div_(1 - self.p)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MLP(nn.Module):
    """Flattened 28x28 image in, class logits out.

    `generator` draws the initial weights (else torch's global generator, as nn.Linear does);
    the layers are built on the meta device first, so nothing else draws from any generator.
    """

    def __init__(self, config: MLPConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.in_features
        for size, act in zip(config.hidden, config.activations(), strict=True):
            if size <= 0:
                raise ValueError(f"hidden sizes must be positive, got {config.hidden}")
            layers.append(nn.Linear(width, size, bias=not config.batchnorm, device="meta"))
            if config.batchnorm:
                layers.append(nn.BatchNorm1d(size, device="meta"))
            layers.append(ACTIVATIONS[act]())
            if config.dropout > 0:
                layers.append(Dropout(config.dropout))
            width = size
        layers.append(nn.Linear(width, config.n_classes, device="meta"))
        self.net = nn.Sequential(*layers)
        self.to_empty(device="cpu")
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """PyTorch's default initialisation, layer by layer, drawn from `generator`."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
                if m.bias is not None:
                    bound = 1 / math.sqrt(m.in_features)
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
            elif isinstance(m, nn.BatchNorm1d):
                m.reset_parameters()

    @torch.no_grad()
    def start_from(self, other: MLP, classes: bool = True) -> None:
        """Take `other`'s weights: a model of the same layers, for as many classes or fewer (its
        classes are this one's first; the others keep their fresh initial weights). `classes` False:
        its hidden layers only (this model's classes are others; its last layer stays fresh)."""
        if classes and other.config.n_classes > self.config.n_classes:
            raise ValueError(f"a model of {other.config.n_classes} classes cannot start one of {self.config.n_classes}")
        last = f"net.{len(self.net) - 1}."
        for (name, mine), theirs in zip(self.state_dict().items(), other.state_dict().values(), strict=True):
            if not classes and name.startswith(last):
                continue
            if mine.shape == theirs.shape:
                mine.copy_(theirs)
            elif mine.shape[1:] == theirs.shape[1:]:   # the last layer: one row per class
                mine[: len(theirs)].copy_(theirs)
            else:
                raise ValueError(f"a model of layers {other.config.hidden} cannot start one of {self.config.hidden}")

    def set_dropout_generator(self, generator: torch.Generator | None) -> None:
        for m in self.modules():
            if isinstance(m, Dropout):
                m.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))

    def flops_per_sample(self) -> int:
        """Multiply-adds x2 of one forward pass (the Linear layers; the rest is negligible)."""
        return sum(2 * m.in_features * m.out_features for m in self.modules() if isinstance(m, nn.Linear))


def fit_small(model: MLP, n: int, loss_of: Callable[[torch.Tensor], torch.Tensor], epochs: int,
              generator: torch.Generator, weight_decay: float, batch: int = 256, lr: float = 3e-3) -> MLP:
    """Train a model that is no data set's (the hand locator, the motion model) on `n` rows: AdamW and
    a one-cycle schedule, `epochs` passes in an order `generator` shuffles, `loss_of(row indices)`
    the batch's loss (it may draw from the same generator). Prints each epoch's mean loss to stderr."""
    steps = epochs * ((n + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.3)
    model.train()
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=generator)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            loss = loss_of(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / n:.4f}", file=sys.stderr)
    return model.eval()


def save_small(path: str | Path, model: MLP, key: str, meta: dict) -> Path:
    """A model that is no data set's (the hand locator, the motion model) as a safetensors file: its
    weights, and `meta` with the model's config as JSON under `key` in the header. Written beside
    the path first, then moved into place."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp),
              metadata={key: json.dumps({**meta, "model": model.config.to_dict()})})
    tmp.replace(path)
    return path


def load_small(path: str | Path, key: str) -> tuple[MLP, dict]:
    """A model `save_small` wrote, and its metadata."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()[key])
    model = MLP(MLPConfig.from_dict(meta["model"]))
    model.load_state_dict(load_file(str(path)))
    return model, meta
