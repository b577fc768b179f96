"""Video files as a phone or a webcam records them (mp4, webm, mov, ...): their frames, upright RGB,
at most `VideoLimits.fps` a second, with each frame's time. Decoded by OpenCV's FFmpeg (OpenCV
comes with MediaPipe). A file that is not a video, is empty, too long or too large is refused with a
`VideoError` that says why; nothing is decoded past the limits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .imageprep import ImageInputError


class VideoError(ImageInputError):
    """A video the app cannot read: the message says why, for the person who sent it."""


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int = 50_000_000
    max_seconds: float = 60.0
    fps: float = 15.0           # frames read a second at most (the others are skipped)
    max_side: int = 640         # frames larger than this are scaled down (landmarks need no more)


LIMITS = VideoLimits()


def frames(path: str | os.PathLike[str], limits: VideoLimits = LIMITS) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds from the start, H x W x 3 uint8 RGB) for the frames of the video at `path`, at most
    `limits.fps` a second. Raises `VideoError` before the first frame for a file it cannot read."""
    import cv2

    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError:
        raise VideoError("The video could not be read: no such file.") from None
    if size > limits.max_bytes:
        raise VideoError(f"A video may be at most {limits.max_bytes / 1e6:.0f} MB; this one is {size / 1e6:.1f} MB.")
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise VideoError("This file is not a video this app can read (try an mp4 or webm recording).")
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        if not (np.isfinite(fps) and 1 <= fps <= 1000):
            raise VideoError("This video does not say its frame rate; record it again as mp4 or webm.")
        if count > 0 and count / fps > limits.max_seconds + 1:
            raise VideoError(f"A video may be at most {limits.max_seconds:.0f} s long; this one is "
                             f"{count / fps:.0f} s.")
        step = 1 / limits.fps
        next_t, index, any_frame = 0.0, 0, False
        while True:
            ok = capture.grab()
            if not ok:
                break
            t = index / fps
            index += 1
            if t > limits.max_seconds:
                raise VideoError(f"A video may be at most {limits.max_seconds:.0f} s long.")
            if t + 1e-6 < next_t:
                continue
            ok, bgr = capture.retrieve()
            if not ok or bgr is None or bgr.ndim != 3:
                continue
            next_t = t + step
            any_frame = True
            h, w = bgr.shape[:2]
            if max(h, w) > limits.max_side:
                scale = limits.max_side / max(h, w)
                bgr = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))),
                                 interpolation=cv2.INTER_AREA)
            yield t, np.ascontiguousarray(bgr[:, :, ::-1])
        if not any_frame:
            raise VideoError("This video has no frame this app can decode (try an mp4 or webm recording).")
    finally:
        capture.release()


def write(path: str | os.PathLike[str], pictures: list[np.ndarray], fps: float) -> None:
    """Write RGB frames (all one size) as a video: mp4 (MPEG-4 part 2) or, for a .webm path, VP8.
    For tests and benches that make clips."""
    import cv2

    path = os.fspath(path)
    h, w = pictures[0].shape[:2]
    codec = "VP80" if path.endswith(".webm") else "mp4v"
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*codec), fps, (w, h))
    if not writer.isOpened():
        raise VideoError(f"OpenCV cannot write {codec} video here.")
    try:
        for rgb in pictures:
            writer.write(np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[:, :, ::-1]))
    finally:
        writer.release()
