"""Training speed on MNIST, measured in one run so that only same-run ratios matter:

(a) the classic tutorial recipe: torchvision `MNIST` + `DataLoader` with per-sample
    `ToTensor` + `Normalize`, batch 64, 784-128(ReLU)-64(Tanh)-10, SGD lr 0.01 momentum 0.9.
    Timed over --tutorial-batches batches and extrapolated to an epoch; the tutorial reports
    97.2% test accuracy after 15 epochs, so its time-to-97.2% is 15 epochs.
(b) this project's default digits recipe: wall time until test accuracy first reaches 97.2%
    (test accuracy checked every --eval-every batches, clock paused while checking), and
    seconds per epoch with the achieved GFLOP/s.
(b') the same with `--precision bf16` (bfloat16 autocast); skipped on a CPU without native bf16
    (there it is emulated: one epoch took 181 s against 8.5 s in fp32), unless --bf16 always.
(c) this project's trainer on the tutorial's own net, batch size and optimizer (the `tutorial` preset).
(d) the `quick` preset (`classifier.presets`): 784-256-10 with BatchNorm, one epoch of AdamW.
Times to the target count from just before the trainer is built (so its one-off work counts: data
to the device, inputs normalized once); the outliers for outlier exposure, which a process makes
once for every run (the app at its first digits run), are made before the clocks start.
plus the training device's fp32 matmul GFLOP/s (2048x2048, the better of a measurement before and one after
the runs). The last line printed is JSON with every figure.

    python -m bench.train_speed --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import torch
from torch import nn

from classifier import data
from classifier.training import presets
from classifier.training.trainer import TrainConfig, Trainer, evaluate, recipe, resolve_device

TARGET = 0.972
TUTORIAL_EPOCHS_TO_TARGET = 15


def matmul_gflops(device: torch.device, n: int = 2048, seconds: float = 3.0) -> float:
    """The fp32 matrix multiply's GFLOP/s on the training device (a GPU's timed after it finishes)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(3):
        a @ b
    sync()
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        reps += 1
        if reps % 50 == 0:
            sync()
    sync()
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def tutorial_seconds_per_epoch(data_dir: Path, batches: int) -> dict:
    import torchvision
    from torchvision import transforms

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        # torchvision's MNIST(download=False) reads the uncompressed IDX files.
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
            src = data_dir / "MNIST" / "raw" / name
            gz = Path(str(src) + ".gz")
            if gz.exists():
                with gzip.open(gz, "rb") as f, open(raw / name, "wb") as out:
                    shutil.copyfileobj(f, out)
            else:
                shutil.copy(src, raw / name)
        for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            (raw / name).write_bytes(b"")  # not used; torchvision only checks they exist
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
        train_set = torchvision.datasets.MNIST(tmp, train=True, download=False, transform=transform)
        loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
        torch.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.Tanh(),
                              nn.Linear(64, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        it = iter(loader)
        for _ in range(5):  # warm-up
            x, y = next(it)
        start = time.perf_counter()
        for _ in range(batches):
            x, y = next(it)
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        per_batch = (time.perf_counter() - start) / batches
    per_epoch = per_batch * len(loader)
    return {"batches_timed": batches, "seconds_per_epoch": round(per_epoch, 2),
            "time_to_target_s": round(per_epoch * TUTORIAL_EPOCHS_TO_TARGET, 1),
            "epochs_to_target": TUTORIAL_EPOCHS_TO_TARGET}


def time_to_target(config: TrainConfig, splits: data.Splits, eval_every: int, min_epochs: int = 1) -> dict:
    """Train until test accuracy first reaches TARGET (and at least min_epochs), clock paused for checks."""
    stop = threading.Event()
    start = time.perf_counter()
    # Curve points off: the bench takes its own accuracy checks, with the clock paused.
    trainer = Trainer(config, splits=splits, stop_event=stop, points_per_epoch=1)
    t0 = time.perf_counter()
    test_x, test_y = splits.test_x.to(trainer.device), splits.test_y.to(trainer.device)
    state = {"paused": time.perf_counter() - t0, "reached_s": None, "reached_epoch": None, "acc": 0.0}
    paused_per_epoch: dict[int, float] = {}

    def on_batch(step: int, total: int) -> None:
        epoch = len(trainer.history)
        if state["reached_s"] is None and (step % eval_every == 0 or step == total):
            t0 = time.perf_counter()
            _, acc, _ = evaluate(trainer.model, test_x, test_y, trainer.spec.normalization)
            state["acc"] = acc
            if acc >= TARGET:
                state["reached_s"] = t0 - start - state["paused"]
                state["reached_epoch"] = epoch + step / total
            spent = time.perf_counter() - t0
            state["paused"] += spent
            paused_per_epoch[epoch] = paused_per_epoch.get(epoch, 0.0) + spent
        if state["reached_s"] is not None and epoch >= min_epochs:
            stop.set()

    # Seconds per full epoch with the accuracy checks taken out.
    epoch_seconds = []
    for m in trainer.fit(on_batch=on_batch):
        if not m.stopped:
            seconds = len(trainer.train_x) / m.samples_per_sec
            epoch_seconds.append(seconds - paused_per_epoch.get(m.epoch - 1, 0.0))
    train_rows = len(trainer.train_x)
    sps = train_rows / (sum(epoch_seconds) / len(epoch_seconds)) if epoch_seconds else float("nan")
    flops = 3 * trainer.model.flops_per_sample()  # forward + backward (2x forward)
    return {
        "time_to_target_s": None if state["reached_s"] is None else round(state["reached_s"], 2),
        "epochs_to_target": None if state["reached_epoch"] is None else round(state["reached_epoch"], 2),
        "seconds_per_epoch": round(train_rows / sps, 2),
        "samples_per_sec": round(sps),
        "gflops": round(sps * flops / 1e9, 1),
        "hidden": trainer.model_config.hidden,
        "batch_size": config.batch_size,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--tutorial-batches", type=int, default=300)
    p.add_argument("--eval-every", type=int, default=20, help="batches between test-accuracy checks")
    p.add_argument("--device", default="auto")
    p.add_argument("--bf16", choices=["auto", "always"], default="auto",
                   help="auto: time bf16 only where the CPU (or a GPU) does it natively")
    args = p.parse_args()
    root = data.data_dir(args.data_dir)
    splits = data.load_splits("digits", root)
    kind = data.get_spec("digits").kind
    if kind is not None and kind.makes_outliers:
        kind.outlier_pool()

    device = resolve_device(args.device)
    # The machine is shared: measure the matmul peak before and after the runs and keep the best.
    gflops_before = matmul_gflops(device)
    result: dict = {"target_accuracy": TARGET}
    print(f"fp32 matmul: {gflops_before:.1f} GFLOP/s", flush=True)
    result["tutorial"] = tutorial_seconds_per_epoch(root, args.tutorial_batches)
    print(f"(a) tutorial recipe: {result['tutorial']}", flush=True)
    default = recipe("digits", device=args.device)
    result["default_recipe"] = time_to_target(default, splits, args.eval_every)
    print(f"(b) default recipe: {result['default_recipe']}", flush=True)
    if args.bf16 == "always" or device.type == "cuda" or torch.ops.mkldnn._is_mkldnn_bf16_supported():
        result["default_recipe_bf16"] = time_to_target(recipe("digits", device=args.device, precision="bf16"),
                                                       splits, args.eval_every)
    else:
        result["default_recipe_bf16"] = {"skipped": "this CPU has no native bf16 (it would be emulated)"}
    print(f"(b') default recipe, bf16 autocast: {result['default_recipe_bf16']}", flush=True)
    tutorial_net = presets.get("tutorial").config("digits", device=args.device)
    result["trainer_tutorial_net"] = time_to_target(tutorial_net, splits, eval_every=100)
    print(f"(c) this trainer, tutorial net: {result['trainer_tutorial_net']}", flush=True)
    result["quick_preset"] = time_to_target(presets.get("quick").config("digits", device=args.device), splits,
                                            eval_every=10)
    print(f"(d) the quick preset: {result['quick_preset']}", flush=True)
    result["machine_matmul_gflops"] = round(max(gflops_before, matmul_gflops(device)), 1)
    b = result["default_recipe"]
    if b["time_to_target_s"]:
        result["speedup_time_to_target"] = round(result["tutorial"]["time_to_target_s"] / b["time_to_target_s"], 1)
    q = result["quick_preset"]
    # Top-level, so other tools can read the figure the README quotes.
    result["speedup_quick_time_to_target"] = (
        round(result["tutorial"]["time_to_target_s"] / q["time_to_target_s"], 1) if q["time_to_target_s"] else None)
    result["default_matmul_utilization"] = round(b["gflops"] / result["machine_matmul_gflops"], 2)
    result["device"] = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    result["torch_threads"] = torch.get_num_threads()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
