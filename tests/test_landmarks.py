"""Hands as landmarks: normalization invariances, the square around a hand, MediaPipe on a real photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from classifier import paths
from classifier.inputs import hand_photo, landmarks
from classifier.models import checkpoint
from classifier.serving.predict import Predictor, read_pixels


def _hand(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(21, 3)).astype(np.float32) * 20 + 200
    pts[landmarks.MIDDLE_KNUCKLE, :2] = pts[landmarks.WRIST, :2] + (5, -60)  # a hand's size apart
    return pts


def test_normalizing_ignores_where_the_hand_is() -> None:
    pts = _hand()
    moved = pts + np.array([130, -45, 7], np.float32)
    assert np.allclose(landmarks.hand_row(pts, "Right"), landmarks.hand_row(moved, "Right"), atol=1e-5)


def test_normalizing_ignores_how_large_the_hand_is() -> None:
    pts = _hand()
    assert np.allclose(landmarks.hand_row(pts, "Right"), landmarks.hand_row(pts * 2.5, "Right"), atol=1e-5)


def test_a_left_hand_reads_as_the_mirrored_right_one() -> None:
    pts = _hand()
    mirrored = pts.copy()
    mirrored[:, 0] = -mirrored[:, 0]
    assert np.allclose(landmarks.hand_row(pts, "Right"), landmarks.hand_row(mirrored, "Left"), atol=1e-5)


def test_the_wrist_is_the_origin_and_the_knuckle_one_unit_away() -> None:
    p = landmarks.hand_row(_hand(1), "Right").reshape(21, 3)
    assert np.allclose(p[landmarks.WRIST], 0)
    assert np.linalg.norm(p[landmarks.MIDDLE_KNUCKLE, :2]) == pytest.approx(1.0)


def test_the_square_frames_the_hand_inside_the_picture() -> None:
    hand = landmarks.Hand(_hand(), "Right", 0.9)
    x0, y0, x1, y1 = hand.square(640, 480)
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert x0 <= hand.points[:, 0].min()
    assert x1 >= hand.points[:, 0].max()
    assert y0 <= hand.points[:, 1].min()
    assert y1 >= hand.points[:, 1].max()
    near_edge = landmarks.Hand(_hand() - 190, "Right", 0.9).square(640, 480)
    assert min(near_edge) >= 0


def test_mediapipe_finds_a_real_hand_and_not_a_wall(real_hands_dir: Path) -> None:
    finder = landmarks.finder()
    assert finder is not None
    photo = Image.open(real_hands_dir / "L" / "vedant_2.jpg")
    hand = finder.find(photo)
    assert hand is not None
    assert hand.points.shape == (21, 3)
    assert 0 <= hand.points[:, 0].min()
    assert hand.points[:, 0].max() <= photo.width
    assert finder.find(Image.new("RGB", (640, 480), (200, 190, 170))) is None


def test_when_mediapipe_cannot_start_the_reason_and_its_mend_are_said(monkeypatch: pytest.MonkeyPatch,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    def no_libgl(*args, **kwargs):
        raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(landmarks, "HandFinder", no_libgl)
    landmarks._loaded.cache_clear()
    try:
        with caplog.at_level("WARNING"):
            assert landmarks.finder() is None
        assert landmarks.MEND in landmarks.unavailable()
        assert "hand landmarks are off" in caplog.text
    finally:
        landmarks._loaded.cache_clear()


def test_when_mediapipe_starts_nothing_is_said() -> None:
    assert landmarks.unavailable() == ""


def test_a_real_photo_is_read_from_the_square_around_its_landmarks(real_hands_dir: Path) -> None:
    prepared = hand_photo.hand_photo(real_hands_dir / "L" / "vedant_2.jpg")
    assert prepared.hand is not None
    assert prepared.note == "around the hand's landmarks"


def test_the_pixel_model_reads_a_real_photo_around_its_landmarks_second(real_hands_dir: Path) -> None:
    pixel = Predictor(checkpoint.load(paths.weights_path("signs")))
    prepared = hand_photo.hand_photo(real_hands_dir / "L" / "vedant_2.jpg", None, pixel.confidence)
    reading = read_pixels(pixel, prepared, hand_read=True)
    assert (reading.first, reading.prepared.note) == (False, "around the hand's landmarks")


def _noise(low: int, high: int, grey: bool = False) -> Image.Image:
    rng = np.random.default_rng(0)
    values = rng.integers(low, high + 1, (48, 64, 1 if grey else 3)).astype(np.uint8)
    return Image.fromarray(np.repeat(values, 3, axis=2) if grey else values)


def test_a_picture_is_looked_at_as_given_first() -> None:
    picture = _noise(0, 255)
    assert next(landmarks.looks(picture)) is picture


def test_a_colour_picture_using_every_level_has_no_other_look() -> None:
    assert len(list(landmarks.looks(_noise(0, 255)))) == 1


def test_a_dim_picture_is_also_looked_at_with_its_levels_stretched() -> None:
    stretched = list(landmarks.looks(_noise(0, 60)))[1]
    assert np.asarray(stretched).max() == 255


def test_a_grey_picture_is_last_looked_at_coloured_as_skin() -> None:
    tinted = np.asarray(list(landmarks.looks(_noise(0, 255, grey=True)))[-1], np.float32)
    assert tinted[..., 0].mean() > tinted[..., 1].mean() > tinted[..., 2].mean()


def test_a_hand_in_a_grey_photo_is_found(real_hands_dir: Path) -> None:
    """A photo MediaPipe finds no hand in once made grey, as given or with borders: coloured as skin, it does."""
    picture = ImageOps.grayscale(hand_photo.photo_picture(real_hands_dir / "A" / "massey_hand2_1.jpg")).convert("RGB")
    finder = landmarks.finder()
    assert finder is not None
    hand = finder.find(picture)
    assert hand is not None
    assert Predictor(checkpoint.load(paths.weights_path("handshape"))).answer(hand.row).best[0] == "A"
