"""classifier.inputs.imageprep: drawings to MNIST-style digits, photos to Sign Language MNIST-style images."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifier.inputs import imageprep as ip

SEVEN = [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]  # a "7" as a polyline in canvas fractions


def draw(points=SEVEN, canvas=(400, 400), box=(0, 0, 400, 400), width=14, ink=(0, 0, 0, 255),
         bg=(255, 255, 255, 255), mode="RGBA") -> np.ndarray:
    img = Image.new(mode, canvas, bg if mode != "L" else bg[0])
    x0, y0, x1, y1 = box
    pts = [(x0 + px * (x1 - x0), y0 + py * (y1 - y0)) for px, py in points]
    ImageDraw.Draw(img).line(pts, fill=ink if mode != "L" else ink[0], width=width, joint="curve")
    return np.asarray(img)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.astype(float).ravel(), b.astype(float).ravel())[0, 1])


def com(img: np.ndarray) -> tuple[float, float]:
    w = img.astype(float)
    return (w.sum(1) * np.arange(28)).sum() / w.sum(), (w.sum(0) * np.arange(28)).sum() / w.sum()


REFERENCE = ip.sketch_to_digit(draw())


def test_reference_looks_like_mnist() -> None:
    ref = REFERENCE
    assert ref.shape == (28, 28)
    assert ref.dtype == np.uint8
    rows, cols = np.flatnonzero(ref.max(1) > 30), np.flatnonzero(ref.max(0) > 30)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (19, 20, 21)
    cy, cx = com(ref)
    assert abs(cy - 14) <= 0.6
    assert abs(cx - 14) <= 0.6
    assert ref.max() == 255
    assert ref[0].max() == 0
    assert ref[:, 0].max() == 0  # light ink, black border
    assert 1.2 <= ip.stroke_width(ref / 255) <= 2.8


@pytest.mark.parametrize("case,image", [
    ("off-centre small", draw(box=(300, 20, 380, 100))),
    ("tiny", draw(box=(5, 5, 25, 25), width=2)),
    ("huge canvas", draw(canvas=(2000, 1500), box=(100, 100, 1400, 1400), width=60)),
    ("thin hairline", draw(canvas=(1000, 1000), box=(100, 100, 900, 900), width=2)),
    ("thick brush", draw(width=60, box=(40, 40, 360, 360))),
    ("inverted", draw(ink=(255, 255, 255, 255), bg=(0, 0, 0, 255))),
    ("transparent layer", draw(bg=(0, 0, 0, 0))),
    ("white on transparent", draw(ink=(255, 255, 255, 255), bg=(0, 0, 0, 0))),
    ("colour on grey", draw(ink=(200, 30, 30, 255), bg=(128, 128, 128, 255))),
    ("greyscale L", draw(mode="L")),
    ("non-square canvas", draw(canvas=(900, 300), box=(600, 0, 900, 300))),
])
def test_variants_match_reference(case: str, image: np.ndarray) -> None:
    out = ip.sketch_to_digit(image)
    assert out is not None, case
    assert corr(out, REFERENCE) > 0.8, case
    cy, cx = com(out)
    assert abs(cy - 14) <= 1, case
    assert abs(cx - 14) <= 1, case


def test_stroke_width_is_evened_out() -> None:
    thin = ip.sketch_to_digit(draw(canvas=(1000, 1000), box=(100, 100, 900, 900), width=2))
    thick = ip.sketch_to_digit(draw(width=70, box=(40, 40, 360, 360)))
    for out in (thin, thick):
        assert 1.2 <= ip.stroke_width(out / 255) <= 3.5


def test_huge_drawings_are_shrunk_or_refused() -> None:
    big = draw(canvas=(4000, 3000), box=(500, 200, 3000, 2800), width=150)
    assert corr(ip.sketch_to_digit(big), REFERENCE) > 0.8
    with pytest.raises(ip.ImageInputError, match="megapixels"):
        ip.sketch_to_digit(np.zeros((8000, 6000), np.uint8))


def test_float_and_16bit_arrays() -> None:
    base = draw(mode="L").astype(np.float64) / 255
    assert corr(ip.sketch_to_digit(base), REFERENCE) > 0.95
    assert corr(ip.sketch_to_digit((base * 65535).astype(np.uint16)), REFERENCE) > 0.95


@pytest.mark.parametrize("blank", [
    np.full((400, 400, 4), 255, np.uint8), np.zeros((400, 400, 4), np.uint8),
    np.zeros((1, 1), np.uint8), np.full((50, 50, 3), 180, np.uint8),
])
def test_empty_canvas_gives_none(blank: np.ndarray) -> None:
    assert ip.sketch_to_digit(blank) is None


def test_faint_noise_is_not_ink() -> None:
    rng = np.random.default_rng(0)
    paper = (245 + rng.integers(-8, 8, size=(300, 300))).astype(np.uint8)
    assert ip.sketch_to_digit(paper) is None


def test_sketch_value_dict() -> None:
    img = draw()
    assert ip.sketch_layers_to_image({"background": None, "layers": [], "composite": img}) is img
    layered = ip.sketch_layers_to_image({"background": None, "layers": [draw(bg=(0, 0, 0, 0))], "composite": None})
    assert corr(ip.sketch_to_digit(layered), REFERENCE) > 0.95
    assert ip.sketch_layers_to_image(None) is None
    # Two layers holding one stroke each add up to the whole digit.
    top = draw(points=SEVEN[:2], bg=(0, 0, 0, 0))
    diagonal = draw(points=SEVEN[1:], bg=(0, 0, 0, 0))
    both = ip.sketch_layers_to_image({"background": None, "layers": [top, diagonal], "composite": None})
    assert corr(ip.sketch_to_digit(both), REFERENCE) > 0.95
    with pytest.raises(ip.ImageInputError, match="differ in size"):
        ip.sketch_layers_to_image({"layers": [top, draw(canvas=(300, 300), bg=(0, 0, 0, 0))]})


def test_bad_arrays_are_refused_with_message() -> None:
    for bad in (np.zeros((4, 4, 5)), np.zeros((2, 2, 2, 2)), np.zeros((0, 0))):
        with pytest.raises(ip.ImageInputError, match="Expected a greyscale, RGB or RGBA image"):
            ip.ink_map(bad)


# ------------------------------------------------------------------------------------ photos

def _hand(size=(640, 480), mode="RGB") -> Image.Image:
    """A bright blob on a darker background, left of centre: stands in for a hand photo."""
    img = Image.new("RGB", size, (60, 70, 80))
    w, h = size
    ImageDraw.Draw(img).ellipse((w * 0.35, h * 0.2, w * 0.6, h * 0.8), fill=(230, 190, 160))
    return img.convert(mode) if mode != "RGB" else img


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def photo_to_sign(image, box=None):
    """A square of a photo (its centre one unless `box` is given) as the Sign Language MNIST-style 28x28."""
    return ip.square_to_sign(ip.grey_photo(image), box)


PHOTO_REF = photo_to_sign(_hand())


def test_photo_becomes_28x28_with_the_data_sets_contrast() -> None:
    from classifier.models import preprocess

    for photo in (_hand(), Image.eval(_hand(), lambda v: 100 + v // 8)):  # normal, and dim and flat
        out = photo_to_sign(photo)
        assert out.shape == (28, 28)
        assert out.dtype == np.uint8
        assert abs(out.mean() - preprocess.SIGNS_IMAGE_MEAN) < 4
        assert abs(out.std() - preprocess.SIGNS_IMAGE_STD) < 4
    assert photo_to_sign(Image.new("RGB", (50, 50), (7, 7, 7))).std() == 0  # flat stays flat


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGB"), ("JPEG", "RGB"), ("PNG", "L"), ("PNG", "P"),
                                      ("JPEG", "CMYK"), ("PNG", "RGBA"), ("WEBP", "RGB"), ("BMP", "RGB"),
                                      ("TIFF", "RGB"), ("GIF", "P")])
def test_photo_modes_and_formats(fmt: str, mode: str) -> None:
    out = photo_to_sign(ip.open_image(_encode(_hand(mode=mode), fmt)))
    assert corr(out, PHOTO_REF) > 0.9


def test_photo_16bit() -> None:
    grey = np.asarray(_hand().convert("L"), dtype=np.uint16) * 257
    img = Image.fromarray(grey)
    assert img.mode.startswith("I")
    out = photo_to_sign(ip.open_image(_encode(img, "PNG")))
    assert corr(out, PHOTO_REF) > 0.9


def test_photo_exif_orientation() -> None:
    upright = _hand()
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a sideways camera would store
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    out = photo_to_sign(ip.open_image(_encode(stored, "JPEG", exif=exif.tobytes())))
    assert corr(out, PHOTO_REF) > 0.9
    sideways = photo_to_sign(ip.open_image(_encode(stored, "JPEG")))
    assert corr(sideways, PHOTO_REF) < 0.9


def test_photo_animated_gif_uses_first_frame() -> None:
    frames = [_hand().convert("P"), Image.new("P", (640, 480), 0)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    out = photo_to_sign(ip.open_image(buf.getvalue()))
    assert corr(out, PHOTO_REF) > 0.9


def test_photo_tiny_and_flat() -> None:
    assert photo_to_sign(ip.open_image(_encode(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"))).shape == (28, 28)
    assert photo_to_sign(np.zeros((3, 7), np.uint8)).shape == (28, 28)


def test_photo_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ip.ImageInputError, match="not an image"):
        ip.open_image(b"this is a text file, not a picture")
    jpeg = _encode(_hand(), "JPEG")
    with pytest.raises(ip.ImageInputError, match="damaged or truncated"):
        ip.open_image(jpeg[: len(jpeg) // 3])
    big = tmp_path / "big.png"
    Image.new("L", (8000, 6000)).save(big)
    with pytest.raises(ip.ImageInputError, match="megapixels"):
        ip.open_image(big)


# ------------------------------------------------------------------------ on real MNIST digits

@pytest.mark.realdata
def test_redrawn_mnist_digits_come_back_as_themselves(real_data_dir: Path) -> None:
    """MNIST test digits, redrawn as a user would (big, black on white, off-centre, on a canvas of
    another size), come back out of preprocessing close to the original and still classified right."""
    from bench.accuracy import redraw_as_user
    from classifier import data
    from classifier.models import checkpoint
    from classifier.serving.predict import Predictor

    x, y = data.load("digits", "test", real_data_dir)
    predictor = Predictor(checkpoint.load(Path(__file__).resolve().parents[1] / "weights/digits.safetensors"))
    rng = np.random.default_rng(0)
    correlations, outs = [], []
    for i in range(300):
        digit = x[i].numpy()
        out = ip.sketch_to_digit(redraw_as_user(digit, rng))
        correlations.append(corr(out, digit))
        outs.append(out)
    probs = predictor.probabilities(np.stack(outs))
    accuracy = float((probs.argmax(1) == y[:300].numpy()).mean())
    assert np.median(correlations) > 0.85
    assert accuracy >= 0.97


def _seven_on(background: int, ink: int, size: int = 400) -> np.ndarray:
    img = Image.new("L", (size, size), background)
    ImageDraw.Draw(img).line([(80, 60), (320, 60), (180, 360)], fill=ink, width=14)
    return np.asarray(img)


@pytest.mark.parametrize("background,ink", [(255, 0), (255, 190), (255, 215), (0, 255), (30, 90), (200, 150)])
def test_faint_or_inverted_ink_is_found_by_its_contrast(background: int, ink: int) -> None:
    """Faint grey on white, white on black, dim on dark: each comes out as the same clean digit."""
    reference = ip.sketch_to_digit(_seven_on(255, 0))
    out = ip.sketch_to_digit(_seven_on(background, ink))
    assert out is not None
    assert corr(out, reference) > 0.95


def test_paper_noise_alone_is_not_ink() -> None:
    noise = np.random.default_rng(0).normal(235, 3, size=(300, 300)).clip(0, 255).astype(np.uint8)
    assert ip.sketch_to_digit(noise) is None


def _unevenly_lit(image: np.ndarray, darkest: float) -> np.ndarray:
    """A picture as photographed with light falling off left to right, to `darkest` of its brightest."""
    grey = image[..., :3].mean(2) if image.ndim == 3 else image.astype(float)
    light = np.linspace(1.0, darkest, grey.shape[1])[None, :]
    return np.round(grey * 0.9 * light).astype(np.uint8)


@pytest.mark.parametrize("darkest", [0.5, 0.3])
def test_a_digit_on_unevenly_lit_paper_comes_out_clean(darkest: float) -> None:
    """The paper's shadowed side is paper, not ink: the 28x28 is the digit as on an even page."""
    out = ip.sketch_to_digit(_unevenly_lit(draw(canvas=(640, 480), box=(200, 100, 440, 380)), darkest))
    assert corr(out, REFERENCE) > 0.8


def test_evenly_lit_drawings_keep_one_background_level() -> None:
    """A clean canvas, however thick its strokes, is read against one level: its median."""
    grey = draw(width=70, box=(40, 40, 360, 360))[..., :3].mean(2) / 255
    assert isinstance(ip._background(grey, np.ones_like(grey, dtype=bool), float(np.median(grey))), float)

