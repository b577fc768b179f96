"""Outlier exposure: pictures that are none of a data set's classes, for training the model to
answer them with a flat distribution (Hendrycks et al., "Deep Anomaly Detection with Outlier
Exposure", ICLR 2019), so the "not sure" detector (`ood`) tells them from real inputs.

The pictures are made here, from the fonts matplotlib ships and from random shapes and noise:
nothing is downloaded and nothing comes from any data set. A kind of input names the makers it
uses (`InputKind.outlier_sources`) and sends each picture through its own pipeline
(`InputKind.outlier_pool`), because what the model must learn to doubt is what that pipeline makes
of a scribble, not the scribble itself: the Draw pipeline crops, recentres and evens out the
strokes of anything it is given.

Makers, for drawings (a quarter each):
- glyphs: letters and symbols that look like no digit, in several fonts, tilted and sized at random;
- doodles: several random Bezier strokes, spirals, stars, hatching and grids;
- silhouettes: filled random polygons and ellipses, some striped or holed, like a drawn object;
- textures: fractal (1/f) noise, as a photo region looks to the ink finder.
They are made apart from `bench/ood.py`'s inputs (its scribbles are single polylines; it gives
other data sets' images and matplotlib's sample photos, none of which are used here), so that
bench measures what training did not see.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS = 200   # px: the pipelines are scale-free, and a small canvas is quick to make and read
# A stroke this much longer than it is wide is a 1, whatever drew it: not an outlier
# (on MNIST, nearly every 1 is more elongated than this and nearly every other digit less).
MAX_ELONGATION = 3.0

# Letters and symbols unlike any digit: no O/o/D/Q (0), I/l/i/j/|/slashes/brackets (1), Z/z (2),
# S/s (5), b/G (6), T/J (7), B/∞ (8), a/d/g/q/P/y (9).
GLYPHS = "ACEFHKMNRUVWXYcefhkmnprtuvwx#&@%+=*~ΣΩΦΨΛΞΓπλψξδβμ"
_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
               "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "STIXGeneral.ttf", "STIXGeneralItalic.ttf")


@cache
def _fonts() -> tuple[Path, ...]:
    import matplotlib  # here, not at import: the trainer imports this module's users, never matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return tuple(folder / f for f in _FONT_FILES if (folder / f).is_file())


def _ink_colour(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 90))


def glyphs(rng: np.random.Generator) -> Image.Image:
    """One to three letters or symbols, black on white, tilted and sized at random."""
    fonts = _fonts()
    text = "".join(GLYPHS[int(rng.integers(len(GLYPHS)))] for _ in range(int(rng.choice([1, 1, 1, 2, 3]))))
    font = ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), int(rng.integers(60, 130)))
    img = Image.new("L", (CANVAS * 2, CANVAS), 255)
    ImageDraw.Draw(img).text((CANVAS, CANVAS // 2), text, fill=_ink_colour(rng), font=font, anchor="mm",
                             stroke_width=int(rng.integers(0, 4)), stroke_fill=0)
    return img.rotate(float(rng.uniform(-30, 30)), resample=Image.Resampling.BILINEAR, fillcolor=255)


def _bezier(points: np.ndarray, n: int = 40) -> list[tuple[float, float]]:
    """A cubic Bezier curve through 4 control points, as n points."""
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2, p3 = points
    curve = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3
    return [tuple(p) for p in curve.tolist()]


def doodles(rng: np.random.Generator) -> Image.Image:
    """Several strokes at once: Bezier curves, a spiral, a star, hatching or a grid."""
    img = Image.new("L", (CANVAS, CANVAS), 255)
    draw = ImageDraw.Draw(img)
    width = int(rng.integers(3, 11))
    ink = _ink_colour(rng)
    kind = int(rng.integers(5))
    c = CANVAS / 2
    if kind == 0:  # two to five curves
        for _ in range(int(rng.integers(2, 6))):
            draw.line(_bezier(rng.uniform(10, CANVAS - 10, (4, 2))), fill=ink, width=width, joint="curve")
    elif kind == 1:  # a spiral of 2 to 4 turns (fewer make a 6 or a 9)
        turns, t = rng.uniform(2, 4), np.linspace(0, 1, 200)
        r, a = t * rng.uniform(50, 90), t * turns * 2 * math.pi + rng.uniform(0, 2 * math.pi)
        draw.line(list(zip((c + r * np.cos(a)).tolist(), (c + r * np.sin(a) * rng.uniform(0.6, 1)).tolist(),
                           strict=True)), fill=ink, width=width, joint="curve")
    elif kind == 2:  # a star of 5 to 9 spikes
        k = int(rng.integers(5, 10))
        a = np.arange(2 * k + 1) * math.pi / k + rng.uniform(0, math.pi)
        r = np.where(np.arange(2 * k + 1) % 2 == 0, rng.uniform(60, 90), rng.uniform(15, 45))
        draw.line(list(zip((c + r * np.cos(a)).tolist(), (c + r * np.sin(a)).tolist(), strict=True)), fill=ink,
                  width=width, joint="curve")
    elif kind == 3:  # hatching: four to nine parallel strokes, sometimes crossed
        angle = rng.uniform(0, math.pi)
        for cross in range(int(rng.integers(1, 3))):
            d = np.array([math.cos(angle + cross * math.pi / 2), math.sin(angle + cross * math.pi / 2)])
            normal = np.array([-d[1], d[0]])
            for off in np.linspace(-60, 60, int(rng.integers(4, 10))):
                p = c + off * normal
                draw.line([tuple(p - 70 * d), tuple(p + 70 * d)], fill=ink, width=width)
    else:  # a grid of boxes or a row of circles
        n = int(rng.integers(2, 5))
        step = 160 / n
        for i in range(n):
            for j in range(n if rng.random() < 0.5 else 1):
                box = [20 + i * step, 20 + j * step, 20 + (i + 1) * step - 6, 20 + (j + 1) * step - 6]
                (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, outline=ink, width=width)
    return img


def silhouettes(rng: np.random.Generator) -> Image.Image:
    """A filled shape (polygon or ellipses), sometimes striped or with holes: a drawn object."""
    img = Image.new("L", (CANVAS, CANVAS), 255)
    draw = ImageDraw.Draw(img)
    ink = _ink_colour(rng)
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.5:
            pts = rng.uniform(15, CANVAS - 15, (int(rng.integers(3, 9)), 2))
            centre = pts.mean(0)
            order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
            draw.polygon([tuple(p) for p in pts[order].tolist()], fill=ink)
        else:
            x0, y0 = rng.uniform(10, 110, 2)
            draw.ellipse([x0, y0, x0 + rng.uniform(40, 90), y0 + rng.uniform(40, 90)], fill=ink)
    detail = int(rng.integers(3))
    if detail == 1:  # light stripes across it
        for y in range(int(rng.integers(0, 20)), CANVAS, int(rng.integers(12, 30))):
            draw.line([(0, y), (CANVAS, y + rng.uniform(-30, 30))], fill=255, width=int(rng.integers(2, 6)))
    elif detail == 2:  # holes
        for _ in range(int(rng.integers(1, 5))):
            x, y, r = *rng.uniform(30, 170, 2), rng.uniform(5, 20)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return img


def textures(rng: np.random.Generator) -> Image.Image:
    """Fractal (1/f) noise, the statistics of natural photos, at a random contrast."""
    field = np.zeros((CANVAS, CANVAS), np.float32)
    for octave in range(1, 7):
        n = 2 ** octave
        coarse = Image.fromarray(rng.standard_normal((n, n)).astype(np.float32))
        field += np.asarray(coarse.resize((CANVAS, CANVAS), Image.Resampling.BICUBIC)) / n ** rng.uniform(0.6, 1.2)
    field = (field - field.mean()) / (field.std() + 1e-6)
    if rng.random() < 0.3:  # hard-edged regions, like objects against a background
        field = np.where(field > rng.uniform(-0.5, 1.0), 1.0, -1.0)
    grey = 128 + field * rng.uniform(20, 70)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def elongation(image: np.ndarray) -> float:
    """How much longer than wide the ink of a 28x28 is: the ratio of its principal axes."""
    w = image.astype(np.float64)
    total = w.sum()
    if total <= 0:
        return 1.0
    ys, xs = np.mgrid[:28, :28]
    my, mx = (w * ys).sum() / total, (w * xs).sum() / total
    cov = np.cov(np.stack([(ys - my).ravel(), (xs - mx).ravel()]), aweights=w.ravel(), bias=True)
    small, large = np.linalg.eigvalsh(cov)
    return float(np.sqrt(large / max(small, 1e-6)))
