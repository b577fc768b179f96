"""studio.classify_tab: the classify function and the "not sure" label."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

from classifier import data
from studio import classify_tab


def _images(html: str) -> list[np.ndarray]:
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(m))))
            for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_classify_a_drawing_and_an_empty_canvas() -> None:
    spec = data.DATASETS["digits"]
    canvas = np.full((400, 400, 4), 255, np.uint8)
    every, top, seen = classify_tab.classify(spec, {"composite": canvas, "layers": [], "background": None}).outputs(3)
    assert every == top == "draw a digit"
    assert "draw a digit" in seen
    assert "<img" not in seen
    canvas[60:340, 190:210, :3] = 0  # a "1"
    every, top, seen = classify_tab.classify(spec, {"composite": canvas, "layers": [], "background": None}).outputs(3)
    assert set(every) == set(spec.classes)
    assert max(every, key=every.get) == "1"
    assert every is top
    assert _images(seen)[0].shape == (28, 28)


def test_not_sure_answers_keep_their_bars_under_the_fixed_label() -> None:
    import gradio as gr

    label = classify_tab.says_not_sure(gr.Label())
    sure = label.postprocess({"7": 0.9, "1": 0.1})
    unsure = label.postprocess(classify_tab.NotSure({"7": 0.9, "1": 0.1}))
    assert sure.label == "7"
    assert unsure.label == "not sure"
    assert [c.label for c in unsure.confidences] == ["7", "1"]


def test_the_hand_signs_tab_quotes_the_figures_its_shipped_file_holds(monkeypatch) -> None:
    """The real-photo figures the tab states come from the shipped hand-shape file's metadata
    (written by bench.real_hands --record), not from the code."""
    from classifier.models.checkpoint import Checkpoint
    from classifier.serving.predict import Predictor
    from studio import models

    shipped = models.SHIPPED["handshape"]
    figures = {"first_answer": 0.612, "pixel_model": 0.031, "taught_one_a_sign": 0.777, "people": 9}
    meta = {**shipped.meta, "real_inputs": figures}
    monkeypatch.setitem(models.SHIPPED, "handshape", Predictor(Checkpoint(shipped.model, meta)))
    text = classify_tab.real_world(data.DATASETS["signs"])
    assert [t for t in ("61%", "9 people", "3%", "78%") if t not in text] == []


def test_the_tab_itself_says_only_what_to_do_and_which_model(monkeypatch) -> None:
    """How it works, with its figures, is folded away; the caption is one line."""
    assert "real photos" not in classify_tab.caption(data.DATASETS["signs"])


def test_without_figures_in_the_file_the_tab_states_none(monkeypatch) -> None:
    from classifier.models.checkpoint import Checkpoint
    from classifier.serving.predict import Predictor
    from studio import models

    shipped = models.SHIPPED["handshape"]
    meta = {k: v for k, v in shipped.meta.items() if k != "real_inputs"}
    monkeypatch.setitem(models.SHIPPED, "handshape", Predictor(Checkpoint(shipped.model, meta)))
    assert classify_tab.real_world(data.DATASETS["signs"]) == ""


def test_a_model_without_hidden_layers_is_called_a_linear_model() -> None:
    assert classify_tab.model_words({"hidden": []}) == "linear model"


def test_an_mlp_is_called_by_its_hidden_sizes() -> None:
    assert classify_tab.model_words({"hidden": [256, 64]}) == "MLP [256, 64]"
