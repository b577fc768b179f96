"""Turning what a person gives the app into the 28x28 image a model was trained on.

- `sketch_to_digit`: a drawing of any size, colours or transparency becomes an MNIST-style
  digit: ink found, cropped, stroke width evened out, longer side scaled to 20 px with
  anti-aliasing, centred by centre of mass in 28x28, light ink on black.
- `grey_photo` and `square_to_sign`: a square of a photo of any size, mode or orientation becomes a
  Sign Language MNIST-style image: upright, greyscale, 28x28, the data set's brightness and contrast.
- `open_image`: decoding with clear errors for files that are not usable images, and the size
  limits (`PictureLimits`) that bound the work any picture can cause, checked before decoding.
(The kinds of input in `classifier.inputs` chain these, and find the hand first.)

Normalization for the model happens later, in `preprocess.normalize`, for training and app alike.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from ..models import preprocess

SIZE = 28
DIGIT_BOX = 20          # MNIST digits are scaled so the longer side is 20 px...
DIGIT_COM = 14.0        # ...and moved so their centre of mass is at pixel index 14 (measured).
# Stroke width (2 x area / perimeter of the pixels above half intensity) of MNIST digits at
# the 20 px scale: median 1.95 px, 10th-90th percentile 1.4-2.7 (measured on 5000 training digits).
DIGIT_STROKE = 1.95
_WORK = DIGIT_BOX * 4   # strokes are measured and evened out at 4x the final resolution
# Limits on what a picture may be, checked before it is decoded (`PictureLimits`). They bound the
# work and memory one picture can cause: every later step works on a copy whose size follows from
# them (photos: `reduce_photo`; the hand search: `locate.grey_work_copy`).
MAX_PIXELS = 24_000_000  # decoded pixels (a JPEG counts at the reduced scale it is decoded at)
JPEG_DRAFT = 448         # a JPEG decodes at the smallest 1/2, 1/4 or 1/8 scale that keeps this many pixels a side
PHOTO_SIDE = 896         # other photos are reduced (by a whole factor) to at most about this on the shorter side


class ImageInputError(ValueError):
    """The input cannot be turned into an image the model can use; the message says why."""


# ------------------------------------------------------------------------------- decoding

@dataclass(frozen=True)
class PictureLimits:
    """What a kind of input's pictures may be: at most MAX_PIXELS, at most `max_aspect` times as long
    as wide, at least `min_side` pixels on the shorter side. Each kind of input names its own."""

    what: str                 # how a message names the picture: "drawing", "photo of a hand"
    max_aspect: float         # longer side / shorter side
    min_side: int = 1

    def check(self, w: int, h: int) -> None:
        """Refuse, with a message a person can act on, a picture whose size would make unbounded work."""
        if w < 1 or h < 1:
            raise ImageInputError("The image is empty (0 pixels).")
        megapixels = f"at most {MAX_PIXELS // 1_000_000} megapixels"
        if self.min_side > 1:   # one message with every need: a photo has more than one to meet
            if w * h > MAX_PIXELS or min(w, h) < self.min_side or max(w, h) > self.max_aspect * min(w, h):
                raise ImageInputError(f"This picture is {w} x {h} pixels; a {self.what} needs {megapixels}, at "
                                      f"least {self.min_side} pixels on its shorter side and at most "
                                      f"{self.max_aspect:g} times as long as it is wide.")
            return
        if w * h > MAX_PIXELS:
            raise ImageInputError(f"The {self.what} is {w} x {h} pixels; it may have {megapixels}.")
        if max(w, h) > self.max_aspect * min(w, h):
            raise ImageInputError(f"The {self.what} is {w} x {h} pixels; it may be at most {self.max_aspect:g} "
                                  "times as long as it is wide.")


# Any picture that is not one of a kind of input's own (a test image, an outlier's source).
ANY_PICTURE = PictureLimits("image", max_aspect=20.0)


def open_image(source: str | os.PathLike[str] | bytes | Image.Image,
               limits: PictureLimits = ANY_PICTURE) -> Image.Image:
    """Decode an image fully (first frame of an animation), or raise ImageInputError. Its size is
    checked against `limits` before any pixel is decoded."""
    if isinstance(source, Image.Image):
        img = source
    else:
        try:
            img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        except UnidentifiedImageError:
            raise ImageInputError(
                "This file is not an image Pillow can read (PNG, JPEG, WebP, GIF, BMP, TIFF...).") from None
        except (OSError, Image.DecompressionBombError) as e:
            raise ImageInputError(f"Cannot open the image: {e}") from None
    try:
        if getattr(img, "is_animated", False):
            img.seek(0)
        # JPEG can decode at 1/2, 1/4 or 1/8 scale: far faster for phone photos, and the size to
        # check is the one it decodes at.
        if img.format == "JPEG":
            img.draft(img.mode, (JPEG_DRAFT, JPEG_DRAFT))
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageInputError(f"The image file is damaged or truncated ({e}).") from None
    w, h = img.size
    if w < 1 or h < 1:
        raise ImageInputError("The image is empty (0 pixels).")
    limits.check(w, h)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ImageInputError(f"The image file is damaged or truncated ({e}).") from None
    return img


def to_grey(img: Image.Image) -> np.ndarray:
    """Float32 luminance in [0, 1], transparent areas flattened onto white, any mode or bit depth."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        arr = np.asarray(img, dtype=np.float32)
        if img.mode.startswith("I;16"):
            return arr / 65535.0
        peak = float(arr.max(initial=0))
        if img.mode == "F" and peak <= 1.0:  # already in [0, 1]
            return np.clip(arr, 0.0, 1.0)
        return np.clip(arr / (65535.0 if peak > 255 else 255.0), 0.0, 1.0)
    if img.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


