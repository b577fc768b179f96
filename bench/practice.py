"""Practice mode's finger advice on real photos of people's hands (`real_hands_dev`).

Practice advises only while the hand is read as another letter than the one to sign. For every
photo where MediaPipe finds the hand, read by the shipped hand-shape model: among the photos read
as another letter than their own (a learner making the letter right, misread), the share given a
finger to change (wrong advice); and, practising another letter drawn at random (a learner making
the wrong shape), the share given one (advice due). Each with every finger outside the letter's
ranges (`practice.fingers_off(row, letter)`) and with only the fingers that tell the letter from
the one read (`fingers_off(row, letter, read)`, as the app calls it). Swept over the tolerance; the
app uses `practice.TOLERANCE`. The last line printed is JSON.

    python -m bench.practice --real-hands ../shared/datasets/real_hands_dev
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from bench.real_hands import DEFAULT, load
from classifier import data
from classifier.inputs import landmarks
from classifier.inputs.hand_photo import photo_picture
from classifier.serving import practice
from studio import models

TOLERANCES = (0.08, 0.12, 0.16, 0.2, 0.25)


def share(flags: list[bool]) -> float:
    return round(100 * float(np.mean(flags)), 1) if flags else float("nan")


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real-hands", type=Path, default=Path(os.environ.get("REAL_HANDS_DIR", DEFAULT)))
    args = p.parse_args(argv)
    letters = list(data.SIGN_LETTERS)
    finder = landmarks.finder()
    assert finder is not None, "MediaPipe or weights/hand_landmarker.task is missing"
    shape = models.SHIPPED["handshape"]
    assert shape is not None, models.LOAD_ERRORS["handshape"]
    rng = np.random.default_rng(0)
    rows = []
    for r in load(args.real_hands):
        hand = finder.find(photo_picture(r["file"]))
        if hand is not None:
            other = letters[(letters.index(r["letter"]) + int(rng.integers(1, len(letters)))) % len(letters)]
            rows.append((hand.row, r["letter"], other, shape.answer(hand.row).best[0]))
    misread = [(x, letter, read) for x, letter, _, read in rows if read != letter]
    chosen = practice.TOLERANCE
    sweep = {}
    for t in TOLERANCES:
        practice.TOLERANCE = t
        sweep[str(t)] = {
            "misread_advised_every_finger": share([bool(practice.fingers_off(x, c)) for x, c, _ in misread]),
            "misread_advised": share([bool(practice.fingers_off(x, c, read)) for x, c, read in misread]),
            "other_letter_advised_every_finger": share([bool(practice.fingers_off(x, c)) for x, _, c, _ in rows]),
            "other_letter_advised": share([bool(practice.fingers_off(x, c, read)) for x, _, c, read in rows])}
    practice.TOLERANCE = chosen
    # Which finger the wrong advice names first (the app's tolerance), with every finger and as the app advises.
    first_named = {way: dict(Counter(off[0].finger for off in offs if off)) for way, offs in (
        ("every_finger", [practice.fingers_off(x, c) for x, c, _ in misread]),
        ("as_the_app", [practice.fingers_off(x, c, read) for x, c, read in misread]))}
    result = {"photos_with_a_hand": len(rows), "misread": len(misread), "tolerance": chosen, "by_tolerance": sweep,
              "misread_first_finger_named": first_named}
    print(f"{len(rows)} photos with a hand, {len(misread)} read as another letter than their own")
    print(f"misread photos, the finger named first at tolerance {chosen}: {first_named}")
    for t, v in sweep.items():
        print(f"tolerance {t}: misread photos given a finger to change {v['misread_advised']}% "
              f"(every finger: {v['misread_advised_every_finger']}%); practising another letter "
              f"{v['other_letter_advised']}% (every finger: {v['other_letter_advised_every_finger']}%)")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
