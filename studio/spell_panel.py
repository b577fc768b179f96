"""Fingerspelling in the Hand signs tab: the word line under Live (the letters the speller commits
from the live frames, with Space, Backspace and Clear), practice (a word to spell: each letter
lights up when read; the next letter's shape drawn, and which finger differs from it), and a
recorded or uploaded video read into letters (`/fingerspell_video`). The reading is
`classifier.serving.spelling`'s, the advice `classifier.serving.practice`'s; what a session has
spelled live is kept in this process (a live stream stays on the process that serves it).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from classifier.data import handgen
from classifier.inputs import landmarks, motion, video
from classifier.serving import practice, spelling
from classifier.serving.predict import Predictor

from . import models

MAX_LINE = 200   # characters the live word line keeps (the oldest go first)


# Words to practise.
PRACTICE_WORDS = ("HELLO", "NAME", "BOOK", "WATER", "FRIEND", "COFFEE", "APPLE", "SCHOOL", "THANK", "GOOD", "HELP",
                  "MOTHER", "FATHER", "BLUE", "GREEN", "YES", "NO", "JAM", "ZOO", "ENJOY", "LAZY")
# How the two moving letters are made (they have no still shape to draw).
MOTIONS = {"J": "make an I and draw a J with your little finger (down, then hook)",
           "Z": "point your index finger up and draw a Z with it"}


@dataclass
class Practice:
    """A word being practised: the letters to sign, and how many are read."""

    word: str
    done: int = 0

    @property
    def letters(self) -> str:
        """What is signed: the word's letters (anything else skipped)."""
        return "".join(c for c in self.word if c in handgen.LETTERS or c in MOTIONS)

    @property
    def next(self) -> str | None:
        return self.letters[self.done] if self.done < len(self.letters) else None


def live_letter(session: str, probabilities: dict[str, float] | None, hand: np.ndarray | None,
                t: float | None = None, row: np.ndarray | None = None) -> tuple[str, str]:
    """One live frame's answer (None: no hand) fed to the session's speller, and to its practice if
    one is on (`row`: the hand's 63 numbers, for its advice). Returns the word line after it, and
    the practice's view ("" where none is on)."""
    state = models.SESSIONS.edit(session)
    classes = tuple(probabilities) if probabilities else None
    if classes is not None and (state.speller is None or state.speller.classes != classes):
        state.speller = spelling.Speller(classes, motion=motion.reader())   # new classes: the line stays
    committed = None
    if state.speller is not None:
        p = np.array(list(probabilities.values())) if probabilities else None
        committed = state.speller.feed(time.monotonic() if t is None else t, p, hand)
        if committed is not None:
            state.spelled = (state.spelled + committed.letter)[-MAX_LINE:]
    if state.practice is None:
        return state.spelled, ""
    if committed is not None and committed.letter == state.practice.next:
        state.practice.done += 1
    read = max(probabilities, key=probabilities.get) if probabilities else None
    return state.spelled, practice_html(state.practice, read, row)


def practice_html(p: Practice, read: str | None, row: np.ndarray | None) -> str:
    """The word with its letters read so far lit, the next letter's shape, and what to change."""
    letters = "".join(f'<span class="letter {"done" if i < p.done else "next" if i == p.done else ""}">'
                      f"{html.escape(c)}</span>" for i, c in enumerate(p.letters))
    if p.next is None:
        return (f'<div class="practice"><div class="word">{letters}</div>'
                f'<p class="advice">Spelled: {html.escape(p.letters)}. Pick another word.</p></div>')
    if p.next in MOTIONS:
        advice = f"{p.next} is a motion: {MOTIONS[p.next]}."
    elif read is None or row is None:
        advice = f"Show your hand, making {p.next}."
    elif read == p.next:
        advice = f"That is {p.next}: hold it a moment."
    else:
        off = practice.fingers_off(row, p.next, read)[:2]
        advice = (f"Read as {html.escape(read)}. For {p.next}: " + "; ".join(str(o) for o in off) + "."
                  if off else f"Read as {html.escape(read)}. Your fingers are as {p.next}'s; "
                  "check the thumb's place and which way the hand faces.")
    return (f'<div class="practice"><div class="word">{letters}</div>'
            f'<figure class="target">{practice.shape_svg(p.next)}<figcaption>{p.next}</figcaption></figure>'
            f'<p class="advice">{advice}</p></div>')


def start_practice(session: str, word: str) -> str:
    """Practise spelling `word` (letters only); the practice's view."""
    chosen = Practice("".join(c for c in (word or "").upper() if c.isalpha())[:30])
    state = models.SESSIONS.edit(session)
    if not chosen.letters:
        state.practice = None
        raise gr.Error("Type a word of letters A to Z.")
    state.practice = chosen
    if state.speller is not None:
        state.speller.reset()
    return practice_html(state.practice, None, None)


def stop_practice(session: str) -> str:
    models.SESSIONS.edit(session).practice = None
    return ""