# ------------------------------------------------------------------------------- drawings

def _as_float_channels(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float32) / (65535.0 if arr.max(initial=0) > 255 else 255.0)
    out = arr.astype(np.float32)
    return out / 255.0 if out.max(initial=0) > 1.0 else out


def ink_map(image: np.ndarray | Image.Image) -> np.ndarray:
    """How much ink each pixel holds, 0..1, whatever the colours, polarity or transparency.

    Mostly-transparent input (strokes on an empty layer) is read from its alpha channel;
    opaque input is read as distance from the background level (the median), so black on
    white, white on black and colour on grey all work.
    """
    if isinstance(image, Image.Image):
        if image.mode not in ("L", "LA", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image = np.asarray(image)
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)) or arr.size == 0:
        raise ImageInputError(f"Expected a greyscale, RGB or RGBA image, got an array of shape {arr.shape}.")
    x = _as_float_channels(arr)
    if x.ndim == 2:
        lum, alpha = x, np.ones_like(x)
    elif x.shape[2] == 2:
        lum, alpha = x[:, :, 0], x[:, :, 1]
    else:
        lum = x[:, :, 0] * 0.299 + x[:, :, 1] * 0.587 + x[:, :, 2] * 0.114
        alpha = x[:, :, 3] if x.shape[2] == 4 else np.ones_like(lum)
    opaque = alpha > 0.5
    if opaque.mean() < 0.5:
        ink = alpha
    else:
        # Ink is what stands out from the picture's own background (`_background`), measured against
        # the strongest contrast the picture has: faint grey on white is as much ink as black. A
        # picture with no real contrast keeps the full scale, so its noise stays below the floor.
        bg = float(np.median(lum[opaque]))
        light = _background(lum, opaque, bg)
        # Under uneven light a pixel is what its paper reflects: its level relative to the light there
        # (ink in the shadow is as dark, relative to its paper, as ink in the light).
        distance = (np.abs(lum - light) if isinstance(light, float)
                    else np.abs(lum / np.maximum(light, 0.05) - 1.0)) * alpha
        contrast = _contrast(distance)
        ink = distance / (contrast if contrast >= MIN_CONTRAST else max(bg, 1.0 - bg, 0.1))
    # A faint floor (paper texture, compression noise, anti-aliasing fringes) is not ink.
    return np.clip((ink - 0.1) / 0.9, 0.0, 1.0).astype(np.float32)


