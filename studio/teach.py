"""Teach it your hand: a session adds photos of its own hand signs under labels (letters, or any
names the user types), trains a hand-shape model on them in seconds (`classifier.training.teach`),
and from then on its Hand signs tab answers with that model wherever MediaPipe finds a hand (photo,
snapshot and Live).

Captures are the hand's row (what a hand-shape model reads: its 21 landmarks, never the photo),
kept in the session's project (`projects`, bounded in number) with the model taught on them; the
page draws each one's thumbnail from its landmarks. API: /teach_sign(image, label) adds one
capture and returns the counts per label; /teach_train() trains and makes the result the
project's hand-shape model; /teach_reset() forgets captures and model.
"""

from __future__ import annotations

import functools
import html
import re
import time
from collections.abc import Callable
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from classifier import data
from classifier.inputs import HAND_PHOTO, imageprep, landmarks
from classifier.inputs.hand_photo import photo_picture
from classifier.training import teach

from . import models, project_panel, projects
from .html_image import img_tag

MAX_LABELS = 30
MAX_PER_LABEL = 40
LABEL = re.compile(r"^[\w][\w .'-]{0,23}$")
THUMB = 40


class TeachError(ValueError):
    """A capture or a training request that cannot be taken; the message says why."""


def find_hand(image: Any) -> tuple[landmarks.Hand, Image.Image]:
    """The hand in a photo or frame (and the upright picture it was found in), or TeachError."""
    if image is None:
        raise TeachError("Take a snapshot or upload a photo of the sign first.")
    finder = landmarks.finder()
    if finder is None:
        raise TeachError("Teaching needs MediaPipe's hand landmarker, which is not installed here.")
    try:
        picture = photo_picture(image)
    except imageprep.ImageInputError as e:
        raise TeachError(str(e)) from None
    hand = finder.find(picture)
    if hand is None:
        raise TeachError("No hand found in this picture: show the whole hand, in good light, not too close.")
    return hand, picture


def add(session_id: str, image: Any, label: str, client: str = "") -> dict[str, int]:
    """Add the hand in `image` as an example of `label` to the session; the counts per label."""
    label = (label or "").strip()
    if not LABEL.match(label):
        raise TeachError("Name the sign with 1-24 letters, digits, spaces, - or _ (e.g. A, or 'hello').")
    hand, _ = find_hand(image)
    return add_hand(session_id, hand, label, client)


def add_hand(session_id: str, hand: landmarks.Hand, label: str, client: str = "") -> dict[str, int]:
    """Add a hand already found in a picture as an example of `label`; the counts per label."""
    try:
        pid = projects.project(session_id, client)
        captures = projects.captures(pid)
        if label not in captures and len(captures) >= MAX_LABELS:
            raise TeachError(f"A project can teach at most {MAX_LABELS} signs.")
        if len(captures.get(label, [])) >= MAX_PER_LABEL:
            raise TeachError(f"'{label}' has {MAX_PER_LABEL} examples already: delete some or teach another sign.")
        projects.add_capture(pid, label, hand.row)   # the store bounds the project's examples in all
    except projects.ProjectError as e:
        raise TeachError(str(e)) from None
    return counts(session_id)


def thumbnail(row: np.ndarray, size: int = THUMB) -> np.ndarray:
    """A hand's row drawn as its skeleton (what the hand-shape model reads), size x size, dark on light."""
    p = np.asarray(row, dtype=np.float32).reshape(landmarks.N_POINTS, 3)[:, :2]
    low, high = p.min(axis=0), p.max(axis=0)
    scale = (size - 6) / max(float((high - low).max()), 1e-6)
    xy = (p - (low + high) / 2) * scale + size / 2
    picture = Image.new("L", (size, size), 235)
    draw = ImageDraw.Draw(picture)
    for a, b in landmarks.BONES:
        draw.line([tuple(xy[a]), tuple(xy[b])], fill=40, width=2)
    return np.asarray(picture, dtype=np.uint8)


BURST = 10  # Live frames with a hand that one press of "Record" adds (2 s at 5 frames a second)


def record(session_id: str, label: str) -> str:
    """Take the next BURST live frames in which a hand is found as examples of `label`."""
    label = (label or "").strip()
    if not LABEL.match(label):
        raise TeachError("Name the sign with 1-24 letters, digits, spaces, - or _ (e.g. A, or 'hello').")
    models.SESSIONS.edit(session_id).recording = (label, BURST)
    return (f"Recording {BURST} frames of {label}: switch to Live, press Record, and hold the sign (move it a "
            "little) until the count reaches 0.")


def take_live(session_id: str, hand: landmarks.Hand | None, picture: Image.Image | None) -> str:
    """A live frame: an example for the sign being recorded, if any; a line saying how far it is."""
    session = models.SESSIONS.get(session_id)
    if session is None or session.recording is None:
        return ""
    label, left = session.recording
    if hand is None or picture is None:
        return f"recording {html.escape(label)}: no hand in view ({left} to go)"
    try:
        add_hand(session_id, hand, label)
    except TeachError as e:
        session.recording = None
        return html.escape(str(e))
    session.recording = (label, left - 1) if left > 1 else None
    return f"recording {html.escape(label)}: {left - 1} to go" if left > 1 else f"recorded {BURST} of {label}"


