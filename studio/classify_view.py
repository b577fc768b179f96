"""The classify view: the HTML the classify tabs answer with, and nothing else.

The 28x28 the model saw (scaled up pixel for pixel), for photos the picture with the square it was
cut from, and a bar for every class in class order under the answer, named once ("not sure", with
its best guess, for inputs unlike the training data). A few kB the browser draws, so an answer costs
the server no figure rendering. Its look is `assets/app.css` (classes, not inline styles); only a
bar's length, which is data, is written inline.
"""

from __future__ import annotations

import html
import time

import numpy as np
from PIL import Image, ImageDraw

from classifier import data
from classifier.data import DatasetSpec
from classifier.inputs import Prepared, landmarks
from classifier.models import ood

from . import models
from .html_image import img_tag

SEEN_SIZE = 224          # px: the 28x28, 8x
SMALL_SIZE = 168         # px: the picture and the 28x28 stacked beside the bars, with a photo
FOUND, GUESSED = (234, 88, 12), (148, 163, 184)   # the square's outline: a hand found, or the best guess
BONE, JOINT = (14, 165, 233), (255, 255, 255)     # MediaPipe's landmarks, drawn as a skeleton


def seen_html(image: np.ndarray, size: int = SEEN_SIZE) -> str:
    """The 28x28 the model saw, `size` px wide."""
    return img_tag(image, size, "the 28x28 image the model sees")


def message_html(message: str) -> str:
    """The view with no answer: what the user should do, or what went wrong."""
    return f'<div class="classify-view message">{html.escape(message)}</div>'


def picture_html(prepared: Prepared, clickable: bool = True) -> str:
    """For photos: the picture, small, with the square the 28x28 was cut from drawn on it, and how
    that square was chosen. `clickable`: two clicks on it give a square of one's own
    (`assets/click_box.js` reads `data-size`)."""
    if prepared.picture is None or prepared.box is None:
        return ""
    picture = prepared.picture.convert("RGB")
    scale = min(1.0, SMALL_SIZE / max(picture.size))
    small = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                           Image.Resampling.BILINEAR)
    b = prepared.box
    draw = ImageDraw.Draw(small)
    draw.rectangle([b.x0 * scale, b.y0 * scale, b.x1 * scale - 1, b.y1 * scale - 1],
                   outline=FOUND if b.found else GUESSED, width=3)
    if prepared.hand is not None:
        pts = prepared.hand.points[:, :2] * scale
        for i, j in landmarks.BONES:
            draw.line([tuple(pts[i]), tuple(pts[j])], fill=BONE, width=2)
        for x, y in pts:
            draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=JOINT)
    box = ",".join(str(round(v)) for v in b.as_tuple())
    size = f' data-size="{picture.width},{picture.height}"' if clickable else ""
    hint = " Click two corners to choose your own." if clickable else ""
    return (f'<figure class="picture" data-box="{box}"{size}>'
            f"{img_tag(np.asarray(small), small.width, 'the picture with the square the model sees')}"
            f'<figcaption style="max-width:{small.width}px">square: {html.escape(prepared.note)}.{hint}'
            "</figcaption></figure>")


def answer_html(probabilities: dict[str, float], unsure: bool = False, title: str = "") -> str:
    """One model's answer: the class once (or "not sure" with its best guess) above a bar for every
    class in class order; the most probable class's bar stands out. For "not sure" every bar is muted
    and a line says they are no confidence."""
    top, second = sorted(probabilities, key=probabilities.get, reverse=True)[:2] + [None] * (len(probabilities) < 2)
    if unsure:
        then = f", then {html.escape(second)}" if second is not None else ""
        heading = (f'<span class="name">{ood.NOT_SURE}</span> <span>its best guess: {html.escape(top)}{then}</span>'
                   '<div class="not-sure-note">The model cannot tell: the input is unlike what it was trained on, '
                   "or two classes are too close to call. These percentages are not a confidence.</div>")
    else:
        heading = f'<span class="name">{html.escape(top)}</span> <span>{probabilities[top]:.0%}</span>'
    rows = "".join(
        f'<tr><td class="class">{html.escape(name)}</td>'
        f'<td class="bar-cell"><div class="bar{" top" if name == top else ""}" style="width:{max(p, 0.004):.1%}">'
        f'</div></td><td class="percent">{p:.0%}</td></tr>'
        for name, p in probabilities.items())
    state = " unsure" if unsure else ""
    caption = f'<div class="model-title">{html.escape(title)}</div>' if title else ""
    return (f'<div class="answer-block">{caption}<div class="answer{state}">{heading}</div>'
            f'<table class="bars{state}">{rows}</table></div>')


