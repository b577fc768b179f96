"""An MNIST digit traced as the Draw tab's stroke pad would send it, to measure the strokes path.

A person tracing a digit with the pad draws its strokes' centre lines with one brush, draws round
every loop they can see, and goes round and round where the ink is wider than the brush. So:

- the digit is enlarged 4x (a smoother centre line than at 28x28) and its ink is what is darker
  than half, less the holes a reader sees: pixels much lighter than the ink closed over them (a
  thick pen's blur can fill a small loop past half ink, as in many MNIST 8s and 9s, and a centre
  line through a filled loop would draw a stroke where the digit has a loop);
- the centre line of that ink (skeletonized) is walked into strokes;
- the brush is the ink's typical width (twice the median distance from the centre line to the
  paper), as far as the pad's slider goes (`studio.canvas.BRUSH_RANGE`);
- where the ink is wider than the brush, rings inset from its outline by half a brush, then one
  brush more each time, fill it as a person filling a fat stroke with a thin pen would;
- the digit is scaled 6-14x onto a random place of the pad's 400x400 canvas.

The result is a strokes payload (`classifier.inputs.strokes`) the API and the pad both send.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.measure import find_contours
from skimage.morphology import skeletonize

from studio.canvas import BRUSH_RANGE, SIDE

UPSCALE = 4       # the digit is traced at 4x its 28x28
HOLE_DIP = 50     # a pixel this many grey levels lighter than the ink closed over it is a hole...
HOLE_SIZE = 13    # ...closed by a square this wide (about 3 pixels of the 28x28)
WIDE = 1.2        # ink at least this many brushes wide is filled with rings


def _walk(pixels: set[tuple[int, int]]) -> list[list[tuple[float, float]]]:
    """8-connected skeleton pixels -> paths of (row, col) pixel centres, each step walked once.
    Walks start at the line's ends, then anywhere an unwalked step is left (loops, as in 0 and 8)."""
    def neighbours(p: tuple[int, int]) -> list[tuple[int, int]]:
        return [(p[0] + dr, p[1] + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                if (dr or dc) and (p[0] + dr, p[1] + dc) in pixels]

    walked: set[frozenset] = set()
    paths = []
    for start in sorted(pixels, key=lambda p: (len(neighbours(p)) != 1, p)):
        if neighbours(start) and all(frozenset((start, q)) in walked for q in neighbours(start)):
            continue
        path, here = [start], start
        while steps := [q for q in neighbours(here) if frozenset((here, q)) not in walked]:
            walked.add(frozenset((here, steps[0])))
            path.append(steps[0])
            here = steps[0]
        paths.append([(r + 0.5, c + 0.5) for r, c in path])
    return paths


def ink_to_trace(digit: np.ndarray) -> np.ndarray:
    """The 4x-enlarged digit's ink (bool), less the holes a reader sees."""
    big = np.asarray(Image.fromarray(digit).resize((28 * UPSCALE,) * 2, Image.Resampling.BICUBIC)).astype(np.int16)
    dip = ndimage.grey_closing(big, size=(HOLE_SIZE, HOLE_SIZE)) - big
    return (big > 127) & (dip <= HOLE_DIP)


def trace(digit: np.ndarray, rng: np.random.Generator, side: int = SIDE) -> dict:
    """A uint8 28x28 MNIST digit (light on black) -> the strokes payload of a person tracing it on the pad."""
    ink = ink_to_trace(digit)
    centre = skeletonize(ink)
    # Distance to the paper, measured in a frame of paper so ink at the border ends there too.
    depth = ndimage.distance_transform_edt(np.pad(ink, 1))[1:-1, 1:-1]
    scale = float(rng.integers(6, 15)) / UPSCALE
    left, top = (float(v) for v in rng.uniform(0, side - 28 * UPSCALE * scale, 2))
    width = 2 * float(np.median(depth[centre])) if centre.any() else 0.0
    brush = float(np.clip(width * scale, *BRUSH_RANGE))
    b = brush / scale   # the brush in the 4x digit's pixels
    paths = _walk(set(zip(*(v.tolist() for v in np.nonzero(centre)), strict=True)))
    wide = depth >= WIDE * b / 2
    if wide.any():
        near = ndimage.binary_dilation(wide, iterations=int(np.ceil(b)))
        level, inset = np.pad(np.where(near, depth, 0.0), 1), b / 2
        while (level >= inset).any():
            paths += [[(r - 0.5, c - 0.5) for r, c in ring] for ring in find_contours(level, inset)]
            inset += b
    strokes = [[[round(left + c * scale, 1) for _, c in path], [round(top + r * scale, 1) for r, _ in path]]
               for path in paths]
    return {"strokes": strokes, "width": side, "height": side, "brush": brush}