def edit_line(session: str, key: str) -> str:
    """The word line after Space, Backspace or Clear."""
    state = models.SESSIONS.edit(session)
    if key == "space":
        if state.spelled and not state.spelled.endswith(" "):
            state.spelled += " "
    elif key == "backspace":
        state.spelled = state.spelled[:-1]
    elif key == "clear":
        state.spelled = ""
        if state.speller is not None:
            state.speller.reset()
    return state.spelled


def spelled_words(letters: list[dict[str, Any]]) -> str:
    """The letters `fingerspell` found, with their times, for the page."""
    if not letters:
        return "No letter read: is a hand in the video, held still for a moment on each letter?"
    return "  ".join(f"**{d['letter']}** {d['at']:.1f} s" for d in letters)


def fingerspell(path: str | None, model: tuple[Predictor, bool] | None) -> tuple[str, list[dict[str, Any]]]:
    """A video file -> (the letters spelled, each letter with its time and confidence)."""
    if not path:
        raise gr.Error("Record or upload a video of a hand spelling a word.")
    if model is None:
        raise gr.Error("No hand-shape model is there to read hands.")
    finder = landmarks.finder()
    if finder is None:
        raise gr.Error(f"Hand landmarks are off on this server: {landmarks.unavailable()}")
    try:
        letters = spelling.spell_video(path, model[0], finder, motion=motion.reader())
    except video.VideoError as e:
        raise gr.Error(str(e)) from None
    return ("".join(s.letter for s in letters),
            [{"letter": s.letter, "start": round(s.start, 2), "at": round(s.at, 2),
              "confidence": round(s.confidence, 3)} for s in letters])


@dataclass
class LineParts:
    """Live's word line, its keys, and the practice under it."""

    line: gr.Textbox
    keys: dict[str, gr.Button]
    word: gr.Dropdown
    start: gr.Button
    stop: gr.Button
    practice: gr.HTML


def build_line(noun: str) -> LineParts:
    """The word line and its keys, and practice, under the live camera."""
    with gr.Row(equal_height=True):
        line = gr.Textbox("", label="Spelled (hold each letter still a moment; a double letter: slide the hand)",
                          interactive=False, elem_id=f"{noun}-spelled", scale=4)
        keys = {k: gr.Button(label, size="sm", elem_id=f"{noun}-spell-{k}", scale=1, min_width=70)
                for k, label in (("space", "Space"), ("backspace", "Backspace"), ("clear", "Clear"))}
    with gr.Accordion("Practice spelling a word", open=False, elem_id=f"{noun}-practice-panel"):
        with gr.Row(equal_height=True):
            word = gr.Dropdown(list(PRACTICE_WORDS), value=PRACTICE_WORDS[0], allow_custom_value=True, scale=3,
                               label="A word (pick one or type your own)", elem_id=f"{noun}-practice-word")
            start = gr.Button("Practise it", size="sm", variant="primary", scale=1, elem_id=f"{noun}-practice-go")
            stop = gr.Button("Stop", size="sm", scale=1, elem_id=f"{noun}-practice-stop")
        shown = gr.HTML(elem_id=f"{noun}-practice", apply_default_css=False)
    return LineParts(line, keys, word, start, stop, shown)


def wire_line(parts: LineParts) -> None:
    private = {"api_visibility": "private", "queue": False}
    for key, button in parts.keys.items():
        def press(request: gr.Request, key: str = key) -> str:
            return edit_line(models.session_id(request), key)
        button.click(press, None, parts.line, **private)

    def go(word: str, request: gr.Request) -> str:
        return start_practice(models.session_id(request), word)

    def halt(request: gr.Request) -> str:
        return stop_practice(models.session_id(request))

    parts.start.click(go, parts.word, parts.practice, **private)
    parts.stop.click(halt, None, parts.practice, **private)


def build_video(noun: str, model_of: Callable[[str], tuple[Predictor, bool] | None]) -> None:
    """The Video mode: a clip recorded or uploaded, read into letters; `/fingerspell_video`."""
    clip = gr.Video(sources=["upload", "webcam"], include_audio=True, height=260, elem_id=f"{noun}-video",
                    label=f"A video of one hand spelling (mp4 or webm, up to {video.LIMITS.max_seconds:.0f} s)")
    go = gr.Button("Read the spelling", variant="primary", size="sm", elem_id=f"{noun}-video-go")
    text = gr.Textbox(label="Spelled", interactive=False, elem_id=f"{noun}-video-text")
    letters = gr.JSON(visible=False, label="letters")
    shown = gr.Markdown(elem_id=f"{noun}-video-letters")

    def fingerspell_video(video_file: str | None, request: gr.Request) -> tuple[str, list[dict[str, Any]]]:
        """Read the letters a hand spells in a video (one hand, each letter held still a moment; a
        double letter signed with a small slide; J and Z read from the hand's motion).

        Args:
            video_file: an mp4 or webm clip, at most 60 s long (and within the app's upload size limit)
        Returns:
            the letters spelled, and each letter with `start` and `at` (seconds: when it began to
            lead and when it was written) and its mean probability `confidence`
        """
        return fingerspell(video_file, model_of(models.session_id(request)))

    go.click(fingerspell_video, clip, [text, letters], api_name="fingerspell_video", concurrency_id="video",
             concurrency_limit=2).success(spelled_words, letters, shown, api_visibility="private", queue=False)
