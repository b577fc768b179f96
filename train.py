"""Train an MLP on digits, signs or fashion, or evaluate a weights file, from the command line.

    python train.py digits                      # default recipe -> weights/digits.safetensors
    python train.py signs --epochs 10 --seed 1
    python train.py --evaluate weights/digits.safetensors
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time

from tqdm import tqdm

from classifier import checkpoint, data
from classifier.trainer import Trainer, evaluate, recipe


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", nargs="?", choices=sorted(data.DATASETS), help="data set to train on")
    p.add_argument("--evaluate", metavar="WEIGHTS", help="evaluate a weights file on its test split and exit")
    p.add_argument("--data-dir", help=f"data directory (default ${data.DATA_DIR_ENV} or {data.DEFAULT_DATA_DIR}/)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--hidden", type=lambda s: [int(v) for v in s.split(",") if v],
                   help="hidden layer sizes, comma separated, e.g. 1024,1024")
    p.add_argument("--activation", choices=["relu", "gelu", "silu", "tanh"])
    p.add_argument("--dropout", type=float)
    p.add_argument("--no-batchnorm", dest="batchnorm", action="store_false", default=None)
    p.add_argument("--no-augment", dest="augment", action="store_false", default=None,
                   help="turn off the data set's augmentation")
    p.add_argument("--optimizer", choices=["adamw", "sgd"])
    p.add_argument("--schedule", choices=["onecycle", "cosine", "constant"])
    p.add_argument("--warmup", type=float, help="onecycle: share of the run with a rising learning rate")
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--precision", choices=["fp32", "bf16"], help="bf16: bfloat16 autocast, faster on "
                   "CPUs with AVX512-BF16 and recent GPUs (default fp32)")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", help="weights path (default weights/<dataset>.safetensors)")
    p.add_argument("--dry-run", action="store_true", help="a few batches of one epoch, to check the setup")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per epoch only)")
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the weights' metadata
    if args.evaluate is None and args.dataset is None:
        p.error("give a data set to train on, or --evaluate WEIGHTS")
    return args


def run_evaluate(args: argparse.Namespace) -> dict:
    ckpt = checkpoint.load(args.evaluate)
    images, labels = data.load(ckpt.dataset, "test", args.data_dir)
    _, acc, _ = evaluate(ckpt.model, images, labels, ckpt.normalization)
    return {"dataset": ckpt.dataset, "test_accuracy": round(acc, 4), "n": len(labels)}


def run_train(args: argparse.Namespace) -> dict:
    config = recipe(args.dataset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    weight_decay=args.weight_decay, hidden=args.hidden, activation=args.activation,
                    dropout=args.dropout, batchnorm=args.batchnorm, augment=args.augment,
                    optimizer=args.optimizer, schedule=args.schedule, warmup=args.warmup,
                    label_smoothing=args.label_smoothing, precision=args.precision, device=args.device,
                    seed=args.seed)
    if args.dry_run:
        config.epochs, config.max_batches = 1, 5
    trainer = Trainer(config, data_dir=args.data_dir)
    print(f"training {config.dataset} on {trainer.device}: {len(trainer.train_x)} train / "
          f"{len(trainer.val_x)} validation rows, model {trainer.model_config.hidden}, "
          f"{config.epochs} epochs", file=sys.stderr)
    start = time.perf_counter()
    for m in _with_progress(trainer, args.no_progress):
        tqdm.write(m.summary(), file=sys.stderr)
    train_seconds = time.perf_counter() - start
    _, test_acc, _ = trainer.test()
    print(f"test accuracy {test_acc:.2%} on {len(trainer.splits.test_y):,} test images after "
          f"{len(trainer.history)} epochs ({train_seconds:.0f} s on {trainer.device})", file=sys.stderr)
    output = args.output or f"weights/{config.dataset}.safetensors"
    command = "python train.py " + " ".join(shlex.quote(a) for a in args.argv)
    meta = trainer.metadata(test_acc, train_seconds=round(train_seconds, 1), command=command)
    if not args.dry_run:
        checkpoint.save(output, trainer.model, meta)
        print(f"wrote {output}", file=sys.stderr)
    return {"dataset": config.dataset, "test_accuracy": round(test_acc, 4), "n": len(trainer.splits.test_y),
            "epochs": len(trainer.history), "train_seconds": round(train_seconds, 1),
            "output": None if args.dry_run else output}


def _with_progress(trainer: Trainer, quiet: bool):
    if quiet:
        yield from trainer.run()
        return
    bar = tqdm(total=trainer.steps_per_epoch, unit="batch", leave=False, file=sys.stderr)

    def on_batch(step: int, total: int) -> None:
        if step == 1:
            bar.reset(total)
            bar.set_description(f"epoch {len(trainer.history) + 1}/{trainer.config.epochs}")
        bar.update(1)

    try:
        yield from trainer.run(on_batch=on_batch)
    finally:
        bar.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run_evaluate(args) if args.evaluate else run_train(args)
    except (data.DataError, checkpoint.CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
