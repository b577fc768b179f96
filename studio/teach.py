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
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from classifier import data
from classifier.data import DatasetSpec
from classifier.inputs import DRAWING, HAND_PHOTO, imageprep, landmarks
from classifier.inputs.hand_photo import photo_picture
from classifier.training import teach

from . import assets, models, project_panel, projects
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
    return add_row(session_id, _hands(), label, hand.row, client=client)


def _hands() -> Teachable:
    if HANDS is None:
        raise TeachError("This app has no hand-shape data set to teach.")
    return HANDS


def add_row(session_id: str, what: Teachable, label: str, row: np.ndarray, strokes: str | None = None,
            client: str = "") -> dict[str, int]:
    """Add a row (and, for a drawing, its strokes) as an example of `label`; the counts per label."""
    try:
        pid = projects.project(session_id, client)
        captures = projects.captures(pid, what.dataset)
        if label not in captures and len(captures) >= MAX_LABELS:
            raise TeachError(f"A project can teach at most {MAX_LABELS} {what.labels_word}.")
        if len(captures.get(label, [])) >= MAX_PER_LABEL:
            raise TeachError(f"'{label}' has {MAX_PER_LABEL} examples already: delete some or teach another "
                             f"{what.label_word}.")
        projects.add_capture(pid, label, row, what.dataset, strokes)   # the store bounds the examples in all
    except projects.ProjectError as e:
        raise TeachError(str(e)) from None
    return counts(session_id, what)


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


BURST = 10  # Live frames with a hand that one press of "Record" adds...
BURST_EVERY = 0.2   # ...one every this many seconds at most (2 s in all), so that they differ


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
    now = time.monotonic()
    if now - session.recorded_at < BURST_EVERY:
        return f"recording {html.escape(label)}: {left} to go"
    session.recorded_at = now
    try:
        add_hand(session_id, hand, label)
    except TeachError as e:
        session.recording = None
        return html.escape(str(e))
    session.recording = (label, left - 1) if left > 1 else None
    return f"recording {html.escape(label)}: {left - 1} to go" if left > 1 else f"recorded {BURST} of {label}"


def counts(session_id: str, what: Teachable | None = None) -> dict[str, int]:
    what = what or _hands()
    return {k: len(v) for k, v in projects.captures(projects.bound(session_id), what.dataset).items()}


def delete(session_id: str, label: str, number: int | None = None, what: Teachable | None = None) -> dict[str, int]:
    """Forget example `number` (1, 2, ... as the thumbnails are numbered; None: the latest) of `label`."""
    what = what or _hands()
    pid = projects.bound(session_id)
    examples = projects.captures(pid, what.dataset).get(label)
    if pid is None or not examples:
        raise TeachError(f"There are no examples of '{label}'.")
    index = len(examples) if number is None else int(number)
    if not 1 <= index <= len(examples):
        raise TeachError(f"'{label}' has examples 1 to {len(examples)}.")
    projects.delete_captures(pid, [examples[index - 1][0]], what.dataset)
    return counts(session_id, what)


def undo(session_id: str, what: Teachable) -> dict[str, int]:
    """Forget the example added last, whatever its label."""
    pid = projects.bound(session_id)
    every = [capture_id for rows in projects.captures(pid, what.dataset).values() for capture_id, _ in rows]
    if pid is None or not every:
        raise TeachError("There is no example to take back.")
    projects.delete_captures(pid, [max(every)], what.dataset)
    return counts(session_id, what)


def ordered(labels: list[str], what: Teachable | None = None) -> list[str]:
    """Hands: letters in the alphabet's order first, then the user's own names. Drawings: the order taught."""
    if what is not None and what is not HANDS:
        return list(labels)
    letters = [c for c in data.SIGN_LETTERS if c in labels]
    return letters + sorted(set(labels) - set(letters))


# The data set a person's hand is taught to: the one whose models read the hands photos show.
HAND_SHAPES = data.spec_of(HAND_PHOTO.hands) if HAND_PHOTO.hands is not None else None