def counts(session_id: str) -> dict[str, int]:
    return {k: len(v) for k, v in projects.captures(projects.bound(session_id)).items()}


def delete(session_id: str, label: str, number: int | None = None) -> dict[str, int]:
    """Forget example `number` (1, 2, ... as the thumbnails are numbered; None: the latest) of `label`."""
    pid = projects.bound(session_id)
    examples = projects.captures(pid).get(label)
    if pid is None or not examples:
        raise TeachError(f"There are no examples of '{label}'.")
    index = len(examples) if number is None else int(number)
    if not 1 <= index <= len(examples):
        raise TeachError(f"'{label}' has examples 1 to {len(examples)}.")
    projects.delete_captures(pid, [examples[index - 1][0]])
    return counts(session_id)


def ordered(labels: list[str]) -> list[str]:
    """Letters in the alphabet's order first, then the user's own names."""
    letters = [c for c in data.SIGN_LETTERS if c in labels]
    return letters + sorted(set(labels) - set(letters))


# The data set a person's hand is taught to: the one whose models read the hands photos show.
HAND_SHAPES = data.spec_of(HAND_PHOTO.hands) if HAND_PHOTO.hands is not None else None


def train(session_id: str, seed: int = 0) -> str:
    """Teach the session's captures to a hand-shape model and make it the session's; a summary.

    It starts from the shipped letters model (when there is one), so the letters not taught stay
    known and one taught sign is enough; without it, at least two signs are needed."""
    assert HAND_SHAPES is not None
    pid = projects.bound(session_id)
    captures = projects.captures(pid)
    shipped = models.SHIPPED.get(HAND_SHAPES.name)
    start = shipped.checkpoint if shipped is not None else None
    if len(captures) < (1 if start is not None else 2):
        raise TeachError("Teach at least one sign (a few examples) before training." if start is not None
                         else "Teach at least two signs (a few examples each) before training.")
    signs = ordered(list(captures))
    labels = [k for k in signs for _ in captures[k]]
    x = np.stack([row for k in signs for _, row in captures[k]])
    began = time.monotonic()
    taught = teach.teach(HAND_SHAPES, x, labels, start=start, seed=seed)
    assert pid is not None   # it has captures
    try:
        projects.use_taught(pid, HAND_SHAPES.name, taught, _your_hand(len(x), len(captures)))
    except projects.ProjectError as e:
        raise TeachError(str(e)) from None
    untaught = len(set(start.classes) - set(labels)) if start is not None else 0
    kept = (f" It started from the shipped letters model: the {untaught} letters you did not teach stay known."
            if start is not None else "")
    return (f"Trained on {len(x)} examples of {len(captures)} signs in {time.monotonic() - began:.1f} s.{kept} Your "
            "Hand signs tab now answers with it wherever a hand is found; no one else's changes.")


def _your_hand(examples: int, signs: int) -> str:
    """A taught model's name: what it was taught on."""
    return (f"your hand: {examples} example{'s' * (examples != 1)} of {signs} sign{'s' * (signs != 1)}")


def saved_model(session_id: str) -> str | None:
    """The session's taught model as a weights file to download, or None if it has none."""
    assert HAND_SHAPES is not None
    model = models.own_model(HAND_SHAPES.name, session_id)
    if model is None:
        return None
    return str(model.checkpoint.save(models.download_folder() / "my-hand-shape.safetensors"))


def reset(session_id: str) -> dict[str, int]:
    pid = projects.bound(session_id)
    if pid is not None:
        projects.delete_captures(pid)
        if HAND_SHAPES is not None:
            projects.forget_own(pid, HAND_SHAPES.name)
    return {}


def captures_html(session_id: str) -> str:
    """The session's examples, a row of thumbnails per sign."""
    captures = projects.captures(projects.bound(session_id)) if session_id else {}
    if not captures:
        return '<div class="teach-captures empty">No examples yet.</div>'
    rows = []
    for label in ordered(list(captures)):
        thumbs = "".join(f'<figure>{img_tag(thumbnail(row), THUMB, f"example {n} of {label}")}'
                         f'<figcaption>{n}</figcaption></figure>'
                         for n, (_, row) in enumerate(captures[label], start=1))
        count = len(captures[label])
        rows.append(f'<div class="teach-row"><b>{html.escape(label)} ({count})</b>{thumbs}</div>')
    model = models.own_model(HAND_SHAPES.name, session_id) if HAND_SHAPES is not None else None
    note = (f'<div class="teach-note">In use: hand-shape model {html.escape(model.name)}.</div>'
            if model is not None else "")
    return f'<div class="teach-captures">{note}{"".join(rows)}</div>'


