"""Train an MLP on any data set in `classifier.data.DATASETS`, or evaluate a weights file, from the command line.

    python train.py digits                      # default recipe -> weights/digits.safetensors
    python train.py signs --epochs 10 --seed 1
    python train.py digits --preset quick --output weights/quick.safetensors
    python train.py --evaluate weights/digits.safetensors
    python train.py handshape                   # the hand-shape letters model, from generated hands only
    python train.py --export onnx weights/digits.safetensors    # -> weights/digits.onnx
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from tqdm import tqdm

from classifier import data, paths
from classifier.models import checkpoint, ood
from classifier.models.mlp import ACTIVATIONS
from classifier.training import finish, presets, trainer
from classifier.training.trainer import Trainer, evaluate, recipe_defaults


def _hidden(text: str) -> list[int]:
    try:
        return trainer.parse_hidden(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _activation(text: str) -> str | list[str]:
    names = trainer.parse_activation(text)
    unknown = [n for n in ([names] if isinstance(names, str) else names) if n not in ACTIVATIONS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown activation {unknown[0]!r}; choose from {', '.join(ACTIVATIONS)}")
    return names


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = recipe_defaults
    p.add_argument("dataset", nargs="?", choices=sorted(data.DATASETS),
                   help="data set to train on; handshape: the letters model over hand landmarks, trained on "
                   "hands classifier/data/handgen.py generates")
    p.add_argument("--evaluate", metavar="WEIGHTS", help="evaluate a weights file on its test split and exit")
    p.add_argument("--export", nargs=2, metavar=("FORMAT", "WEIGHTS"),
                   help="write a weights file in another format and exit: onnx (to --output, default the "
                   "weights' path with .onnx)")
    p.add_argument("--calibrate", metavar="WEIGHTS", help="fit the 'not sure' detector of a weights file "
                   "(training rows, half the test set) and store it in the file; the weights stay as they are")
    p.add_argument("--preset", choices=list(presets.PRESETS), default="best",
                   help="the recipe the other flags change: " + "; ".join(
                       f"{n}: {pr.title}" for n, pr in presets.PRESETS.items()) + " (default best; the defaults "
                   "shown below are best's)")
    p.add_argument("--data-dir", help=f"data directory (default ${data.DATA_DIR_ENV} or {data.DEFAULT_DATA_DIR}/)")
    p.add_argument("--epochs", type=int, help=f"1..{trainer.MAX_EPOCHS}; {d('epochs')}")
    p.add_argument("--batch-size", type=int, help="{}..{}; ".format(*trainer.BATCH_SIZE_RANGE) + d("batch_size"))
    p.add_argument("--lr", type=float, help=f"peak learning rate, (0, {trainer.MAX_LR:g}]; {d('lr')}")
    p.add_argument("--weight-decay", type=float, help=d("weight_decay"))
    p.add_argument("--hidden", type=_hidden, help="hidden layer sizes, comma separated "
                   f"(1..{trainer.MAX_HIDDEN_LAYERS} layers of 1..{trainer.MAX_HIDDEN_SIZE}); {d('hidden')}")
    p.add_argument("--activation", type=_activation, help=f"{', '.join(ACTIVATIONS)}; one for every hidden "
                   f"layer, or one per layer, comma separated (relu,tanh); {d('activation')}")
    p.add_argument("--dropout", type=float, help=d("dropout"))
    p.add_argument("--no-batchnorm", dest="batchnorm", action="store_false", default=None,
                   help="no BatchNorm after the hidden layers (default: BatchNorm on)")
    p.add_argument("--no-augment", dest="augment", action="store_false", default=None,
                   help="turn off the data set's augmentation (default: on)")
    p.add_argument("--optimizer", choices=trainer.OPTIMIZERS, help=d("optimizer"))
    p.add_argument("--schedule", choices=trainer.SCHEDULES, help=d("schedule"))
    p.add_argument("--warmup", type=float, help=f"onecycle: share of the run with a rising learning rate; "
                   f"{d('warmup')}")
    p.add_argument("--label-smoothing", type=float, help=d("label_smoothing"))
    p.add_argument("--outlier-exposure", type=float, help="weight of the loss that teaches the model to give "
                   "made-up outliers (classifier/inputs/outliers.py) a flat answer, for a better 'not sure'; 0: none; "
                   + d("outlier_exposure"))
    p.add_argument("--precision", choices=trainer.PRECISIONS, help="bf16: bfloat16 autocast, faster on "
                   f"CPUs with AVX512-BF16 and recent GPUs; {d('precision')}")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 ...; default auto")
    p.add_argument("--seed", type=int, default=0, help="default 0")
    p.add_argument("--val-fraction", type=float, help="share of the training split held out to watch "
                   "overfitting, (0, 1); default the data set's own (" + ", ".join(
                       f"{n} {s.val_fraction:.3g}" for n, s in data.DATASETS.items()) + ")")
    p.add_argument("--output", help=f"weights path (default {paths.WEIGHTS_DIR}/<dataset>.safetensors)")
    p.add_argument("--dry-run", action="store_true", help="a few batches of one epoch, to check the setup")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per epoch only)")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = build_parser()
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the weights' metadata
    if args.evaluate is None and args.calibrate is None and args.export is None and args.dataset is None:
        p.error("give a data set to train on, or --evaluate WEIGHTS, --calibrate WEIGHTS or --export onnx WEIGHTS")
    if args.export is not None and args.export[0] != "onnx":
        p.error(f"--export: the one format is onnx, not {args.export[0]!r}")
    return args


def run_calibrate(args: argparse.Namespace) -> dict:
    """Finish an existing weights file again (`classifier.training.finish`): fit and store its "not sure"
    (weights unchanged)."""
    ckpt = checkpoint.load(args.calibrate)
    spec = data.get_spec(ckpt.dataset)
    exposure = trainer.trained_outlier_exposure(ckpt.meta.get("train_config") or {})
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("ood", "not_sure_below", "not_sure_margin")}
    finished = finish.finish(ckpt.model, meta, spec, data.load_splits(ckpt.dataset, args.data_dir), exposure)
    finished.save(args.calibrate)
    if finished.ood is None:
        print(f"wrote 'not sure' below {spec.not_sure_below} (and within {spec.not_sure_margin} of the second) "
              f"into {args.calibrate}", file=sys.stderr)
        return {"dataset": ckpt.dataset, "not_sure_below": spec.not_sure_below,
                "not_sure_margin": spec.not_sure_margin}
    detector = finished.ood
    picture = "" if detector.picture_threshold is None else f", pictures {detector.picture_threshold:.3f}"
    print(f"wrote the detector ({ood.score_name(detector.scores)}) into {args.calibrate}: threshold "
          f"{detector.threshold:.3f}{picture}", file=sys.stderr)
    return {"dataset": ckpt.dataset, "ood": detector.meta()}


def run_export(args: argparse.Namespace) -> dict:
    """A weights file as ONNX (`classifier.export`)."""
    from classifier.models import export

    weights = Path(args.export[1])
    output = export.to_onnx(weights, args.output or weights.with_suffix(".onnx"))
    print(f"wrote {output}", file=sys.stderr)
    return {"export": "onnx", "weights": str(weights), "output": str(output)}


def run_evaluate(args: argparse.Namespace) -> dict:
    ckpt = checkpoint.load(args.evaluate)
    images, labels = data.load(ckpt.dataset, "test", args.data_dir)
    _, acc, _ = evaluate(ckpt.model, images, labels, ckpt.normalization)
    return {"dataset": ckpt.dataset, "test_accuracy": round(acc, 4), "n": len(labels)}


def run_train(args: argparse.Namespace) -> dict:
    # --dry-run is a run of its own (one epoch of a few batches), validated like any other.
    config = presets.get(args.preset).config(
        args.dataset, epochs=1 if args.dry_run else args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, hidden=args.hidden, activation=args.activation, dropout=args.dropout,
        batchnorm=args.batchnorm, augment=args.augment, optimizer=args.optimizer, schedule=args.schedule,
        warmup=args.warmup, label_smoothing=args.label_smoothing, outlier_exposure=args.outlier_exposure,
        precision=args.precision, device=args.device, seed=args.seed, val_fraction=args.val_fraction,
        max_batches=5 if args.dry_run else None)
    training = Trainer(config, data_dir=args.data_dir, finish=finish.finish)
    print(f"training {config.dataset} on {training.device}: {len(training.train_x)} train / "
          f"{len(training.val_x)} validation rows, model {training.model_config.hidden}, "
          f"{config.epochs} epochs", file=sys.stderr)
    start = time.perf_counter()
    for m in _with_progress(training, args.no_progress):
        if not m.partial:  # the mid-epoch points are for the app's curves
            tqdm.write(m.summary(), file=sys.stderr)
    train_seconds = time.perf_counter() - start
    report = training.report()
    print(f"test accuracy {report.accuracy:.2%} on {report.n:,} test rows after "
          f"{trainer.epochs_text(training.epochs_done)} ({train_seconds:.0f} s on {training.device})", file=sys.stderr)
    output = args.output or paths.weights_path(config.dataset)
    command = "python train.py " + " ".join(shlex.quote(a) for a in args.argv)
    result = training.checkpoint(report.accuracy, train_seconds=round(train_seconds, 1), command=command,
                            preset=presets.name_of(config))
    if not args.dry_run:
        result.save(output)
        print(f"wrote {output}", file=sys.stderr)
    return {"dataset": config.dataset, "preset": presets.name_of(config), "test_accuracy": round(report.accuracy, 4),
            "n": report.n, "epochs": training.epochs_done, "train_seconds": round(train_seconds, 1),
            "output": None if args.dry_run else str(output)}


def _with_progress(training: Trainer, quiet: bool):
    if quiet:
        yield from training.fit()
        return
    bar = tqdm(total=training.steps_per_epoch, unit="batch", leave=False, file=sys.stderr)

    def on_batch(step: int, total: int) -> None:
        if step == 1:
            bar.reset(total)
            bar.set_description(f"epoch {len(training.history) + 1}/{training.config.epochs}")
        bar.update(1)

    try:
        yield from training.fit(on_batch=on_batch)
    finally:
        bar.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.export:
            result = run_export(args)
        elif args.evaluate:
            result = run_evaluate(args)
        elif args.calibrate:
            result = run_calibrate(args)
        else:
            result = run_train(args)
    except (data.DataError, checkpoint.CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
