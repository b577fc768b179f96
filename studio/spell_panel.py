"""Fingerspelling in the Hand signs tab: the word line under Live (the letters the speller commits
from the live frames, with Space, Backspace and Clear) and a recorded or uploaded video read into
letters (`/fingerspell_video`). The reading is `classifier.serving.spelling`'s; what a session has
spelled live is kept in this process (a live stream stays on the process that serves it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gradio as gr
import numpy as np

from classifier.inputs import landmarks, video
from classifier.serving import spelling
from classifier.serving.predict import Predictor

from . import models

MAX_LINE = 200   # characters the live word line keeps (the oldest go first)


def live_letter(session: str, probabilities: dict[str, float] | None, hand: np.ndarray | None,
                t: float | None = None) -> str:
    """One live frame's answer (None: no hand) fed to the session's speller; the word line after it."""
    state = models.SESSIONS.edit(session)
    classes = tuple(probabilities) if probabilities else None
    if state.speller is None or (classes is not None and state.speller.classes != classes):
        if classes is None:
            return state.spelled
        state.speller = spelling.Speller(classes)   # a new model, new classes: the line stays
    p = np.array(list(probabilities.values())) if probabilities else None
    committed = state.speller.feed(time.monotonic() if t is None else t, p, hand)
    if committed is not None:
        state.spelled = (state.spelled + committed.letter)[-MAX_LINE:]
    return state.spelled


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


def spelled_words(letters: list[spelling.Spelled]) -> str:
    """The letters with their times, for the page."""
    if not letters:
        return "No letter read: is a hand in the video, held still for a moment on each letter?"
    return "  ".join(f"**{s.letter}** {s.at:.1f} s" for s in letters)


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
        letters = spelling.spell_video(path, model[0], finder)
    except video.VideoError as e:
        raise gr.Error(str(e)) from None
    return ("".join(s.letter for s in letters),
            [{"letter": s.letter, "start": round(s.start, 2), "at": round(s.at, 2),
              "confidence": round(s.confidence, 3)} for s in letters])


def build_line(noun: str) -> tuple[gr.Textbox, dict[str, gr.Button]]:
    """The word line and its keys, under the live camera."""
    with gr.Row(equal_height=True):
        line = gr.Textbox("", label="Spelled (hold each letter still a moment; a double letter: slide the hand)",
                          interactive=False, elem_id=f"{noun}-spelled", scale=4)
        keys = {k: gr.Button(label, size="sm", elem_id=f"{noun}-spell-{k}", scale=1, min_width=70)
                for k, label in (("space", "Space"), ("backspace", "Backspace"), ("clear", "Clear"))}
    return line, keys


def wire_line(line: gr.Textbox, keys: dict[str, gr.Button]) -> None:
    for key, button in keys.items():
        def press(request: gr.Request, key: str = key) -> str:
            return edit_line(models.session_id(request), key)
        button.click(press, None, line, api_visibility="private", queue=False)


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
        double letter signed with a small slide; J and Z, which are motions, are not read).

        Args:
            video_file: an mp4 or webm clip, at most 60 s and 50 MB
        Returns:
            the letters spelled, and each letter with `start` and `at` (seconds: when it began to
            lead and when it was written) and its mean probability `confidence`
        """
        return fingerspell(video_file, model_of(models.session_id(request)))

    go.click(fingerspell_video, clip, [text, letters], api_name="fingerspell_video", concurrency_id="video",
             concurrency_limit=2).success(
        lambda found: spelled_words([spelling.Spelled(d["letter"], d["start"], d["at"], d["confidence"])
                                     for d in found]), letters, shown, api_visibility="private", queue=False)
