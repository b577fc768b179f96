"""The classify tabs' "Look inside the model" view, as HTML the page draws (see `classifier.inside`).
Its look is the `.inside-*` rules of `assets/app.css`."""

from __future__ import annotations

import html

import numpy as np
import torch

from classifier.models import inside
from classifier.models.preprocess import normalize
from classifier.serving.predict import Predictor

from .html_image import img_tag

N_UNITS = 8  # first-layer units shown

_LEGEND = ('<span class="raises">red</span>: a bright pixel there raises it; '
           '<span class="lowers">blue</span>: lowers it')


def _figure(image: np.ndarray, width: int, caption: str, alt: str) -> str:
    return f'<figure>{img_tag(image, width, alt)}<figcaption>{caption}</figcaption></figure>'


def inside_html(predictor: Predictor, image: np.ndarray) -> str:
    """For one 28x28 input: each hidden layer's activations (most active units named) and what the
    most active first-layer units look for; a model without hidden layers shows each class's weights."""
    x = normalize(torch.as_tensor(np.asarray(image, dtype=np.uint8)).reshape(1, 28, 28), predictor.normalization)
    layers = inside.hidden_layers(predictor.model, x, top=N_UNITS)
    row = '<div class="inside-row">'
    parts = ['<div class="inside-view">']
    if not layers:
        with torch.inference_mode():
            scores = predictor.model(x.to(next(predictor.model.parameters()).device))[0].float().cpu()
        weights = inside.diverging(inside.first_layer_weights(predictor.model))
        parts.append(f"<b>No hidden layer: each class's score is its weights times the pixels.</b> Each class's "
                     f"weights, its template ({_LEGEND}), and its score for this input:")
        parts.append(row + "".join(
            _figure(w, 48, f"<b>{html.escape(name)}</b> {float(s):.1f}", f"weights of class {name}")
            for w, name, s in zip(weights, predictor.classes, scores, strict=True)) + "</div>")
        return "".join(parts) + "</div>"
    for layer in layers:
        top = ", ".join(f"#{u} ({layer.values[u]:.2f})" for u in layer.top[:5])
        parts.append(
            f'<div class="inside-layer">'
            f"{img_tag(inside.activation_grid(layer.values), 72, f'hidden layer {layer.index} activations')}"
            f"<div><b>Hidden layer {layer.index}</b>: {len(layer.values)} {layer.activation} units, "
            f"{layer.active_share:.0%} above zero (one pixel each, darker: more active). "
            f"Most active: {top}</div></div>")
    first = layers[0]
    weights = inside.diverging(inside.first_layer_weights(predictor.model, first.top))
    parts.append(f"<div>What the first layer's most active units look for: their incoming weights ({_LEGEND}); "
                 "under each, its output for this input.</div>")
    parts.append(row + "".join(
        _figure(w, 56, f"#{u} · {first.values[u]:.2f}", f"incoming weights of unit {u}")
        for w, u in zip(weights, first.top, strict=True)) + "</div>")
    return "".join(parts) + "</div>"