MIN_CONTRAST = 0.1  # below this strongest contrast, a picture is read on the full scale (noise, not ink)
BACKGROUND_GRID = 32    # the light is modelled on a grid this many cells along the picture's long side...
PAPER_WINDOW = 7        # ...where any 7x7 cells (a fifth of the picture) hold some paper beside the ink
UNEVEN = 0.1            # a modelled light this much brighter at one place than another is uneven


def _background(lum: np.ndarray, opaque: np.ndarray, bg: float) -> np.ndarray | float:
    """The picture's background level: `bg`, its median, where the light is even (a canvas, a scan),
    else the light across it, for a photo of paper lit from one side or brighter in the middle.

    Light changes slowly across a page, strokes fast. On a coarse grid, the paper's side of every
    window (its lightest cell for dark ink, darkest for light ink) is paper however thick the brush;
    a smooth surface (a quadratic in x and y) fitted to those, then refitted to the cells near it,
    is the light."""
    h, w = lum.shape
    scale = BACKGROUND_GRID / max(h, w)
    if scale >= 1:
        return bg
    gw, gh = max(2, round(w * scale)), max(2, round(h * scale))
    small = Image.fromarray(np.where(opaque, lum, bg).astype(np.float32)).resize((gw, gh), Image.Resampling.BOX)
    grid = np.asarray(small, dtype=np.float64).ravel()
    dark_ink = grid.mean() <= np.median(grid)   # ink is the minority: it pulls the mean its way
    side = ImageFilter.MaxFilter(PAPER_WINDOW) if dark_ink else ImageFilter.MinFilter(PAPER_WINDOW)
    envelope = np.asarray(small.filter(side), dtype=np.float64).ravel()

    def terms(u: np.ndarray, v: np.ndarray) -> list[np.ndarray]:
        return [np.ones_like(u * v), u, v, u * u, u * v, v * v]

    gv, gu = np.meshgrid(np.linspace(-1, 1, gh), np.linspace(-1, 1, gw), indexing="ij")
    design = np.stack([t.ravel() for t in terms(gu, gv)], axis=1)
    coef = np.linalg.lstsq(design, envelope, rcond=None)[0]
    for _ in range(3):   # the envelope is a little on the paper's bright side: refit to the paper itself
        paper = np.abs(grid - design @ coef) < 0.2
        if paper.sum() < 2 * design.shape[1]:
            break
        coef = np.linalg.lstsq(design[paper], grid[paper], rcond=None)[0]
    light = design @ coef
    if float(light.max() - light.min()) < UNEVEN:
        return bg
    v, u = np.linspace(-1, 1, h)[:, None], np.linspace(-1, 1, w)[None, :]
    return sum(c * t for c, t in zip(coef, terms(u, v), strict=True)).astype(np.float32)


def _contrast(distance: np.ndarray) -> float:
    """The picture's strongest contrast with its background: the largest distance after a 3x3 box
    blur, so that a lone noisy pixel does not count but a stroke one pixel wide still does."""
    if distance.size == 0:
        return 0.0
    levels = Image.fromarray(np.round(np.clip(distance, 0.0, 1.0) * 255).astype(np.uint8))
    return float(np.asarray(levels.filter(ImageFilter.BoxBlur(1))).max(initial=0)) / 255.0


