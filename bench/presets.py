"""Every preset on every data set, in one run on one machine: test accuracy and training time.

Each run is `train.py --preset NAME` minus the file: the preset's full recipe, seed 0, trained
on the training split and scored on the test split. Training time counts from just before the
trainer is built to the end of its last epoch, and includes the per-epoch validation checks that
`train.py` also does. The file is the weights file the Train tab's Download gives: the model and
its "not sure" detector, fitted and calibrated as `train.py` does. A Markdown table, then a JSON
line with every figure.

    python -m bench.presets --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from classifier import data
from classifier.training import presets
from classifier.training.trainer import Trainer, resolve_device


def run_one(preset: str, dataset: str, data_dir: str | None, device: str) -> dict:
    config = presets.get(preset).config(dataset, device=device)
    splits = data.load_splits(dataset, data_dir)  # cached per process: not part of the time
    start = time.perf_counter()
    trainer = Trainer(config, splits=splits, points_per_epoch=1)
    for _ in trainer.fit():
        pass
    seconds = time.perf_counter() - start
    report = trainer.report()
    with tempfile.TemporaryDirectory() as tmp:
        file_bytes = trainer.checkpoint(report.accuracy).save(Path(tmp) / "run.safetensors").stat().st_size
    return {"preset": preset, "dataset": dataset, "test_accuracy": round(report.accuracy, 4), "n_test": report.n,
            "epochs": trainer.epochs_done, "train_seconds": round(seconds, 1), "hidden": config.hidden,
            "file_mb": round(file_bytes / 1e6, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--datasets", nargs="+", default=list(data.DATASETS), choices=list(data.DATASETS))
    p.add_argument("--presets", nargs="+", default=list(presets.PRESETS), choices=list(presets.PRESETS))
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    results = []
    print("| preset | " + " | ".join(args.datasets) + " |")
    print("|---|" + "---|" * len(args.datasets))
    for name in args.presets:
        row = [run_one(name, d, args.data_dir, args.device) for d in args.datasets]
        results += row
        cells = [f"{r['test_accuracy']:.2%} in {r['train_seconds']:g} s, {r['file_mb']:g} MB" for r in row]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(json.dumps({"results": results, "torch_threads": torch.get_num_threads(),
                      "device": str(resolve_device(args.device))}))


if __name__ == "__main__":
    main()
