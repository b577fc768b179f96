"""The speller: letters from a stream of per-frame answers; and a real person's letters read from a video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from classifier import paths
from classifier.inputs import landmarks, video
from classifier.models import checkpoint
from classifier.serving import spelling
from classifier.serving.predict import Predictor

CLASSES = ("A", "B", "C")


def _p(letter: str, p: float = 1.0) -> np.ndarray:
    """Probabilities with `p` on `letter`, the rest shared by the others."""
    out = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
    out[CLASSES.index(letter)] = p
    return out


def _hand(x: float = 100.0, size: float = 50.0) -> np.ndarray:
    pts = np.zeros((21, 3))
    pts[:, 0] = x
    pts[landmarks.MIDDLE_KNUCKLE, 1] = -size
    return pts


def _spell(frames: list[tuple[str | None, float]], fps: float = 15.0, **kw) -> spelling.Speller:
    """Feed (letter or None for no hand, probability) frames at `fps`."""
    sp = spelling.Speller(CLASSES, **kw)
    for i, (letter, p) in enumerate(frames):
        sp.feed(i / fps, None if letter is None else _p(letter, p), None if letter is None else _hand())
    return sp


def _held(letter: str, seconds: float, p: float = 1.0, fps: float = 15.0) -> list[tuple[str | None, float]]:
    return [(letter, p)] * round(seconds * fps)


def test_letters_held_in_turn_are_spelled() -> None:
    assert _spell(_held("A", 0.6) + _held("B", 0.6) + _held("C", 0.6)).text == "ABC"


def test_a_letter_held_long_is_written_once() -> None:
    assert _spell(_held("A", 3.0)).text == "A"


def test_a_sure_letter_is_written_sooner_than_an_unsure_one() -> None:
    sure = _spell(_held("A", 1.0, p=1.0)).letters[0].at
    unsure = _spell(_held("A", 1.0, p=0.5)).letters[0].at
    assert sure < unsure


def test_a_letter_never_read_above_the_floor_is_not_written() -> None:
    assert _spell(_held("A", 2.0, p=0.34)[:], floor=0.4).text == ""


def test_a_brief_shape_between_two_letters_is_not_written() -> None:
    assert _spell(_held("A", 0.6) + _held("C", 0.07) + _held("B", 0.6)).text == "AB"


def test_one_odd_frame_in_a_hold_changes_nothing() -> None:
    frames = _held("A", 0.4) + [("B", 1.0)] + _held("A", 0.4)
    assert _spell(frames).text == "A"


def test_the_rule_does_not_depend_on_the_frame_rate() -> None:
    frames = {fps: _held("A", 0.6, fps=fps) + _held("B", 0.6, fps=fps) for fps in (8, 30)}
    assert [_spell(f, fps=fps).text for fps, f in frames.items()] == ["AB", "AB"]


def test_a_missed_frame_does_not_write_the_letter_again() -> None:
    frames = _held("A", 0.6) + [(None, 0.0)] + _held("A", 0.6)
    assert _spell(frames).text == "A"


def test_the_hand_leaving_the_picture_lets_the_letter_count_again() -> None:
    frames = _held("A", 0.6) + [(None, 0.0)] * 8 + _held("A", 0.6)
    assert _spell(frames).text == "AA"


def test_a_slide_between_two_holds_is_a_double_letter() -> None:
    sp = spelling.Speller(CLASSES)
    t = 0.0
    for x in [100.0] * 9 + [120.0] * 9:   # the wrist slides by 0.4 hand sizes (the hand's box is 50 px)
        sp.feed(t, _p("A"), _hand(x))
        t += 1 / 15
    assert sp.text == "AA"


def test_a_small_drift_is_not_a_double_letter() -> None:
    sp = spelling.Speller(CLASSES)
    for i in range(30):
        sp.feed(i / 15, _p("A"), _hand(100.0 + i * 0.2))   # 6 px in all: 0.12 hand sizes
    assert sp.text == "A"


def test_a_frame_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        spelling.Speller(CLASSES).feed(0.0, np.ones(5) / 5)


def test_a_real_persons_letters_are_read_from_a_video(real_hands_dir: Path, tmp_path: Path) -> None:
    """Three of a real person's photos (letters the shipped model reads right alone), each held 0.6 s
    in an mp4: the letters come back, in order, from the file."""
    finder = landmarks.finder()
    assert finder is not None
    model = Predictor(checkpoint.load(paths.weights_path("handshape"), expect_dataset="handshape"))
    frames = []
    for letter in "LVY":
        photo = np.asarray(Image.open(real_hands_dir / letter / "vedant_2.jpg").convert("RGB").resize((320, 240)))
        frames += [photo] * 9
    clip = tmp_path / "lvy.mp4"
    video.write(clip, frames, 15)
    assert "".join(s.letter for s in spelling.spell_video(str(clip), model, finder)) == "LVY"