def _resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased resize of a float image to (width, height)."""
    img = Image.fromarray(a.astype(np.float32))
    shrinking = size[0] < a.shape[1] or size[1] < a.shape[0]
    return np.asarray(img.resize(size, Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR))


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in pixels: 2 x area / perimeter of the pixels above half intensity."""
    mask = np.pad(ink > 0.5, 1)
    area = mask.sum()
    perimeter = (mask[1:, :] != mask[:-1, :]).sum() + (mask[:, 1:] != mask[:, :-1]).sum()
    return 2.0 * area / perimeter if perimeter else 0.0


def _rank_filter(a: np.ndarray, k: int, grow: bool) -> np.ndarray:
    f = ImageFilter.MaxFilter(k) if grow else ImageFilter.MinFilter(k)
    padded = np.pad(a, k)  # room for strokes to grow past the crop
    return np.asarray(Image.fromarray(padded.astype(np.float32)).filter(f))


def _even_strokes(work: np.ndarray) -> np.ndarray:
    """Thicken hairlines and thin out fat brush strokes towards MNIST's stroke width."""
    target = DIGIT_STROKE * _WORK / DIGIT_BOX
    width = stroke_width(work)
    if 0 < width < 0.8 * target:
        k = int(round(target - width)) + 1 | 1
        return _rank_filter(work, k, grow=True)
    if width > 1.25 * target:
        k = int(round(width - target)) + 1 | 1
        thinner = _rank_filter(work, k, grow=False)
        if (thinner > 0.5).sum() >= 0.3 * (work > 0.5).sum():
            return thinner
    return work


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def center_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place a digit (at most 28x28) in a 28x28 field with its centre of mass at DIGIT_COM."""
    h, w = digit.shape
    total = float(digit.sum())
    if total <= 0:
        cy, cx = (h - 1) / 2, (w - 1) / 2
    else:
        cy = float((digit.sum(1) * np.arange(h)).sum()) / total
        cx = float((digit.sum(0) * np.arange(w)).sum()) / total
    top = int(np.clip(round(DIGIT_COM - cy), 0, SIZE - h))
    left = int(np.clip(round(DIGIT_COM - cx), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top:top + h, left:left + w] = digit
    return out


def _shrink_huge(image: np.ndarray | Image.Image, limits: PictureLimits,
                 limit: int = 4_000_000) -> np.ndarray | Image.Image:
    """Box-average a drawing larger than `limit` pixels down below it: same result, bounded memory."""
    h, w = (image.height, image.width) if isinstance(image, Image.Image) else np.asarray(image).shape[:2]
    limits.check(w, h)
    if h * w <= limit:
        return image
    factor = int(np.ceil(np.sqrt(h * w / limit)))
    if isinstance(image, Image.Image):
        return image.reduce(factor)
    arr = np.asarray(image)
    h2, w2 = h // factor * factor, w // factor * factor
    blocks = arr[:h2, :w2].reshape(h2 // factor, factor, w2 // factor, factor, *arr.shape[2:])
    return blocks.mean(axis=(1, 3), dtype=np.float32).astype(arr.dtype)


def sketch_to_digit(image: np.ndarray | Image.Image, min_ink: float = 0.25,
                    limits: PictureLimits = ANY_PICTURE) -> np.ndarray | None:
    """An MNIST-style uint8 28x28 digit (light on black), or None if nothing is drawn; a picture beyond
    `limits` is refused."""
    image = _shrink_huge(image, limits)
    ink = ink_map(image)
    mask = ink > min_ink
    if not mask.any():
        return None
    y0, y1, x0, x1 = _bbox(mask)
    crop = ink[y0:y1, x0:x1]
    h, w = crop.shape
    scale = _WORK / max(h, w)
    work = _resize(crop, (max(1, round(w * scale)), max(1, round(h * scale))))
    # Shrinking averages a thin stroke into grey: stretch so the strokes' core is full ink again.
    peak = float(np.percentile(work[work > 0.02], 90)) if (work > 0.02).any() else 1.0
    work = np.clip(work / max(peak, 1e-3), 0.0, 1.0)
    work = _even_strokes(work)
    # Evening strokes may have grown the shape: crop again so the longer side is exactly 20 px.
    # (Noise that passed `min_ink` can average away to nothing when shrunk: then nothing is drawn.)
    if not (work > 0.05).any():
        return None
    y0, y1, x0, x1 = _bbox(work > 0.05)
    work = work[y0:y1, x0:x1]
    h, w = work.shape
    scale = DIGIT_BOX / max(h, w)
    small = _resize(work, (max(1, round(w * scale)), max(1, round(h * scale))))
    field = center_by_mass(np.clip(small, 0.0, 1.0))
    return np.round(field * 255.0).astype(np.uint8)


def sketch_layers_to_image(value: Any) -> np.ndarray | Image.Image | None:
    """The image to read from a Gradio ImageEditor/Sketchpad value (dict or plain image).

    The composite when there is one; else the layers stacked over a transparent canvas.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        return value
    if value.get("composite") is not None:
        return value["composite"]
    layers = [layer for layer in value.get("layers") or [] if layer is not None]
    if not layers:
        return value.get("background")
    stacked: Image.Image | None = None
    for layer in layers:
        img = (layer if isinstance(layer, Image.Image) else Image.fromarray(np.asarray(layer))).convert("RGBA")
        if stacked is None:
            stacked = Image.new("RGBA", img.size, (0, 0, 0, 0))
        if img.size != stacked.size:
            raise ImageInputError(f"Drawing layers differ in size ({img.size} vs {stacked.size}).")
        stacked = Image.alpha_composite(stacked, img)
    return stacked


