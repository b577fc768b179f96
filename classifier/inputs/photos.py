"""Photo-like pictures made from Sign Language MNIST images, with the hand's true box known.

One generator serves users that must never share images: `train_locator.py` (training rows, the
"train" backgrounds), the "not sure" check's calibration (`calibration_pictures`: the calibration
half of the test rows, "train" backgrounds) and the benches (`bench/sign_photos.py`: test rows,
the "bench" backgrounds; `bench/ood.py`: the other half of the test rows). A
picture is a 28x28 sign image enlarged into a frame (filling it, or at 40-80% of its shorter
side at a random place on a plain or natural-photo background), then given what phones and
webcams add: a colour cast, brightness, a small rotation, JPEG, and sometimes an EXIF
orientation (pixels stored turned, the tag saying how to turn them back).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

KINDS = ("fill", "plain", "natural")

# Natural photos that packages ship (nothing is downloaded): matplotlib's always, scikit-image's when
# installed (requirements-dev). Split by name so the locator never trains on a bench background.
_TRAIN_BACKGROUNDS = ("grace_hopper", "Minduka_Present_Blue_Pack", "camera", "coffee", "brick", "grass", "coins",
                      "page", "moon", "text")
_BENCH_BACKGROUNDS = ("astronaut", "chelsea", "rocket", "motorcycle_left", "gravel", "hubble_deep_field",
                      "retina", "immunohistochemistry")


def backgrounds(split: str) -> list[np.ndarray]:
    """RGB uint8 natural photos for `split` ("train" or "bench")."""
    names = _TRAIN_BACKGROUNDS if split == "train" else _BENCH_BACKGROUNDS
    found: list[np.ndarray] = []
    import matplotlib
    sample = Path(matplotlib.get_data_path()) / "sample_data"
    for name in names:
        for ext in (".jpg", ".png"):
            if (sample / f"{name}{ext}").exists():
                found.append(np.asarray(Image.open(sample / f"{name}{ext}").convert("RGB")))
    try:
        import skimage.data
    except ImportError:
        return found
    for name in names:
        fetch = getattr(skimage.data, name, None)
        if fetch is None:
            continue
        try:
            img = np.asarray(fetch())
        except (OSError, ValueError):  # not shipped in this version's package: it would need a download
            continue
        if img.ndim == 2:
            img = np.stack([img] * 3, -1)
        found.append(img[..., :3].astype(np.uint8))
    return found


@dataclass(frozen=True)
class Picture:
    image: Image.Image                     # as a phone would hand it over (JPEG, maybe an EXIF orientation)
    box: tuple[int, int, int, int]         # the hand's square (x0, y0, x1, y1) in the upright picture
    kind: str
    data: bytes = b""                      # the JPEG file itself


def make(img28: np.ndarray, kind: str, rng: np.random.Generator, natural: list[np.ndarray] | None = None) -> Picture:
    """One photo-like picture of the sign image `img28` (uint8 28x28)."""
    if kind == "fill":
        side = int(rng.integers(200, 640))
        w = h = side
        size, x0, y0 = side, 0, 0
        canvas = np.zeros((h, w, 3))
    else:
        w, h = int(rng.integers(480, 800)), int(rng.integers(360, 600))
        if rng.random() < 0.4:
            w, h = h, w
        size = int(min(w, h) * rng.uniform(0.4, 0.8))
        x0, y0 = int(rng.integers(0, w - size + 1)), int(rng.integers(0, h - size + 1))
        if kind == "plain":
            colour = rng.integers(0, 256, 3).astype(np.float64)
            # A plain wall is never quite flat: a gentle gradient and sensor noise.
            ramp = np.linspace(-1, 1, w)[None, :, None] * rng.normal(0, 12, 3)
            canvas = colour + ramp + rng.normal(0, 3, (h, w, 3))
        elif kind == "natural":
            if not natural:
                raise ValueError("natural backgrounds asked for, but none given")
            src = natural[int(rng.integers(len(natural)))]
            sh, sw = src.shape[:2]
            side = int(rng.integers(min(sh, sw) // 3, min(sh, sw) + 1))
            sy, sx = int(rng.integers(0, sh - side + 1)), int(rng.integers(0, sw - side + 1))
            region = Image.fromarray(src[sy:sy + side, sx:sx + side]).resize((w, h), Image.Resampling.BILINEAR)
            canvas = np.asarray(region, dtype=np.float64)
        else:
            raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    hand = Image.fromarray(np.asarray(img28, dtype=np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    canvas[y0:y0 + size, x0:x0 + size] = np.asarray(hand.convert("RGB"), dtype=np.float64)
    # Colour cast and exposure.
    canvas = canvas * rng.uniform(0.85, 1.15, 3) * rng.uniform(0.6, 1.3) + rng.uniform(-20, 20)
    picture = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    # A slightly tilted camera: the picture turns about its centre, and the box's centre with it.
    angle = float(rng.uniform(-8, 8))
    fill = tuple(int(v) for v in np.asarray(picture)[0, 0])
    picture = picture.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)
    dx, dy = x0 + size / 2 - w / 2, y0 + size / 2 - h / 2
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    cx, cy = w / 2 + c * dx + s * dy, h / 2 - s * dx + c * dy
    x0, y0 = int(round(cx - size / 2)), int(round(cy - size / 2))
    exif = None
    orientation = int(rng.choice([1, 1, 1, 3, 6, 8]))
    if orientation != 1:
        # Store the pixels as the sensor would have; the tag tells viewers how to turn them upright.
        undo = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
        picture = picture.transpose(undo[orientation])
        exif = Image.Exif()
        exif[0x0112] = orientation
    buf = io.BytesIO()
    picture.save(buf, "JPEG", quality=int(rng.integers(70, 95)), **({"exif": exif} if exif is not None else {}))
    return Picture(Image.open(io.BytesIO(buf.getvalue())), (x0, y0, x0 + size, y0 + size), kind, buf.getvalue())


def enlarged(img28: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The 28x28 itself as a phone might deliver it: enlarged to 200-640 px, RGB, JPEG (quality 70-95)."""
    size = int(rng.integers(200, 640))
    big = Image.fromarray(np.asarray(img28, dtype=np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.convert("RGB").save(buf, "JPEG", quality=int(rng.integers(70, 95)))
    return Image.open(io.BytesIO(buf.getvalue()))


CALIBRATION_KINDS = ("enlarged", *KINDS)
CALIBRATION_PER_KIND = 300


def calibration_pictures(rows: np.ndarray, per_kind: int = CALIBRATION_PER_KIND,
                         seed: int = 0) -> Iterator[Image.Image]:
    """Real hand pictures as users give them, to calibrate the "not sure" check of whole pictures:
    for each of CALIBRATION_KINDS, `per_kind` pictures (fewer if there are fewer rows), each of a
    different one of `rows` (uint8 (N, 28, 28); the calibration half of the test set), on the
    "train" backgrounds. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    natural = backgrounds("train")
    for kind in CALIBRATION_KINDS:
        for i in rng.choice(len(rows), size=min(per_kind, len(rows)), replace=False):
            yield enlarged(rows[i], rng) if kind == "enlarged" else make(rows[i], kind, rng, natural).image


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    return float(iou_many(np.asarray([a]), b)[0])


def iou_many(boxes: np.ndarray, box: tuple[float, ...]) -> np.ndarray:
    """IoU of each of (N, 4) boxes with one box."""
    b = np.asarray(boxes, dtype=np.float64)
    ix = np.clip(np.minimum(b[:, 2], box[2]) - np.maximum(b[:, 0], box[0]), 0, None)
    iy = np.clip(np.minimum(b[:, 3], box[3]) - np.maximum(b[:, 1], box[1]), 0, None)
    inter = ix * iy
    union = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) + (box[2] - box[0]) * (box[3] - box[1]) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
