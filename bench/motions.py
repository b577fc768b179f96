"""J and Z: the motion model on generated motions of another seed, and words with J and Z spelled.

1. `weights/hand_motion.safetensors` (trained by `train_motion.py` on seed 0) reads motions
   `classifier.data.handmotion` generates with another seed: accuracy per kind (J, Z, none).
2. Words with J and Z as landmark streams: each static letter is one of a real person's photos
   in `real_hands_dev` (its 21 landmarks, as MediaPipe finds them), held 0.5-0.9 s at 15 frames a
   second with a small drift; each J and Z is a *generated* motion, scaled and placed where that
   person's hand is; a double letter slides by half a hand; the stream goes through the speller
   with the shipped hand-shape and motion models, as Live's frames do. Character error
   (Levenshtein / letters). The J and Z in it are generated, the other letters real: no real clip
   of J or Z is here.

The last line printed is JSON.

    python -m bench.motions --real-hands ../shared/datasets/real_hands_dev
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.real_hands import DEFAULT, load
from bench.words import levenshtein
from classifier import paths
from classifier.data import handmotion
from classifier.inputs import landmarks, motion
from classifier.inputs.hand_photo import photo_picture
from classifier.models import checkpoint
from classifier.serving import spelling
from classifier.serving.predict import Predictor

SEED = 20_000
WORDS = ("JAM", "JOB", "ZOO", "JOY", "LAZY", "ZERO", "JUICE", "FROZEN", "ENJOY", "JACKET", "QUIZ", "BLAZE")
FPS = 15


def _place(points: np.ndarray) -> tuple[np.ndarray, float]:
    xy = points[:, :2]
    return xy[0], float((xy.max(0) - xy.min(0)).max())


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real-hands", type=Path, default=Path(os.environ.get("REAL_HANDS_DIR", DEFAULT)))
    p.add_argument("--per-kind", type=int, default=1000)
    args = p.parse_args(argv)
    reader = motion.reader()
    assert reader is not None, "weights/hand_motion.safetensors is missing: python train_motion.py"

    generated = handmotion.generate(args.per_kind, seed=SEED)
    rows = np.stack([motion.motion_row(t, pts) for _, t, pts in generated])
    guess = [reader.classes[g] for g in reader.probabilities(rows).argmax(1)]
    by_kind = {k: round(100 * float(np.mean([g == kind for g, (kind, _, _) in zip(guess, generated, strict=True)
                                               if kind == k])), 1) for k in handmotion.MOTIONS}

    model = Predictor(checkpoint.load(paths.weights_path("handshape"), expect_dataset="handshape"))
    finder = landmarks.finder()
    assert finder is not None, "MediaPipe or weights/hand_landmarker.task is missing"
    hands: dict[str, dict[str, list[landmarks.Hand]]] = defaultdict(lambda: defaultdict(list))
    for r in load(args.real_hands):
        hand = finder.find(photo_picture(r["file"]))
        if hand is not None:
            hands[r["source"]][r["letter"]].append(hand)
    rng = np.random.default_rng(SEED)
    errors = letters = exact = clips = 0
    motions_right = motions_all = 0
    examples = []
    for person, mine in sorted(hands.items()):
        for word in WORDS:
            if any(c not in "JZ" and not mine.get(c) for c in word):
                continue
            speller = spelling.Speller(model.classes, motion=reader)
            t, at, size, previous = 0.0, np.array([300.0, 250.0]), 120.0, ""
            for c in word:
                if c in "JZ":
                    times, pts = handmotion.motion(c, rng)
                    start, own = _place(pts[0])
                    pts = pts.copy()
                    pts[:, :, :2] = (pts[:, :, :2] - start) * (size / own) + at
                    frames = [(t + float(u), q, "Right") for u, q in zip(times, pts, strict=True)]
                else:
                    hand = mine[c][rng.integers(len(mine[c]))]
                    at, size = _place(hand.points)
                    n = max(2, round(rng.uniform(0.5, 0.9) * FPS))
                    drift = np.cumsum(rng.normal(0, 0.6, (n, 2)), axis=0)
                    if c == previous:   # a double letter: the hand slides by half its size
                        drift[:, 0] += 0.5 * size
                    frames = []
                    for k, d in enumerate(drift):
                        q = hand.points.copy()
                        q[:, :2] += d
                        frames.append((t + k / FPS, q, hand.handedness))
                for u, q, handedness in frames:
                    probs = model.probabilities(landmarks.hand_row(q, handedness))[0]
                    speller.feed(u, probs, q)
                t = frames[-1][0] + 1 / FPS
                previous = c
            e = levenshtein(speller.text, word)
            errors, letters, clips = errors + e, letters + len(word), clips + 1
            exact += speller.text == word
            motions_all += sum(c in "JZ" for c in word)
            motions_right += sum(c in "JZ" and c in speller.text for c in word)
            if e and len(examples) < 10:
                examples.append(f"{person}: {word} -> {speller.text}")
    result = {"motion_model_on_generated": by_kind, "seed": SEED, "per_kind": args.per_kind,
              "words": {"clips": clips, "letters": letters, "character_error_rate": round(100 * errors / letters, 1),
                        "words_exactly_right": round(100 * exact / clips, 1),
                        "j_and_z_written": round(100 * motions_right / motions_all, 1)},
              "examples_wrong": examples}
    print(f"motion model, generated motions of seed {SEED}: {by_kind}")
    words = result["words"]
    print(f"{clips} words with J and Z ({letters} letters): character error {words['character_error_rate']}%, "
          f"exactly right {words['words_exactly_right']}%, J and Z written {words['j_and_z_written']}%")
    for line in examples:
        print("  ", line)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
