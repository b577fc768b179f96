"""Teaching the pad: six symbols, five drawings each, read back on new drawings by other drawers.

    python -m bench.teach_pad --data-dir ../shared/datasets

In a store of its own, a session teaches the six symbols of `bench.symbols` (5 drawings each by
one drawer, as stroke payloads through `studio.teach_pad`, the code behind /teach_drawing) and
trains (`teach.train`, behind /teach_drawing_train), both ways: a model of the symbols alone (the
default), and with the digits kept (rehearsed on MNIST's training rows). Measured: the training
time; on 20 new drawings of each symbol by each of 3 other drawers, the share whose answer is right
(and right without "not sure"); test digits traced as strokes on the pad (`bench.trace`): answered
"not sure" by the symbols-only model, read right by the digits-kept one; another session's digits
model and its answers, unchanged. Then how many examples a symbol needs: models taught 1, 2, 3, 5
and 8 drawings a symbol (3 draws each from 10 by the teaching drawer), read on the others' drawings.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import trace
from bench.symbols import SYMBOLS, drawings
from classifier import data
from classifier.inputs.strokes import STROKES
from classifier.training import teach as library_teach
from studio import models, projects, teach, teach_pad

TEST_DRAWERS = (2, 3, 4)


def _answers(session: str, payloads: list[Any]) -> list[tuple[str, bool]]:
    predictor = models.predictor_for("digits", session)
    out = []
    for payload in payloads:
        answer = predictor.answer(STROKES.prepare(payload).row)
        out.append((answer.best[0], answer.unsure))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    projects.configure(f"sqlite:///{tempfile.mkdtemp(prefix='bench-teach-pad-')}/store.db")
    models.DATA_DIR = args.data_dir
    tests = [d for seed in TEST_DRAWERS for d in drawings(SYMBOLS, args.per_test, seed=seed)]
    x, y = data.load("digits", "test", args.data_dir, download=False)
    rng = np.random.default_rng(0)
    picked = rng.choice(len(x), args.digits, replace=False)
    digits = [trace.trace(x[i].numpy(), rng) for i in picked]
    digit_labels = [str(int(y[i])) for i in picked]
    other_before = _answers("someone else", digits)

    result: dict[str, Any] = {}
    for keep in (False, True):
        session = f"teacher keep={keep}"
        for label, payload in drawings(SYMBOLS, 5, seed=1):
            teach_pad.add(session, payload, label)
        start = time.monotonic()
        teach.train(session, what=teach.DRAWINGS, keep=keep)
        seconds = time.monotonic() - start
        read = _answers(session, [p for _, p in tests])
        right = [a == label for (a, _), (label, _) in zip(read, tests, strict=True)]
        sure_right = [a == label and not unsure for (a, unsure), (label, _) in zip(read, tests, strict=True)]
        on_digits = _answers(session, digits)
        result["digits kept" if keep else "symbols only"] = {
            "train_seconds": round(seconds, 2), "symbols_right": round(float(np.mean(right)), 4),
            "symbols_right_and_sure": round(float(np.mean(sure_right)), 4),
            "digits_not_sure": round(float(np.mean([u for _, u in on_digits])), 4),
            "digits_right": round(float(np.mean([a == t for (a, _), t in zip(on_digits, digit_labels, strict=True)])),
                                  4)}
    result["other_session_unchanged"] = (_answers("someone else", digits) == other_before
                                         and models.predictor_for("digits", "someone else") is models.SHIPPED["digits"])

    pool = drawings(SYMBOLS, 10, seed=1)
    pool_rows = np.stack([STROKES.prepare(p).row for _, p in pool])
    test_rows = np.stack([STROKES.prepare(p).row for _, p in tests])
    curve = library_teach.examples_curve(
        teach.DRAWINGS.spec, pool_rows, [label for label, _ in pool], start=models.SHIPPED["digits"].checkpoint,
        sizes=tuple(args.examples), draws=args.draws, steps=library_teach.STEPS, keep=False,
        test=(test_rows, [label for label, _ in tests]), not_sure=teach.DRAWINGS.not_sure)
    curve = {int(p["examples"]): {k: round(v, 4) for k, v in p.items() if k != "examples"} for p in curve}
    result["examples_curve"] = curve
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CLASSIFIER_DATA_DIR", "data")))
    p.add_argument("--per-test", type=int, default=20, help="new drawings of each symbol by each test drawer")
    p.add_argument("--digits", type=int, default=300, help="test digits traced on the pad")
    p.add_argument("--examples", type=int, nargs="+", default=[1, 2, 3, 5, 8])
    p.add_argument("--draws", type=int, default=3)
    args = p.parse_args()
    result = run(args)
    for way in ("symbols only", "digits kept"):
        r = result[way]
        print(f"{way}: trained in {r['train_seconds']} s; new drawings right {r['symbols_right']:.1%} "
              f"({r['symbols_right_and_sure']:.1%} without 'not sure'); traced digits 'not sure' "
              f"{r['digits_not_sure']:.1%}, read right {r['digits_right']:.1%}")
    print("examples a symbol -> right:", {k: v["mean"] for k, v in result["examples_curve"].items()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