def drawing_thumbnail(row: np.ndarray, size: int = THUMB) -> np.ndarray:
    """A drawing's 28x28 row (what the model reads) at thumbnail size, dark on light."""
    picture = Image.fromarray(255 - np.asarray(row, dtype=np.uint8).reshape(28, 28))
    return np.asarray(picture.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


@dataclass(frozen=True)
class Teachable:
    """What one tab teaches: the data set whose model learns the examples, and what differs by kind
    of input (the rest of teaching is the same code for all)."""

    spec: DatasetSpec                 # the data set whose rows the examples are and whose model starts it
    noun: str                         # what one example is: "sign", "drawing"
    thumbnail: Callable[[np.ndarray], np.ndarray]
    label_word: str = "sign"          # what one label is: "sign", "class"
    labels_word: str = "signs"        # and many: "signs", "classes"
    keep: bool = True                 # the shipped model's classes stay beside the taught ones
    # "Not sure" for the taught model: (below, margin) on its probabilities; None: the data set's rule.
    not_sure: tuple[float, float | None] | None = None

    @property
    def dataset(self) -> str:
        return self.spec.name


HANDS = Teachable(HAND_SHAPES, "sign", thumbnail) if HAND_SHAPES is not None else None
# Drawings: the data set the stroke pad's kind of input reads (digits). A model of the taught
# drawings alone by default, from the digits model's hidden layers: a symbol is not a digit.
DRAWING_SPEC = next(s for s in data.DATASETS.values() if s.kind is DRAWING)
DRAWINGS = Teachable(DRAWING_SPEC, "drawing", drawing_thumbnail, "class", "classes", keep=False,
                     not_sure=(0.7, None))


def train(session_id: str, seed: int = 0, what: Teachable | None = None, keep: bool | None = None) -> str:
    """Teach the session's examples to a model and make it the session's; a summary.

    Hands start from the shipped letters model (when there is one), so the letters not taught stay
    known and one taught sign is enough; drawings, from the digits model's hidden layers, a model of
    the taught drawings alone (`keep` True: the digits stay too, rehearsed on MNIST's training rows,
    which must be in the data folder). Without a model to start from, at least two labels are needed."""
    what = what or _hands()
    keep = what.keep if keep is None else keep
    pid = projects.bound(session_id)
    captures = projects.captures(pid, what.dataset)
    start = _start(what)
    alone = start is None or not keep
    if len(captures) < (2 if alone else 1):
        raise TeachError(f"Teach at least two {what.labels_word} (a few examples each) before training." if alone
                         else f"Teach at least one {what.label_word} (a few examples) before training.")
    x, labels = _rows(captures, what)
    began = time.monotonic()
    try:
        taught = teach.teach(what.spec, x, labels, start=start, seed=seed, keep=keep, data_dir=models.DATA_DIR,
                             not_sure=what.not_sure, what=f"{what.noun}s")
    except (FileNotFoundError, data.DataError):
        raise TeachError(f"Keeping the {what.spec.noun}s needs {what.spec.name}'s training rows in the data folder "
                         f"({models.DATA_DIR}); teach without them, or download the data set first.") from None
    assert pid is not None   # it has captures
    try:
        projects.use_taught(pid, what.dataset, taught, _your(what, len(x), len(captures)))
    except projects.ProjectError as e:
        raise TeachError(str(e)) from None
    seconds = time.monotonic() - began
    if what is HANDS:
        untaught = len(set(start.classes) - set(labels)) if start is not None else 0
        kept = (f" It started from the shipped letters model: the {untaught} letters you did not teach stay known."
                if start is not None else "")
        return (f"Trained on {len(x)} examples of {len(captures)} signs in {seconds:.1f} s.{kept} Your "
                "Hand signs tab now answers with it wherever a hand is found; no one else's changes.")
    stays = (f"The {len(start.classes)} {what.spec.noun}s stay among its answers." if keep and start is not None
             else f"Its answers are your {len(captures)} classes only (the {what.spec.noun}s are not among them).")
    return (f"Trained on {len(x)} examples of {len(captures)} classes in {seconds:.1f} s. {stays} Your pad "
            "now answers with it (\"not sure\" for a drawing unlike all of them); no one else's changes.")


def examples_needed(session_id: str, what: Teachable) -> list[dict[str, float]]:
    """How the session's examples' accuracy grows with the examples a label (`teach.examples_curve`):
    models taught 1, 2, 3, 5, ... of each label's examples, read on its other examples."""
    captures = projects.captures(projects.bound(session_id), what.dataset)
    fewest = min((len(v) for v in captures.values()), default=0)
    if len(captures) < 2 or fewest < 2:
        raise TeachError(f"Teach at least two {what.labels_word} with two examples or more each first: a "
                         "model taught some of them is read on the others.")
    x, labels = _rows(captures, what)
    return teach.examples_curve(what.spec, x, labels, start=_start(what), keep=what.keep, not_sure=what.not_sure)


def _rows(captures: dict[str, list[tuple[int, np.ndarray]]], what: Teachable) -> tuple[np.ndarray, list[str]]:
    """The examples as one array of rows and their labels, label by label (`ordered`)."""
    order = ordered(list(captures), what)
    return np.stack([row for k in order for _, row in captures[k]]), [k for k in order for _ in captures[k]]


def _start(what: Teachable) -> Any:
    """The shipped model of `what`'s data set, which teaching starts from (None: none is loaded)."""
    shipped = models.SHIPPED.get(what.dataset)
    return shipped.checkpoint if shipped is not None else None


def _your_hand(examples: int, signs: int) -> str:
    """A taught model's name: what it was taught on."""
    return (f"your hand: {examples} example{'s' * (examples != 1)} of {signs} sign{'s' * (signs != 1)}")


def _your(what: Teachable, examples: int, labels: int) -> str:
    if what is HANDS:
        return _your_hand(examples, labels)
    return (f"your {what.noun}s: {examples} example{'s' * (examples != 1)} of {labels} "
            f"{what.label_word if labels == 1 else what.labels_word}")


def taught_model(session_id: str, what: Teachable) -> Any:
    """The session's own model of `what`'s data set in use if it was taught (not a Train-tab run), else None."""
    pid = projects.bound(session_id)
    return projects.own_predictor(pid, what.dataset, taught=True) if pid is not None else None


def saved_model(session_id: str, what: Teachable | None = None) -> str:
    """The session's taught model as a weights file to download; TeachError if it has none."""
    what = what or _hands()
    model = taught_model(session_id, what)
    if model is None:
        raise TeachError(f"Train on your {'hand' if what is HANDS else what.noun + 's'} first.")
    name = "my-hand-shape" if what is HANDS else f"my-{what.noun}s"
    return str(model.checkpoint.save(models.download_folder() / f"{name}.safetensors"))


def reset(session_id: str, what: Teachable | None = None) -> dict[str, int]:
    what = what or _hands()
    pid = projects.bound(session_id)
    if pid is not None:
        projects.delete_captures(pid, None, what.dataset)
        if taught_model(session_id, what) is not None:
            projects.forget_own(pid, what.dataset)
    return {}


def captures_html(session_id: str, what: Teachable | None = None) -> str:
    """The session's examples, a row of thumbnails per label."""
    what = what or _hands()
    captures = projects.captures(projects.bound(session_id), what.dataset) if session_id else {}
    if not captures:
        return '<div class="teach-captures empty">No examples yet.</div>'
    rows = []
    for label in ordered(list(captures), what):
        thumbs = "".join(f'<figure>{img_tag(what.thumbnail(row), THUMB, f"example {n} of {label}")}'
                         f'<figcaption>{n}</figcaption></figure>'
                         for n, (_, row) in enumerate(captures[label], start=1))
        count = len(captures[label])
        rows.append(f'<div class="teach-row"><b>{html.escape(label)} ({count})</b>{thumbs}</div>')
    model = taught_model(session_id, what)
    kind = "hand-shape model " if what is HANDS else ""
    note = f'<div class="teach-note">In use: {kind}{html.escape(model.name)}.</div>' if model is not None else ""
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
    """The download button, shown where this session has a model taught here."""
    return gr.Button(visible=HANDS is not None and taught_model(models.session_id(request), HANDS) is not None)


@_said
def model_file(request: gr.Request) -> str:
    """The model taught on this session's hand, as a safetensors file (made when asked for)."""
    return saved_model(models.session_id(request))


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
        download = gr.Button("Download my hand-shape model", visible=False, elem_id=f"{noun}-teach-download",
                             size="sm")
        # The file is made when asked for and lands here, unseen; the page then clicks it (one click,
        # one download), as the tab's other downloads do.
        file = gr.DownloadButton(visible="hidden", elem_id=f"{noun}-teach-file")
    counts_out = gr.JSON(visible=False, label="examples per label")
    private = {"api_visibility": "private"}
    download.click(model_file, None, file, **private).success(None, js=assets.download_js(f"{noun}-teach-file"),
                                                               **private)
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
