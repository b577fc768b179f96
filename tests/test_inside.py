"""classifier.inside and the classify tabs' look inside: the values shown are the model's own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from classifier import data
from classifier.models import checkpoint, inside
from classifier.models.mlp import MLP, MLPConfig
from classifier.models.preprocess import normalize
from classifier.serving.predict import Predictor
from studio import classify_tab, inside_view, models
from tests.test_classify_tab import _images


def _model(hidden: list[int], activation="relu", batchnorm=True) -> MLP:
    model = MLP(MLPConfig(hidden=hidden, activation=activation, batchnorm=batchnorm),
                generator=torch.Generator().manual_seed(0))
    if batchnorm:  # non-trivial running statistics, so eval mode matters
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1, generator=torch.Generator().manual_seed(1))
    return model.eval()


def test_hidden_layers_are_the_models_own_activations() -> None:
    model = _model([16, 8], activation=["relu", "tanh"])
    x = torch.randn(1, 784, generator=torch.Generator().manual_seed(2))
    layers = inside.hidden_layers(model, x, top=4)
    assert [(layer.index, layer.activation, layer.values.shape) for layer in layers] == [
        (1, "relu", (16,)), (2, "tanh", (8,))]
    with torch.no_grad():
        first = model.net[2](model.net[1](model.net[0](x)))[0]
        second = model.net[5](model.net[4](model.net[3](first[None])))[0]
    assert np.allclose(layers[0].values, first.numpy())
    assert np.allclose(layers[1].values, second.numpy())
    assert layers[0].top == np.argsort(-first.numpy())[:4].tolist()
    assert layers[0].values[layers[0].top[0]] == layers[0].values.max()
    assert 0 <= layers[0].active_share <= 1


def test_first_layer_weights_are_the_models_rows() -> None:
    model = _model([16])
    w = inside.first_layer_weights(model, [3, 7])
    assert w.shape == (2, 28, 28)
    assert np.array_equal(w[1].reshape(-1), model.net[0].weight[7].detach().numpy())
    linear = _model([], batchnorm=False)
    assert inside.first_layer_weights(linear).shape == (10, 28, 28)
    assert inside.hidden_layers(linear, torch.zeros(1, 784)) == []


def test_colour_maps() -> None:
    rgb = inside.diverging(np.array([[[-2.0, 0.0, 1.0]]]))
    assert rgb.shape == (1, 1, 3, 3)
    assert rgb.dtype == np.uint8
    assert tuple(rgb[0, 0, 1]) == (255, 255, 255)                   # zero: white
    assert rgb[0, 0, 0, 2] > rgb[0, 0, 0, 0]                        # negative: blue
    assert rgb[0, 0, 2, 0] > 200
    assert rgb[0, 0, 2, 2] < 150  # positive: red (half the largest magnitude)
    grid = inside.activation_grid(np.array([0.0, 1.0, 0.5, 0.0, 2.0]))
    assert grid.shape == (2, 3)
    assert grid[0, 0] == 255
    assert grid[1, 1] == 0  # the most active is darkest


def _predictor(hidden: list[int]) -> Predictor:
    spec = data.DATASETS["digits"]
    model = _model(hidden, batchnorm=bool(hidden))
    return Predictor(checkpoint.Checkpoint(model, spec.weights_meta(model.config)))


@pytest.mark.parametrize("hidden", [[16, 8], []])
def test_the_view_shows_the_models_own_weights(hidden: list[int]) -> None:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255
    predictor = _predictor(hidden)
    html = inside_view.inside_html(predictor, image)
    shown = _images(html)
    x = normalize(torch.as_tensor(image)[None], predictor.normalization)
    if hidden:
        layers = inside.hidden_layers(predictor.model, x, top=inside_view.N_UNITS)
        assert len(shown) == len(hidden) + min(inside_view.N_UNITS, hidden[0])  # a grid per layer, then units
        units = shown[len(hidden):]
        expected = inside.diverging(inside.first_layer_weights(predictor.model, layers[0].top))
        assert all(np.array_equal(a, b) for a, b in zip(units, expected, strict=True))
        assert f"#{layers[0].top[0]} " in html
        assert "Hidden layer 2" in html
    else:
        assert len(shown) == 10
        assert "No hidden layer" in html
        assert np.array_equal(shown[3], inside.diverging(inside.first_layer_weights(predictor.model))[3])


@pytest.mark.parametrize("hidden", [[16, 8], []])
def test_the_stylesheet_styles_every_class_the_view_uses(hidden: list[int]) -> None:
    from tests.conftest import unstyled_classes

    assert unstyled_classes(inside_view.inside_html(_predictor(hidden), np.zeros((28, 28), np.uint8))) == set()


def test_a_session_that_looks_inside_gets_it_and_others_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "SESSIONS", models.Sessions())
    spec = data.DATASETS["digits"]
    canvas = np.full((400, 400, 4), 255, np.uint8)
    canvas[60:340, 190:210, :3] = 0
    value = {"composite": canvas, "layers": [], "background": None}
    classify_tab.look_inside(spec, True, "a")
    assert "inside-view" in classify_tab.classify(spec, value, session="a").view
    assert "inside-view" not in classify_tab.classify(spec, value, session="b").view
    classify_tab.look_inside(spec, False, "a")
    assert "inside-view" not in classify_tab.classify(spec, value, session="a").view
