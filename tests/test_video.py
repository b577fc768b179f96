"""Video files: their frames at a bounded rate, and clear refusals of what is not a readable video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.inputs import video


def _clip(path: Path, n: int = 30, fps: float = 30, size: tuple[int, int] = (160, 120)) -> Path:
    video.write(path, [np.full((size[1], size[0], 3), 8 * (i % 30), np.uint8) for i in range(n)], fps)
    return path


def test_frames_come_at_most_at_the_limits_rate(tmp_path: Path) -> None:
    frames = list(video.frames(_clip(tmp_path / "a.mp4", n=60, fps=30)))   # 2 s
    assert len(frames) == 30


def test_each_frame_says_its_time(tmp_path: Path) -> None:
    times = [t for t, _ in video.frames(_clip(tmp_path / "a.mp4", n=30, fps=30))]
    assert times[1] == pytest.approx(1 / 15, abs=1e-6)


def test_frames_are_rgb(tmp_path: Path) -> None:
    path = tmp_path / "red.mp4"
    video.write(path, [np.tile(np.array([220, 20, 20], np.uint8), (64, 64, 1))] * 5, 15)
    _, rgb = next(video.frames(path))
    assert rgb[32, 32, 0] > 150 > rgb[32, 32, 2]


def test_large_frames_are_scaled_down(tmp_path: Path) -> None:
    _, rgb = next(video.frames(_clip(tmp_path / "big.mp4", n=3, size=(1280, 720))))
    assert max(rgb.shape[:2]) == video.LIMITS.max_side


def test_a_video_over_the_length_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(video.VideoError, match="at most 1 s"):
        list(video.frames(_clip(tmp_path / "long.mp4", n=90, fps=30), video.VideoLimits(max_seconds=1)))


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(video.VideoError, match="MB"):
        list(video.frames(_clip(tmp_path / "a.mp4"), video.VideoLimits(max_bytes=100)))


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"these are not the frames you are looking for" * 100)
    with pytest.raises(video.VideoError, match="not a video"):
        list(video.frames(path))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(video.VideoError):
        list(video.frames(tmp_path / "gone.mp4"))
