"""Does the app's memory come back, and does it stay up and answer, under a class's worth of use?

Starts the app (`demo.py`) on a free local port and, on the loopback interface only:

1. warms it up with one whole session (below) and a few requests of each kind, waits, and reads
   its resident memory (RSS): the baseline;
2. runs `--sessions` sessions (3 at a time), each as a browser would: it opens the page's
   heartbeat (Gradio's sign that a page is open), draws digits, uploads hand photos, teaches the
   hand-shape model two signs from real photos (real_hands_dev, beside the data sets) and uses it,
   trains a `quick` digits run, uses it, classifies with it, then closes the page (the heartbeat
   ends, and the app frees the session); meanwhile `--classifiers` clients classify drawings and photos
   without pause;
3. after the sessions close and the app has been idle for `--settle` seconds, reads RSS again;
4. sends hostile pictures one at a time (the largest the limits admit, in the modes that cost
   most to decode) and reads how far each raised the server's peak RSS above what it was just
   before (the kernel's high-water mark, reset before each: /proc/PID/clear_refs).

Reported: errors (goal 0), baseline, peak and settled RSS (goal: settled within 10% of the
baseline), p95 of the classify requests made while a training run was going, and each hostile
picture's RSS rise (goal <= 200 MB). Linux only (reads /proc). The last line printed is JSON.

    python -m bench.soak --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

from bench.latency import start
from classifier.training import presets

ROOT = Path(__file__).resolve().parents[1]
QUICK = presets.get("quick").config("digits")
# /train's inputs for the quick preset on digits, in the Train tab's order (studio.train_tab.SETTINGS).
ACTIVATION = QUICK.activation if isinstance(QUICK.activation, str) else ",".join(QUICK.activation)
QUICK_ARGS = ("digits", ",".join(map(str, QUICK.hidden)), QUICK.epochs, QUICK.lr, QUICK.batch_size, QUICK.augment,
              QUICK.optimizer, ACTIVATION, QUICK.dropout, QUICK.batchnorm, QUICK.schedule, QUICK.weight_decay,
              QUICK.momentum, QUICK.method, QUICK.outlier_exposure)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def start_app(data_dir: Path, cache: Path) -> tuple[subprocess.Popen, str]:
    """The app on a free port, reading `data_dir`, with Gradio's cache in `cache` (its log beside it)."""
    return start("app", {"CLASSIFIER_DATA_DIR": str(data_dir), "GRADIO_TEMP_DIR": str(cache)},
                 cache.parent / "demo.log")


def inputs(folder: Path, data_dir: Path) -> dict[str, str]:
    """A drawn 7 (the sketchpad's own format) and hand photos: Sign Language MNIST test images made
    photo-like where the data is here, else a plain picture."""
    seven = Image.new("RGBA", (400, 400), (255, 255, 255, 255))
    ImageDraw.Draw(seven).line([(80, 60), (320, 60), (180, 360)], fill=(0, 0, 0, 255), width=14)
    out = {"drawing": str(folder / "seven.png")}
    seven.save(out["drawing"])
    try:
        from classifier import data
        from classifier.inputs import photos

        x, _ = data.load("signs", "test", data_dir)
        rng = np.random.default_rng(0)
        for k in range(3):
            pic = photos.make(x[k * 100].numpy(), "plain", rng)
            out[f"photo{k}"] = str(folder / f"photo{k}.jpg")
            Path(out[f"photo{k}"]).write_bytes(pic.data)
    except Exception:  # noqa: BLE001 - no sign data here: a plain picture still exercises the whole path
        out["photo0"] = str(folder / "photo0.png")
        Image.new("RGB", (640, 480), (190, 160, 140)).save(out["photo0"])
    real = data_dir / "real_hands_dev"
    for letter in ("A", "L"):
        for k in (1, 2):
            if (real / letter / f"vedant_{k}.jpg").is_file():
                out[f"hand {letter} {k}"] = str(real / letter / f"vedant_{k}.jpg")
    return out


def sketch(path: str) -> dict:
    return {"background": None, "layers": [], "composite": handle_file(path)}


class Heartbeat:
    """What an open page keeps: Gradio's heartbeat stream for the session; closing it closes the page."""

    def __init__(self, url: str, session_hash: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, session_hash), daemon=True)
        self._thread.start()

    def _run(self, url: str, session_hash: str) -> None:
        with httpx.Client(timeout=None) as http, \
                http.stream("GET", f"{url}gradio_api/heartbeat/{session_hash}") as stream:
            for _ in stream.iter_lines():
                if self._stop.is_set():
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def one_session(url: str, files: dict[str, str], log: Callable[[str, float, bool], None]) -> None:
    """One visitor: draws, uploads photos, teaches the hand-shape model two signs (where the real
    hand photos are here), trains a quick run, uses it, closes the page."""
    client = Client(url, verbose=False)
    beat = Heartbeat(url, client.session_hash)
    try:
        for _ in range(3):
            client.predict(sketch(files["drawing"]), api_name="/classify_digit")
        for name in [k for k in files if k.startswith("photo")][:2]:
            client.predict(handle_file(files[name]), api_name="/classify_sign")
        teach = sorted(k for k in files if k.startswith("hand "))
        if teach:  # real photos of two signs, two each: teach them, train, classify with the result
            for name in teach:
                client.predict(handle_file(files[name]), name.split()[1], api_name="/teach_sign")
            client.predict(api_name="/teach_train")
            client.predict(handle_file(files[teach[0]]), api_name="/classify_sign")
        start = time.monotonic()
        client.predict(*QUICK_ARGS, api_name="/train")
        log("train", time.monotonic() - start, True)
        client.predict(api_name="/use_model")
        client.predict(sketch(files["drawing"]), api_name="/classify_digit")
    finally:
        beat.close()
        client.close()