def second_opinion(shown: str, probabilities: dict[str, float], unsure: bool, title: str = "") -> str:
    """An answer (`answer_html`'s `shown`) folded under its headline, as a second opinion."""
    top = max(probabilities, key=probabilities.get)
    said = ood.NOT_SURE if unsure else f"{html.escape(top)} {probabilities[top]:.0%}"
    whose = f" ({html.escape(title)})" if title else ""
    return f'<details class="second-opinion"><summary>Second opinion: {said}{whose}</summary>{shown}</details>'


def view_html(image: np.ndarray | None, probabilities: dict[str, float] | None, unsure: bool = False,
              message: str = "", picture: str = "", beside: str = "", title: str = "", after: str = "") -> str:
    """The classify view: the 28x28 the model saw beside its answer (`answer_html`); `message` alone
    where there is no answer. `picture`: the photo with its square (`picture_html`); `beside`: another
    model's answer shown first, e.g. the hand-shape model's; this model's then follows folded, as a
    second opinion. `after`: another model's answer, folded under this one's (`second_opinion`)."""
    if image is None or not probabilities:
        return message_html(message)
    seen = (f'<figure>{seen_html(image, SMALL_SIZE if picture else SEEN_SIZE)}'
            "<figcaption>what the model sees (28x28)</figcaption></figure>")
    # With a photo, the photo and the 28x28 stack in one narrow column, so the bars keep their place
    # beside them and a 24-letter view stays within a 900 px window.
    left = f'<div class="inputs">{picture}{seen}</div>' if picture else seen
    answer = answer_html(probabilities, unsure, title)
    if beside:   # one answer in view; this model's, a second opinion, folded until asked for
        answer = second_opinion(answer, probabilities, unsure, title)
    return f'<div class="classify-view">{left}<div class="answers">{beside}{answer}{after}</div></div>'


def live_note(frames: int, recording: str = "") -> str:
    """Under a live answer: how many frames it averages, and what the teach panel is recording
    (`teach.take_live`'s words, already escaped). Each frame's note differs (its time), so the page
    redraws the view and a bench can count frames."""
    note = (f'<div class="live-note" data-frame="{time.monotonic():.3f}">averaged over the last {frames} '
            "frames</div>")
    return note + (f'<div class="recording">{recording}</div>' if recording else "")


_charts: dict[str, str] = {}


def class_chart(spec: DatasetSpec) -> str:
    """One test image of each class with its name, built from the data set on first use (never
    stored anywhere but memory), or where the data set belongs if it is not here."""
    if spec.name in _charts:
        return _charts[spec.name]
    try:
        images, labels = data.load(spec.name, "test", models.DATA_DIR, download=False)
    except data.DataError:
        return f"The chart is built from the data set's own images. {data.where_to_put(spec.name, models.DATA_DIR)}"
    cells = []
    for k, name in enumerate(spec.classes):
        rows = (labels == k).nonzero()
        if len(rows):
            cells.append(f"<figure>{img_tag(images[rows[0, 0]].numpy(), 56, name)}<figcaption>{name}</figcaption>"
                         "</figure>")
    chart = '<div class="class-chart">' + "".join(cells) + "</div>"
    _charts[spec.name] = chart  # built twice at worst, by two first requests at once: harmless
    return chart
