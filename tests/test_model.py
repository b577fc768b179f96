"""classifier.models.mlp: MLP construction from configs and presets."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from classifier.models.mlp import MLP, Dropout, MLPConfig
from classifier.training import presets


def test_tutorial_preset_is_the_classic_net() -> None:
    model = MLP(presets.get("tutorial").config("digits").model_config())
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 128), (128, 64), (64, 10)]
    acts = [type(m) for m in model.net if isinstance(m, (nn.ReLU, nn.Tanh))]
    assert acts == [nn.ReLU, nn.Tanh]


def test_forward_shapes_and_flops() -> None:
    model = MLP(MLPConfig(hidden=[32, 16], n_classes=24, dropout=0.1))
    out = model(torch.zeros(5, 28, 28))
    assert out.shape == (5, 24)
    assert model.flops_per_sample() == 2 * (784 * 32 + 32 * 16 + 16 * 24)


def test_config_roundtrip() -> None:
    cfg = MLPConfig(hidden=[8], activation=["gelu"], dropout=0.3, batchnorm=False, n_classes=3)
    assert MLPConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("cfg", [MLPConfig(hidden=[8], activation="swish"),
                                 MLPConfig(hidden=[8, 8], activation=["relu"]),
                                 MLPConfig(hidden=[0])])
def test_invalid_configs_refused(cfg: MLPConfig) -> None:
    with pytest.raises(ValueError):
        MLP(cfg)


def test_generator_decides_the_initial_weights_and_dropout() -> None:
    cfg = MLPConfig(hidden=[32], n_classes=10, dropout=0.5, batchnorm=False)
    a = MLP(cfg, generator=torch.Generator().manual_seed(4))
    b = MLP(cfg, generator=torch.Generator().manual_seed(4))
    c = MLP(cfg, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.net[0].weight, b.net[0].weight)
    assert not torch.equal(a.net[0].weight, c.net[0].weight)
    x = torch.ones(3, 784)
    a.set_dropout_generator(torch.Generator().manual_seed(9))
    b.set_dropout_generator(torch.Generator().manual_seed(9))
    assert torch.equal(a.train()(x), b.train()(x))
    assert torch.equal(a.eval()(x), a.eval()(x))


def test_dropout_matches_torch_dropout_for_the_same_stream() -> None:
    """Same masks as nn.Dropout on a CPU when the generators agree: why old runs still reproduce."""
    x = torch.randn(64, 128)
    torch.manual_seed(3)
    expected = nn.Dropout(0.2).train()(x)
    ours = Dropout(0.2).train()
    ours.generator = torch.Generator().manual_seed(3)
    assert torch.equal(ours(x), expected)


def test_starting_from_another_models_hidden_layers_only() -> None:
    """A model of other classes takes a model's hidden layers; its last layer stays its own."""
    source = MLP(MLPConfig(hidden=[8], n_classes=10), generator=torch.Generator().manual_seed(0))
    fresh = MLP(MLPConfig(hidden=[8], n_classes=3), generator=torch.Generator().manual_seed(1))
    last = fresh.net[-1].weight.detach().clone()
    fresh.start_from(source, classes=False)
    assert torch.equal(fresh.net[0].weight, source.net[0].weight)
    assert torch.equal(fresh.net[-1].weight, last)
