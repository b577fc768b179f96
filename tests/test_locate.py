"""classifier.inputs.locate, classifier.inputs.photos and the hand-photo pipeline: windows, boxes, finding the hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from classifier import data, paths
from classifier.inputs import DRAWING, HAND_PHOTO, hand_photo, imageprep, locate, photos
from classifier.inputs import kind as kinds
from classifier.models import checkpoint
from classifier.serving.predict import Predictor, read_pixels


def _grid(w: int, h: int) -> tuple[np.ndarray, torch.Tensor]:
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w, 3)).astype(np.uint8))
    grey, scale = locate.grey_work_copy(picture)
    return locate.window_grid(grey, scale)


@pytest.mark.parametrize("w,h", [(640, 480), (480, 640), (300, 300)])
def test_the_window_grid_covers_the_picture_with_squares(w: int, h: int) -> None:
    boxes, windows = _grid(w, h)
    assert windows.shape == (len(boxes), 28, 28)
    sides = boxes[:, 2] - boxes[:, 0]
    assert np.allclose(sides, boxes[:, 3] - boxes[:, 1], rtol=0.03)           # squares
    assert boxes[:, :2].min() >= -1e-3
    assert boxes[:, 2].max() <= w + 1
    assert boxes[:, 3].max() <= h + 1
    assert sides.max() >= 0.97 * min(w, h)
    assert sides.min() <= 0.31 * min(w, h)  # the whole frame to 30% of it
    # Every place is near a window: the corners too.
    for corner in ((0, 0), (w, h), (w, 0)):
        near = np.hypot(*(boxes[:, [0, 1]] - (np.array(corner) - sides[:, None] * (np.array(corner) > 0))).T)
        assert near.min() < 0.1 * min(w, h)
    # Each window is its part of the picture, brightness matched.
    assert torch.allclose(windows.reshape(len(windows), -1).mean(1), torch.tensor(159.3), atol=2.0)


def test_a_window_shows_its_part_of_the_picture() -> None:
    """A dark square on a light picture: the grid window on it is dark in the middle, as the crop is."""
    picture = np.full((480, 640, 3), 220, np.uint8)
    picture[100:300, 200:400] = 20
    grey, scale = locate.grey_work_copy(Image.fromarray(picture))
    boxes, windows = locate.window_grid(grey, scale)
    overlap = photos.iou_many(boxes, (200, 100, 400, 300))
    i = int(np.argmax(overlap))
    assert overlap[i] > 0.8
    cut = locate.crops(grey, boxes[i:i + 1], scale)[0]
    assert float((windows[i] - cut).abs().mean()) < 12  # the two ways of cutting agree


def test_photos_are_made_with_their_true_box() -> None:
    rng = np.random.default_rng(0)
    hand = np.zeros((28, 28), np.uint8)
    hand[4:24, 4:24] = 250
    natural = [np.full((300, 300, 3), 40, np.uint8)]
    for kind in photos.KINDS:
        pic = photos.make(hand, kind, rng, natural)
        upright = np.asarray(locate.upright(pic.image).convert("L"), dtype=np.float32)
        x0, y0, x1, y1 = pic.box
        if kind == "fill":
            assert (x0, y0) == (0, 0)
            assert (x1, y1) == upright.shape[::-1]
        else:
            assert 0.35 <= (x1 - x0) / min(upright.shape) <= 0.85
        inner = upright[y0 + (y1 - y0) // 4:y1 - (y1 - y0) // 4, x0 + (x1 - x0) // 4:x1 - (x1 - x0) // 4]
        assert inner.mean() > upright.mean()  # the bright square is where the box says
    assert photos.iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert photos.iou_many(np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), (5, 0, 15, 10)).tolist() == [1 / 3, 0.0]


def test_parse_box() -> None:
    assert hand_photo.parse_box("", 100, 50) is None
    assert hand_photo.parse_box(None, 100, 50) is None
    assert hand_photo.parse_box("10, 5, 60, 45", 100, 50) == (10, 5, 60, 45)
    assert hand_photo.parse_box([0.1, 0.2, 0.5, 1.0], 100, 50) == (10, 10, 50, 50)   # shares
    assert hand_photo.parse_box("60 45 10 5", 100, 50) == (10, 5, 60, 45)            # any two corners
    assert hand_photo.parse_box("-20,-20,500,500", 100, 50) == (0, 0, 100, 50)       # clipped
    for bad in ("1,2,3", "a,b,c,d", "5,5,5.5,90", "nan,1,2,3"):
        with pytest.raises(imageprep.ImageInputError):
            hand_photo.parse_box(bad, 100, 50)


def test_a_given_box_is_the_square_classified() -> None:
    picture = Image.fromarray(np.random.default_rng(1).integers(0, 255, (200, 300, 3)).astype(np.uint8))
    prepared = hand_photo.hand_photo(picture, "50,20,170,140")
    assert prepared.box.as_tuple() == (50, 20, 170, 140)
    assert prepared.note == "your box"
    assert np.array_equal(prepared.row, imageprep.square_to_sign(imageprep.grey_photo(picture), (50, 20, 170, 140)))


def test_without_a_locator_the_centre_square_is_used_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hand_photo, "hand_locator", lambda: None)
    picture = Image.new("RGB", (300, 200), (90, 90, 90))
    prepared = hand_photo.hand_photo(picture)
    assert prepared.box.as_tuple() == (50, 0, 250, 200)
    assert not prepared.box.found
    assert "centre square" in prepared.note


@pytest.fixture(scope="module")
def sign_test_images(real_data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    return data.load("signs", "test", real_data_dir)


def test_the_shipped_locator_finds_hands_on_plain_backgrounds(sign_test_images) -> None:
    """Pictures made from test rows: the box found overlaps the true one (IoU >= 0.7 on average)."""
    locator = hand_photo.hand_locator()
    assert locator is not None, "weights/hand_locator.safetensors is missing: python train_locator.py"
    x, _ = sign_test_images
    rng = np.random.default_rng(123)
    ious = []
    for _ in range(20):
        pic = photos.make(x[int(rng.integers(len(x)))].numpy(), "plain", rng)
        found = locator.locate(locate.upright(pic.image).convert("RGB"))
        ious.append(photos.iou(found.as_tuple(), pic.box))
    assert np.mean(ious) >= 0.7, ious


def test_calibration_pictures_are_each_kind_of_different_rows() -> None:
    rows = np.stack([np.full((28, 28), 10 * i, np.uint8) for i in range(5)])
    pictures = list(photos.calibration_pictures(rows, per_kind=3))
    assert len(pictures) == 3 * len(photos.CALIBRATION_KINDS)
    again = list(photos.calibration_pictures(rows, per_kind=3))
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(pictures, again, strict=True))
    # The "enlarged" kind is the row itself, bigger: three different rows, none twice.
    shades = {int(np.asarray(p.convert("L")).mean() / 10 + 0.5) for p in pictures[:3]}
    assert len(shades) == 3
    assert len(list(photos.calibration_pictures(rows[:2], per_kind=3))) == 2 * len(photos.CALIBRATION_KINDS)


def test_picture_squares_are_made_once_and_only_for_photos(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(kinds, "_made", {})
    monkeypatch.setattr(HAND_PHOTO, "calibration_makers",
                        lambda: {"pictures": lambda rows: calls.append(1) or [rows[:2]]})
    rows = np.zeros((4, 28, 28), np.uint8)
    assert not HAND_PHOTO.calibration_ready(rows)
    first = HAND_PHOTO.picture_squares(rows)
    assert HAND_PHOTO.picture_squares(rows) is first
    assert calls == [1]
    assert HAND_PHOTO.calibration_ready(rows)
    assert not HAND_PHOTO.calibration_ready(rows + 1)
    assert DRAWING.picture_squares(rows) is None


def test_the_squares_weighed_are_the_locators_whatever_the_judge(sign_test_images) -> None:
    """A photo's pipeline hands on every square the locator weighed (the one shown among them), the
    same with or without the model's say in which is shown; a box given by the user is judged alone."""
    x, _ = sign_test_images
    pic = photos.make(x[3].numpy(), "plain", np.random.default_rng(5))
    alone = hand_photo.hand_photo(pic.image)
    judged = hand_photo.hand_photo(pic.image, None, lambda s: s.reshape(len(s), -1).mean(1) / 255.0)
    assert alone.box.found
    assert 1 < len(alone.squares) <= hand_photo.JUDGED
    assert np.array_equal(alone.squares, judged.squares)
    assert any(np.array_equal(judged.row, s) for s in judged.squares)
    assert hand_photo.hand_photo(pic.image, ",".join(map(str, pic.box))).squares is None
    # The real pictures the check is calibrated on go through the same squares.
    made = hand_photo.calibration_squares(x[:1].numpy())
    assert len(made) == len(photos.CALIBRATION_KINDS)
    assert all(s.ndim == 3 and s.shape[1:] == (28, 28) for s in made)


def test_a_picture_like_the_pixel_data_is_read_from_the_locators_squares_where_mediapipe_finds_a_hand(
        sign_test_images) -> None:
    """An enlarged Sign Language MNIST picture in which MediaPipe finds a hand: the locator frames it
    too, and the pixel model's reading of the locator's squares comes first; a live frame is read
    around its landmarks only."""
    x, _ = sign_test_images
    pixel = Predictor(checkpoint.load(paths.weights_path("signs")))
    rng = np.random.default_rng(0)
    for _ in range(80):
        pic = photos.make(x[int(rng.integers(len(x)))].numpy(), "fill", rng)
        prepared = hand_photo.hand_photo(pic.image, None, pixel.confidence)
        if prepared.hand is not None:
            break
    else:
        pytest.fail("MediaPipe found no hand in 80 pictures made from Sign Language MNIST")
    reading = read_pixels(pixel, prepared, hand_read=True)
    assert reading.first
    assert reading.prepared is prepared.framed
    assert hand_photo.hand_photo(pic.image, frame=True).framed is None