def hostile_pictures(folder: Path) -> dict[str, Path]:
    """The largest pictures the limits admit, in the modes that cost most to decode, each under the
    upload limit (smooth, so they compress)."""
    w, h = 6000, 4000  # 24 megapixels, 3:2
    ramp = (np.add.outer(np.arange(h), np.arange(w)) % 256).astype(np.uint8)
    pictures = {"RGBA 6000x4000 PNG": Image.fromarray(np.dstack([ramp, ramp, ramp, 255 - ramp])),
                "16-bit 6000x4000 PNG": Image.fromarray(ramp.astype(np.uint16) * 257),
                "palette+transparency 6000x4000 PNG": Image.fromarray(ramp).convert("P")}
    out = {}
    for name, img in pictures.items():
        path = folder / (name.split()[0].replace("+", "-") + ".png")
        img.save(path, **({"transparency": 0} if img.mode == "P" else {}))
        out[name] = path
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CLASSIFIER_DATA_DIR", "data")))
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--classifiers", type=int, default=8)
    p.add_argument("--settle", type=float, default=15.0, help="idle seconds before the settled RSS")
    args = p.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    print(f"files and the app's log: {folder}", flush=True)
    files = inputs(folder, args.data_dir.resolve())
    proc, url = start_app(args.data_dir.resolve(), folder / "gradio-cache")
    events: list[tuple[str, float, float, bool]] = []   # (kind, end time, seconds, ok)
    lock = threading.Lock()

    def log(kind: str, seconds: float, ok: bool) -> None:
        with lock:
            events.append((kind, time.monotonic(), seconds, ok))

    try:
        one_session(url, files, lambda *a: None)  # warm-up: every path once
        time.sleep(args.settle)
        baseline = rss_mb(proc.pid)
        print(f"baseline RSS after start-up and warm-up: {baseline:.0f} MB", flush=True)

        stop = threading.Event()
        peak = [baseline]

        def watch() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mb(proc.pid))
                time.sleep(0.25)

        def classify_forever(k: int) -> None:
            client = Client(url, verbose=False)
            photos = [v for n, v in files.items() if n.startswith("photo")]
            i = 0
            while not stop.is_set():
                start = time.monotonic()
                try:
                    if i % 2:
                        client.predict(handle_file(photos[i % len(photos)]), api_name="/classify_sign")
                    else:
                        client.predict(sketch(files["drawing"]), api_name="/classify_digit")
                    log("classify", time.monotonic() - start, True)
                except Exception:  # noqa: BLE001 - counted as an error: the figure the bench reports
                    log("classify", time.monotonic() - start, False)
                i += 1

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        background = [threading.Thread(target=classify_forever, args=(k,), daemon=True)
                      for k in range(args.classifiers)]
        for t in background:
            t.start()
        session_errors = []
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(one_session, url, files, log) for _ in range(args.sessions)]
            for f in futures:
                try:
                    f.result()
                except Exception as e:  # noqa: BLE001 - counted and reported
                    session_errors.append(repr(e))
        stop.set()
        for t in [*background, watcher]:
            t.join(timeout=120)
        time.sleep(args.settle)
        settled = rss_mb(proc.pid)

        trains = [(end - secs, end) for kind, end, secs, _ in events if kind == "train"]
        during = [secs for kind, end, secs, ok in events
                  if kind == "classify" and ok and any(a <= end <= b for a, b in trains)]
        classify = [e for e in events if e[0] == "classify"]
        errors = sum(not ok for kind, _, _, ok in classify) + len(session_errors)

        hostile = {}
        client = Client(url, verbose=False)
        for name, path in hostile_pictures(folder).items():
            before = rss_mb(proc.pid)
            reset_peak(proc.pid)
            start = time.monotonic()
            try:
                client.predict(handle_file(str(path)), api_name="/classify_sign")
                answer = "answered"
            except Exception as e:  # noqa: BLE001 - a clear refusal is a fine answer; the figure is memory
                answer = f"refused: {e}"[:120]
            hostile[name] = {"rss_rise_mb": round(rss_mb(proc.pid, "VmHWM") - before, 1),
                             "seconds": round(time.monotonic() - start, 2), "answer": answer,
                             "file_mb": round(path.stat().st_size / 1e6, 1)}
            time.sleep(2)
        alive = client.predict(sketch(files["drawing"]), api_name="/classify_digit")[0]["label"] == "7"
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    result = {
        "sessions": args.sessions, "classifiers": args.classifiers,
        "classify_requests": len(classify), "errors": errors, "session_errors": session_errors[:5],
        "rss_baseline_mb": round(baseline, 1), "rss_peak_mb": round(peak[0], 1),
        "rss_settled_mb": round(settled, 1), "settled_over_baseline": round(settled / baseline, 3),
        "classify_p95_ms_while_training": round(float(np.percentile(during, 95)) * 1000, 1) if during else None,
        "classify_p95_ms": round(float(np.percentile([s for _, _, s, ok in classify if ok], 95)) * 1000, 1),
        "classify_requests_while_training": len(during),
        "hostile": hostile, "alive_after": alive,
    }
    print(f"errors: {errors} ({len(classify)} classify requests, {args.sessions} sessions)")
    print(f"RSS: baseline {baseline:.0f} MB, peak {peak[0]:.0f} MB, settled {settled:.0f} MB "
          f"({settled / baseline:.1%} of baseline)")
    print(f"classify p95 while training: {result['classify_p95_ms_while_training']} ms "
          f"({len(during)} requests); overall {result['classify_p95_ms']} ms")
    for name, h in hostile.items():
        print(f"hostile {name} ({h['file_mb']} MB file): RSS +{h['rss_rise_mb']} MB, {h['seconds']} s, {h['answer']}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