def _said(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An event handler whose TeachError the page shows as a message (gr.Error)."""
    @functools.wraps(fn)
    def handler(*args: Any) -> Any:
        try:
            return fn(*args)
        except TeachError as e:
            raise gr.Error(str(e)) from None
    return handler


# The panel's events: each takes the page's values and the request (Gradio gives a request only to
# positional parameters), and says what went wrong through `_said`.

@_said
def teach_sign(image: Any, label: str, request: gr.Request) -> dict[str, int]:
    """Add the hand in `image` as an example of `label` (a letter or any name) to this session's
    examples; returns how many examples each label has."""
    return add(models.session_id(request), image, label, models.client(request))


def teach_uploads(files: list[str] | None, label: str, request: gr.Request) -> tuple[str, str, None]:
    """Add every uploaded photo's hand; the examples, and what was added (or why not)."""
    added, problems = 0, []
    for path in files or []:
        try:
            add(models.session_id(request), path, label, models.client(request))
            added += 1
        except TeachError as e:
            problems.append(str(e))
    note = f"Added {added} example(s) of {label}." + (f" {len(problems)} not added: {problems[0]}" if problems else "")
    return captures_html(models.session_id(request)), note, None


@_said
def teach_train(request: gr.Request) -> str:
    """Train a hand-shape model on this session's examples and use it for this session's hand signs."""
    return train(models.session_id(request))


def teach_reset(request: gr.Request) -> dict[str, int]:
    """Forget this session's examples and taught model."""
    return reset(models.session_id(request))


def view(request: gr.Request) -> str:
    return captures_html(models.session_id(request))


@_said
def drop(label: str, n: float | None, request: gr.Request) -> str:
    delete(models.session_id(request), label, int(n) if n else None)
    return captures_html(models.session_id(request))


@_said
def start_recording(label: str, request: gr.Request) -> str:
    return record(models.session_id(request), label)


def downloadable(request: gr.Request) -> Any:
    path = saved_model(models.session_id(request))
    return gr.DownloadButton(value=path, visible=path is not None)


def build(source: Any, noun: str) -> Any:
    """The Hand signs tab's "Teach it your hand" panel: label, add the current photo or several
    uploads, the examples so far, train, start over. Its events are the API's /teach_* endpoints.
    Returns the training event, for the tab to read its photo again once the model is taught."""
    # Compact (small buttons, an upload button rather than a drop zone): it sits under the photo and
    # stays in a 1440x900 window, open, beside the answer.
    small = {"size": "sm", "min_width": 80}
    with gr.Accordion("Teach it your hand (a few photos a sign)", open=False, elem_id=f"{noun}-teach"):
        with gr.Row(equal_height=True):
            label = gr.Dropdown(list(data.SIGN_LETTERS), value="A", allow_custom_value=True, label="Sign, or a name",
                                elem_id=f"{noun}-teach-label", min_width=120)
            add_btn = gr.Button("Add the current photo", elem_id=f"{noun}-teach-add", **small)
            uploads = gr.UploadButton("Upload photos of it", file_count="multiple", file_types=["image"],
                                      elem_id=f"{noun}-teach-uploads", **small)
        with gr.Row(equal_height=True):
            # 0 means the last: Gradio shows an empty Number as 0, so 0 is the default a person sees.
            number = gr.Number(0, precision=0, label="Example # (0: last)", minimum=0, min_width=90,
                               elem_id=f"{noun}-teach-number")
            drop_btn = gr.Button("Delete it", elem_id=f"{noun}-teach-drop", **small)
            record_btn = gr.Button(f"Record {BURST} frames from Live", elem_id=f"{noun}-teach-record", **small)
        shown = gr.HTML(captures_html(""), elem_id=f"{noun}-teach-captures", apply_default_css=False)
        with gr.Row():
            train_btn = gr.Button("Train on my hand", variant="primary", elem_id=f"{noun}-teach-train", **small)
            reset_btn = gr.Button("Start over", elem_id=f"{noun}-teach-reset", **small)
        status = gr.Markdown(elem_id=f"{noun}-teach-status")
        download = gr.DownloadButton("Download my hand-shape model", value=None, visible=False,
                                     elem_id=f"{noun}-teach-download", size="sm")
    counts_out = gr.JSON(visible=False, label="examples per label")
    private = {"api_visibility": "private"}
    record_btn.click(start_recording, label, status, **private)
    add_btn.click(teach_sign, [source, label], counts_out, api_name="teach_sign").then(view, None, shown, **private)
    uploads.upload(teach_uploads, [uploads, label], [shown, status, uploads], **private)
    drop_btn.click(drop, [label, number], shown, **private)
    trained = train_btn.click(teach_train, None, status, api_name="teach_train", concurrency_id="train",
                              concurrency_limit=1)
    trained.then(view, None, shown, **private).then(downloadable, None, download, **private)
    reset_btn.click(teach_reset, None, counts_out, api_name="teach_reset", api_visibility="undocumented").then(
        view, None, shown, **private)
    project_panel.on_project(view, [shown])
    project_panel.on_project(downloadable, [download])
    return trained