# --------------------------------------------------------------------------------- photos

def centre_square(w: int, h: int) -> tuple[float, float, float, float]:
    """The largest square in the middle of a w x h picture, as x0, y0, x1, y1."""
    side = min(w, h)
    return (w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2


def reduce_photo(image: Image.Image) -> Image.Image:
    """A photo with a shorter side of PHOTO_SIDE or more, reduced by a whole factor (box averaging) to
    between PHOTO_SIDE / 2 and PHOTO_SIDE, as a JPEG's decoder does: every later copy of the picture
    is then small whatever was uploaded, and still fine enough for the hand's 28x28."""
    factor = min(image.size) // (PHOTO_SIDE // 2)
    if factor < 2:
        return image
    if image.mode.startswith("I;16"):  # reduced, then as 0..1 floats: the scale `to_grey` reads 16 bits at
        return Image.fromarray(np.asarray(image.convert("I").reduce(factor), dtype=np.float32) / 65535.0)
    if image.mode in ("1", "P"):
        image = image.convert("RGBA" if "transparency" in image.info else "L" if image.mode == "1" else "RGB")
    return image.reduce(factor)


def grey_photo(image: Image.Image | np.ndarray, upright: bool = False) -> Image.Image:
    """The photo upright (unless `upright` says it is) as an 8-bit greyscale image: made once, then
    `square_to_sign` cuts any number of squares from it."""
    if isinstance(image, np.ndarray):
        if image.size == 0:
            raise ImageInputError("The image is empty (0 pixels).")
        image = Image.fromarray(image)
    if not upright:
        image = ImageOps.exif_transpose(image)
    return Image.fromarray(np.round(to_grey(image) * 255).astype(np.uint8))


def square_to_sign(grey: Image.Image, box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """A square of a greyscale photo (`box`, else the centre square) as a Sign Language MNIST-style 28x28."""
    box = box if box is not None else centre_square(*grey.size)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise ImageInputError(f"The box {box} is empty.")
    square = grey.crop((x0, y0, x1, y1))
    small = np.asarray(square.resize((SIZE, SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0), dtype=np.float32)
    matched = preprocess.match_sign_brightness(torch.from_numpy(small)[None])[0].numpy()
    return np.round(matched).astype(np.uint8)
