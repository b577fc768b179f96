"""studio.classify_view: the classify view's HTML (the exact 28x28, a bar per class, "not sure"),
the chart of each class, and the stylesheet that draws them."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from classifier import data
from classifier.data import datasets
from studio import classify_view, models
from tests.conftest import make_signs_dir, unstyled_classes


def _images(html: str) -> list[np.ndarray]:
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(m))))
            for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_seen_html_is_the_exact_image() -> None:
    image = np.random.default_rng(0).integers(0, 256, (28, 28)).astype(np.uint8)
    (decoded,) = _images(classify_view.seen_html(image))
    assert np.array_equal(decoded, image)
    assert "image-rendering: pixelated" in classify_view.seen_html(image)


def test_chart_has_one_example_of_each_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "DATA_DIR", tmp_path)
    monkeypatch.setattr(classify_view, "_charts", {})
    spec = data.DATASETS["signs"]
    missing = classify_view.class_chart(spec)
    assert "datamunge/sign-language-mnist" in missing
    assert "<img" not in missing
    make_signs_dir(tmp_path, n_train=48, n_test=96)
    datasets._cache.clear()
    chart = classify_view.class_chart(spec)
    captions = re.findall(r"<figcaption[^>]*>([^<]+)</figcaption>", chart)
    x, y = data.load("signs", "test", tmp_path)
    present = [spec.classes[k] for k in sorted(set(y.tolist()))]
    assert captions == present
    assert len(_images(chart)) == len(present)
    first = int((y == spec.classes.index(captions[0])).nonzero()[0, 0])
    assert np.array_equal(_images(chart)[0], x[first].numpy())
    assert classify_view.class_chart(spec) is chart  # built once
    datasets._cache.clear()


def test_view_shows_every_class_in_order_and_the_answer_once() -> None:
    probs = {str(d): 0.01 for d in range(10)} | {"7": 0.91}
    image = np.zeros((28, 28), np.uint8)
    view = classify_view.view_html(image, probs)
    names = re.findall(r"<tr[^>]*><td[^>]*>([^<]+)</td>", view)
    assert names == list(probs)
    assert view.count("91%") == 2  # the answer's figure and its bar's
    assert re.search(r'class="answer"><span[^>]*>7</span>', view)
    unsure = classify_view.view_html(image, probs, unsure=True)
    assert re.search(r'class="answer unsure"><span[^>]*>not sure</span>', unsure)
    assert "best guess: 7, then " in unsure


def test_a_not_sure_answer_looks_unsure() -> None:
    """No orange 91% bar under "not sure": the bars' table says so (assets/app.css mutes every bar in it),
    and a line says they are no confidence."""
    probs = {str(d): 0.01 for d in range(10)} | {"7": 0.91}
    image = np.zeros((28, 28), np.uint8)
    sure, unsure = classify_view.view_html(image, probs), classify_view.view_html(image, probs, unsure=True)
    assert 'class="bar top"' in sure
    assert '<table class="bars unsure">' in unsure
    assert "not a confidence" in unsure
    assert "not a confidence" not in sure
    assert "&lt;b&gt;" in classify_view.view_html(None, None, message="<b>")  # messages are escaped


def test_the_stylesheet_styles_every_class_the_view_uses() -> None:
    probs = {str(d): 0.01 for d in range(10)} | {"7": 0.91}
    image = np.zeros((28, 28), np.uint8)
    view = classify_view.view_html(image, probs, unsure=True, picture='<figure class="picture"></figure>',
                                   title="a model")
    assert unstyled_classes(view) - {"picture"} == set()


def test_an_answer_folded_after_the_first_is_a_second_opinion_under_it() -> None:
    probs = {"A": 0.8, "B": 0.2}
    folded = classify_view.second_opinion(classify_view.answer_html({"A": 0.3, "B": 0.7}, False), {"A": 0.3, "B": 0.7},
                                          False, "hand shape")
    html = classify_view.view_html(np.zeros((28, 28), np.uint8), probs, after=folded)
    assert html.index('<span class="name">A</span>') < html.index("Second opinion: B 70% (hand shape)")
