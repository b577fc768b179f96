"""Fingerspelling in the Hand signs tab: Live's word line, its keys, practice and its advice."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from classifier import data
from classifier.data import handgen
from classifier.inputs.landmarks import hand_row
from classifier.serving import practice
from studio import models, spell_panel
from tests.conftest import unstyled_classes

LETTERS = tuple(data.SIGN_LETTERS)


def _p(letter: str) -> dict[str, float]:
    return {c: (0.96 if c == letter else 0.04 / (len(LETTERS) - 1)) for c in LETTERS}


def _hold(session: str, letter: str, start: float, seconds: float = 0.6, row: np.ndarray | None = None) -> tuple:
    out = ("", "")
    for i in range(round(seconds * 15)):
        out = spell_panel.live_letter(session, _p(letter), None, t=start + i / 15, row=row)
    return out


@pytest.fixture
def session() -> str:
    sid = f"spell-{np.random.default_rng().integers(1 << 30)}"
    yield sid
    models.SESSIONS.end(sid)


def test_letters_held_live_are_written_to_the_line(session: str) -> None:
    _hold(session, "H", 0.0)
    line, _ = _hold(session, "I", 1.0)
    assert line == "HI"


def test_no_hand_leaves_the_line_as_it_is(session: str) -> None:
    _hold(session, "H", 0.0)
    assert spell_panel.live_letter(session, None, None, t=1.0) == ("H", "")


def test_space_backspace_and_clear_edit_the_line(session: str) -> None:
    _hold(session, "H", 0.0)
    spell_panel.edit_line(session, "space")
    spell_panel.edit_line(session, "space")   # one space between words, however often pressed
    assert [spell_panel.edit_line(session, "backspace"), spell_panel.edit_line(session, "clear")] == ["H", ""]


def test_practice_lights_the_letters_read_in_order(session: str) -> None:
    spell_panel.start_practice(session, "hi")
    _, shown = _hold(session, "H", 0.0)
    assert '<span class="letter done">H</span><span class="letter next">I</span>' in shown


def test_a_wrong_letter_does_not_advance_the_practice(session: str) -> None:
    spell_panel.start_practice(session, "HI")
    _, shown = _hold(session, "B", 0.0)
    assert '<span class="letter next">H</span>' in shown


def test_a_practised_word_spelled_to_the_end_says_so(session: str) -> None:
    spell_panel.start_practice(session, "HI")
    _hold(session, "H", 0.0)
    _, shown = _hold(session, "I", 1.0)
    assert "Spelled: HI" in shown


def test_practice_says_which_finger_differs_from_the_next_letter(session: str) -> None:
    """A fist (A) held while practising B: the fingers should be straightened."""
    spell_panel.start_practice(session, "B")
    fist = hand_row(handgen.sample("A", np.random.default_rng(0)), "Right")
    _, shown = _hold(session, "A", 0.0, row=fist)
    assert "finger: straighten it" in shown


def test_practice_shows_the_next_letters_shape(session: str) -> None:
    assert "<svg" in spell_panel.start_practice(session, "L")


def test_a_practice_word_without_a_letter_is_refused(session: str) -> None:
    with pytest.raises(gr.Error):
        spell_panel.start_practice(session, "123 !")


def test_a_practice_word_of_letters_outside_a_to_z_is_refused(session: str) -> None:
    with pytest.raises(gr.Error):
        spell_panel.start_practice(session, "ÉÅ")


def test_practising_j_says_how_its_motion_is_made(session: str) -> None:
    assert "little finger" in spell_panel.start_practice(session, "jam")


def test_the_stylesheet_styles_every_class_practice_uses(session: str) -> None:
    spell_panel.start_practice(session, "HI")
    _, shown = _hold(session, "H", 0.0, row=hand_row(handgen.sample("B", np.random.default_rng(0)), "Right"))
    assert unstyled_classes(shown) == set()


def test_a_generated_hand_is_seldom_called_off_for_its_own_letter() -> None:
    rng = np.random.default_rng(3)
    off = [bool(practice.fingers_off(hand_row(handgen.sample(c, rng), "Right"), c))
           for c in handgen.LETTERS for _ in range(20)]
    assert np.mean(off) < 0.02


def test_a_straight_finger_where_the_letter_bends_it_is_called_off() -> None:
    flat = hand_row(handgen.sample("B", np.random.default_rng(0)), "Right")
    assert {o.finger for o in practice.fingers_off(flat, "A")} >= {"index", "middle", "ring", "little"}


def test_a_finger_off_that_does_not_tell_the_letter_from_the_reading_is_not_called_off() -> None:
    flat = hand_row(handgen.sample("B", np.random.default_rng(0)), "Right")   # read as V: little folded in A and V
    assert "little" not in {o.finger for o in practice.fingers_off(flat, "A", read="V")}


def test_a_finger_off_that_tells_the_letter_from_the_reading_is_called_off() -> None:
    flat = hand_row(handgen.sample("B", np.random.default_rng(0)), "Right")   # read as V: index straight in V only
    assert "index" in {o.finger for o in practice.fingers_off(flat, "A", read="V")}
