"""Teaching the hand-shape model one's own hand, through the running app (real photos of one
person from real_hands_dev), and the teaching module's own rules."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("fresh_store")]


def _photos(folder: Path, source: str) -> dict[str, list[str]]:
    """One person's photos, by letter."""
    out: dict[str, list[str]] = {}
    with open(folder / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["source"] == source:
                out.setdefault(row["letter"], []).append(str(folder / row["path"]))
    return out


def test_teaching_makes_the_sessions_own_model_answer_first(app_url: str, real_hands_dir: Path) -> None:
    photos = _photos(real_hands_dir, "vedant")
    letters = ["A", "B", "L", "V", "Y"]
    me, other = Client(app_url, verbose=False), Client(app_url, verbose=False)
    for letter in letters:
        for path in photos[letter][:2]:
            counts = me.predict(handle_file(path), letter, api_name="/teach_sign")
    assert counts == {letter: 2 for letter in letters}
    summary = me.predict(api_name="/teach_train")
    assert "Trained on 10 examples of 5 signs" in summary
    assert "the 19 letters you did not teach stay known" in summary

    hits = 0
    for letter in letters:
        first, _, view, pixel = me.predict(handle_file(photos[letter][2]), api_name="/classify_sign")
        assert len(first["confidences"]) == 24                          # taught from the letters model
        assert len(pixel["confidences"]) == 24                          # the pixel model's answer too
        assert "your MLP" in view
        assert "Pixels" in view
        hits += first["label"] == letter
    assert hits >= 4

    # Another session taught nothing: the shipped letters model answers first, beside the pixel model.
    first, _, view, pixel = other.predict(handle_file(photos["A"][2]), api_name="/classify_sign")
    assert "your MLP" not in view
    assert "trained on generated hands" in view
    with pytest.raises(Exception, match="at least one sign"):
        other.predict(api_name="/teach_train")
    assert me.predict(api_name="/teach_reset") == {}
    *_, view, _ = me.predict(handle_file(photos["A"][2]), api_name="/classify_sign")
    assert "your MLP" not in view


def test_the_shipped_letters_model_reads_a_strangers_real_photos(app_url: str, real_hands_dir: Path) -> None:
    """One real photo a letter of one person (none of them trained on), through the running app."""
    photos = _photos(real_hands_dir, "t32rahman")
    client = Client(app_url, verbose=False)
    right = sum(client.predict(handle_file(photos[letter][0]), api_name="/classify_sign")[0]["label"] == letter
                for letter in photos)
    assert right >= 0.6 * len(photos)


def test_a_picture_with_no_hand_is_not_taught(app_url: str, tmp_path: Path) -> None:
    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((480, 640, 3), 200, np.uint8)).save(wall)
    with pytest.raises(Exception, match="No hand found"):
        Client(app_url, verbose=False).predict(handle_file(str(wall)), "A", api_name="/teach_sign")


def test_labels_and_counts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from classifier.inputs import landmarks
    from studio import teach

    hand = landmarks.Hand(np.random.default_rng(0).random((21, 3)).astype(np.float32) * 100, "Right", 0.9)
    monkeypatch.setattr(teach, "find_hand", lambda image: (hand, Image.new("RGB", (200, 200))))
    with pytest.raises(teach.TeachError, match="Name the sign"):
        teach.add("a", "photo", "<script>")
    for _ in range(teach.MAX_PER_LABEL):
        teach.add("a", "photo", "A")
    with pytest.raises(teach.TeachError, match="examples already"):
        teach.add("a", "photo", "A")
    assert teach.counts("a") == {"A": teach.MAX_PER_LABEL}
    assert teach.counts("b") == {}  # another session has nothing
    assert teach.ordered(["hello", "B", "A"]) == ["A", "B", "hello"]


def test_any_example_can_be_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    from classifier.inputs import landmarks
    from studio import projects, teach

    hands = iter(landmarks.Hand(np.full((21, 3), k, np.float32) + np.arange(63).reshape(21, 3), "Right", 0.9)
                 for k in range(10))
    monkeypatch.setattr(teach, "find_hand", lambda image: (next(hands), Image.new("RGB", (200, 200))))
    for _ in range(3):
        teach.add("a", "photo", "B")
    kept = [row.tolist() for _, row in projects.captures(projects.bound("a"))["B"]]
    assert teach.delete("a", "B", 2) == {"B": 2}
    assert [row.tolist() for _, row in projects.captures(projects.bound("a"))["B"]] == [kept[0], kept[2]]
    with pytest.raises(teach.TeachError, match="examples 1 to 2"):
        teach.delete("a", "B", 5)
    teach.delete("a", "B")
    assert teach.delete("a", "B") == {}


def test_recording_takes_live_frames_with_a_hand(real_hands_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from classifier import data
    from studio import classify_tab, teach

    spec = data.DATASETS["signs"]
    frame = np.asarray(Image.open(real_hands_dir / "L" / "vedant_2.jpg").convert("RGB"))
    wall = np.full_like(frame, 200)
    monkeypatch.setattr(teach, "BURST_EVERY", 0.0)   # every frame taken, however fast they come
    teach.record("a", "L")
    view, *_ = classify_tab.classify_live(spec, wall, [], "a")
    assert "no hand in view" in view
    assert teach.counts("a") == {}
    for left in range(teach.BURST - 1, 0, -1):
        view, *_ = classify_tab.classify_live(spec, frame, [], "a")
        assert f"{left} to go" in view
    view, *_ = classify_tab.classify_live(spec, frame, [], "a")
    assert f"recorded {teach.BURST} of L" in view
    assert teach.counts("a") == {"L": teach.BURST}
    classify_tab.classify_live(spec, frame, [], "a")
    assert teach.counts("a") == {"L": teach.BURST}  # recording stopped


def test_recording_takes_frames_that_come_fast_a_while_apart(real_hands_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from classifier import data
    from studio import classify_tab, teach

    spec = data.DATASETS["signs"]
    frame = np.asarray(Image.open(real_hands_dir / "L" / "vedant_2.jpg").convert("RGB"))
    monkeypatch.setattr(teach, "BURST_EVERY", 60.0)
    teach.record("fast", "L")
    for _ in range(3):   # three frames well within BURST_EVERY of each other
        classify_tab.classify_live(spec, frame, [], "fast")
    assert teach.counts("fast") == {"L": 1}


def test_the_stylesheet_styles_every_class_the_examples_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from classifier.inputs import landmarks
    from studio import teach
    from tests.conftest import unstyled_classes

    hand = landmarks.Hand(np.random.default_rng(0).random((21, 3)).astype(np.float32) * 100, "Right", 0.9)
    monkeypatch.setattr(teach, "find_hand", lambda image: (hand, Image.new("RGB", (200, 200))))
    empty = teach.captures_html("a")
    teach.add("a", "photo", "A")
    assert unstyled_classes(empty + teach.captures_html("a")) == set()
