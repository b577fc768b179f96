"""Practice mode's finger advice on real photos of people's hands (`real_hands_dev`).

For every photo where MediaPipe finds the hand: is any finger called off (`practice.fingers_off`)
for the photo's own letter (advice a learner making the letter right would wrongly get), and for
another letter drawn at random (a learner making the wrong shape, who should get advice)? Swept
over the tolerance; the app uses `practice.TOLERANCE`. The last line printed is JSON.

    python -m bench.practice --real-hands ../shared/datasets/real_hands_dev
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from bench.real_hands import DEFAULT, load
from classifier import data
from classifier.inputs import landmarks
from classifier.inputs.hand_photo import photo_picture
from classifier.serving import practice

TOLERANCES = (0.08, 0.12, 0.16, 0.2, 0.25)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real-hands", type=Path, default=Path(os.environ.get("REAL_HANDS_DIR", DEFAULT)))
    args = p.parse_args(argv)
    letters = list(data.SIGN_LETTERS)
    finder = landmarks.finder()
    assert finder is not None, "MediaPipe or weights/hand_landmarker.task is missing"
    rng = np.random.default_rng(0)
    rows = []
    for r in load(args.real_hands):
        hand = finder.find(photo_picture(r["file"]))
        if hand is not None:
            other = letters[(letters.index(r["letter"]) + int(rng.integers(1, len(letters)))) % len(letters)]
            rows.append((hand.row, r["letter"], other))
    chosen = practice.TOLERANCE
    sweep = {}
    for t in TOLERANCES:
        practice.TOLERANCE = t
        own = [bool(practice.fingers_off(x, letter)) for x, letter, _ in rows]
        other = [bool(practice.fingers_off(x, letter)) for x, _, letter in rows]
        sweep[str(t)] = {"own_letter_flagged": round(100 * float(np.mean(own)), 1),
                         "other_letter_flagged": round(100 * float(np.mean(other)), 1)}
    practice.TOLERANCE = chosen
    result = {"photos_with_a_hand": len(rows), "tolerance": chosen, "by_tolerance": sweep}
    for t, v in sweep.items():
        print(f"tolerance {t}: a finger called off on {v['own_letter_flagged']}% of photos for their own letter, "
              f"{v['other_letter_flagged']}% for another letter")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
