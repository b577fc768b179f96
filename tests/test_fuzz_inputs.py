"""Property-based fuzzing (Hypothesis) of every function that takes a user's picture: whatever the
size, aspect ratio, mode, format or damage, and whatever box comes with it, the answer is a result
or the project's own input error with a message, within a time bound.

Seeded and bounded (`FUZZ`), with no example database, so CI runs the same examples in bounded time.
The same inputs through the running app are in `test_demo_api.py`.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from PIL import Image

from classifier.inputs import DRAWING, HAND_PHOTO, Prepared, hand_photo, imageprep

FUZZ = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SECONDS = 20.0  # one picture's whole pipeline, a generous bound for a shared 2-core machine
MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]
FORMATS = {"PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}, "JPEG": {"L", "RGB", "CMYK"},
           "GIF": {"1", "L", "P"}, "TIFF": {"1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"},
           "WEBP": {"RGB", "RGBA"}, "BMP": {"1", "L", "P", "RGB"}}

# Sizes: ordinary ones, thin strips (the shape that once took the server down), tiny ones, and
# pictures past the pixel limit (1-bit, so they are small files).
sizes = st.one_of(
    st.tuples(st.integers(16, 900), st.integers(16, 900)),
    st.tuples(st.integers(1, 12), st.integers(500, 6000)),
    st.tuples(st.integers(500, 6000), st.integers(1, 12)),
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    st.tuples(st.integers(100, 400), st.integers(1601, 3000)),
)


def _picture(w: int, h: int, mode: str, rng: np.random.Generator) -> Image.Image:
    noise = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    img = Image.fromarray(noise, "RGBA")
    if mode == "I;16":
        return Image.fromarray(noise[:, :, 0].astype(np.uint16) * 257)
    if mode == "I":
        return Image.fromarray(noise[:, :, 0].astype(np.int32) * 100)
    if mode == "F":
        return Image.fromarray(noise[:, :, 0].astype(np.float32) / rng.choice([1.0, 255.0]))
    return img.convert(mode)


class File(bytes):
    """A picture file's bytes, shown in a failure report by what they are, not byte by byte."""

    what = ""

    def __repr__(self) -> str:
        return f"<{self.what}: {len(self)} bytes>"


def _file(data: bytes, what: str) -> File:
    f = File(data)
    f.what = what
    return f


@st.composite
def encoded_pictures(draw: st.DrawFn) -> File:
    """Bytes of a picture file: any size and mode, any format that takes the mode, maybe animated,
    maybe cut short, maybe not a picture at all."""
    kind = draw(st.sampled_from(["picture", "picture", "picture", "animated", "truncated", "junk", "huge"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "junk":
        return _file(draw(st.binary(min_size=0, max_size=2048)), "junk")
    if kind == "huge":  # past the pixel limit, a few kB as a 1-bit PNG
        buf = io.BytesIO()
        w, h = draw(st.integers(5000, 9000)), draw(st.integers(5000, 9000))
        Image.new("1", (w, h)).save(buf, "PNG")
        return _file(buf.getvalue(), f"1-bit PNG {w}x{h}")
    w, h = draw(sizes)
    mode = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from(sorted(f for f, modes in FORMATS.items() if mode in modes)))
    img = _picture(w, h, mode, rng)
    buf = io.BytesIO()
    if kind == "animated" and fmt in ("GIF", "PNG", "WEBP"):
        img.save(buf, fmt, save_all=True, append_images=[img.transpose(Image.Transpose.ROTATE_180)])
    elif mode == "P" and fmt in ("PNG", "GIF"):
        img.save(buf, fmt, transparency=int(rng.integers(0, 256)))
    else:
        img.save(buf, fmt)
    data = buf.getvalue()
    if kind == "truncated":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    return _file(data, f"{kind} {fmt} {mode} {w}x{h}")


boxes = st.one_of(
    st.none(), st.just(""),
    st.text(max_size=40),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6),
    st.lists(st.integers(-10**9, 10**9), min_size=4, max_size=4),
    st.lists(st.floats(0, 1), min_size=4, max_size=4).map(lambda v: ",".join(map(str, v))),
    st.lists(st.floats(-2000, 4000, allow_nan=False), min_size=4, max_size=4),
)


def _within_bounds(call, *args) -> object:
    start = time.monotonic()
    try:
        out = call(*args)
    except imageprep.ImageInputError as e:
        assert str(e), "an input error says why"
        out = e
    assert time.monotonic() - start < SECONDS
    return out


@seed(15)
@FUZZ
@given(encoded_pictures(), boxes)
def test_any_photo_and_box_give_an_answer_or_a_clear_message(data: File, box: object) -> None:
    out = _within_bounds(HAND_PHOTO.prepare, bytes(data), box)
    if isinstance(out, Prepared):
        assert out.row.shape == (28, 28)


@seed(15)
@FUZZ
@given(encoded_pictures())
def test_any_drawing_file_gives_an_answer_or_a_clear_message(data: File) -> None:
    def drawing(payload: bytes) -> Prepared | None:
        with Image.open(io.BytesIO(payload)) as img:  # as Gradio hands a drawing over: decoded
            DRAWING.limits.check(*img.size)
            return DRAWING.prepare(np.asarray(img.convert("RGBA")))

    try:
        out = _within_bounds(drawing, bytes(data))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        # Not a picture Pillow decodes: Gradio's own decoding fails before the pipeline, and the app
        # answers that (`classify_tab.explain_undecodable`); the pipeline never sees it.
        assert not isinstance(e, imageprep.ImageInputError)
        return
    if isinstance(out, Prepared):
        assert out.row.shape == (28, 28)


def _full(shape: tuple[int, ...], dtype: type, fill: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # NaN cast to an integer type: whatever it gives is a fine input
        return np.full(shape, fill).astype(dtype)


frames = st.builds(
    _full,
    st.one_of(st.tuples(st.integers(0, 3000), st.integers(0, 3000)).filter(lambda s: s[0] * s[1] <= 2_000_000),
              st.tuples(st.integers(0, 700), st.integers(0, 700), st.integers(0, 5)),
              st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))),
    st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int64, np.bool_]),
    st.floats(-1e6, 1e6) | st.just(float("nan")),
)


@seed(15)
@FUZZ
@given(frames)
def test_any_webcam_frame_gives_an_answer_or_a_clear_message(frame: np.ndarray) -> None:
    _within_bounds(HAND_PHOTO.prepare, frame)


@seed(15)
@FUZZ
@given(frames)
def test_any_drawing_array_gives_an_answer_or_a_clear_message(array: np.ndarray) -> None:
    _within_bounds(DRAWING.prepare, array)


@pytest.mark.parametrize("w,h", [(4000, 1), (1, 4000), (3000, 2), (2000, 10), (10, 2000), (6001, 1500)])
def test_strips_are_refused_before_any_work(w: int, h: int) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (120, 100, 90)).save(buf, "PNG")
    start = time.monotonic()
    with pytest.raises(imageprep.ImageInputError, match=f"{w} x {h} pixels; a photo of a hand needs"):
        hand_photo.hand_photo(buf.getvalue())
    assert time.monotonic() - start < 1.0
