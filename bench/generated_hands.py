"""A figure of generated hands (`classifier.data.handgen`), a few per letter, so anyone can check by eye
that each letter looks like its sign: `docs/generated_hands.png`.

    python -m bench.generated_hands [--per-letter 3] [--seed 0] [--output docs/generated_hands.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from classifier.data import handgen
from classifier.inputs import landmarks
from studio import plots

DEFAULT = Path(__file__).resolve().parents[1] / "docs" / "generated_hands.png"


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-letter", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", type=Path, default=DEFAULT)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    by_letter = {letter: [landmarks.hand_row(handgen.sample(letter, rng), "Right") for _ in range(args.per_letter)]
                 for letter in handgen.LETTERS}
    fig = plots.hands(by_letter)
    fig.suptitle("generated hands, as the hand-shape model reads them (wrist at the origin, palm towards you)",
                 fontsize=10)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=72)
    print(args.output)
    return args.output


if __name__ == "__main__":
    main()
