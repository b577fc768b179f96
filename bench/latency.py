"""Round-trip latency of /classify_digit through gradio_client, with 1 and with 8 concurrent
clients, and the share of it spent in preprocessing + model.

Starts `python demo.py` on a free local port, sends a 400x400 RGBA drawing of a "7" (the
sketchpad's own format) and times each call end to end (upload, queue, preprocessing, model,
plot, download). Preprocessing + model time is measured in this process on the same input.
The last line printed is JSON.

    python -m bench.latency --requests 200
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "demo.py", "--port", str(port)], cwd=ROOT,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(1.0)
                return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("demo.py did not start")


def drawing(path: Path) -> np.ndarray:
    img = Image.new("RGBA", (400, 400), (255, 255, 255, 255))
    ImageDraw.Draw(img).line([(80, 60), (320, 60), (180, 360)], fill=(0, 0, 0, 255), width=14)
    img.save(path)
    return np.asarray(img)


def in_process_ms(image: np.ndarray, reps: int = 200) -> float:
    """Median milliseconds of preprocessing + model on one drawing, as the app runs them."""
    from classifier import checkpoint, imageprep
    from classifier.predict import Predictor

    predictor = Predictor(checkpoint.load(checkpoint.weights_path("digits")))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        predictor.predict(imageprep.sketch_to_digit(image))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def run_clients(url: str, path: str, clients: int, requests: int) -> dict:
    from gradio_client import Client, handle_file

    value = {"background": None, "layers": [], "composite": handle_file(path)}
    per_client = max(1, requests // clients)

    def worker(_: int) -> tuple[list[float], int]:
        client = Client(url, verbose=False)
        client.predict(value, api_name="/classify_digit")  # warm-up, not timed
        times, errors = [], 0
        for _ in range(per_client):
            t0 = time.perf_counter()
            try:
                label = client.predict(value, api_name="/classify_digit")[0]["label"]
                errors += label != "7"
            except Exception:  # noqa: BLE001 - counted and reported, never hidden
                errors += 1
            times.append(time.perf_counter() - t0)
        return times, errors

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - start
    times = [t for r in results for t in r[0]]
    return {"clients": clients, "requests": len(times), "errors": sum(r[1] for r in results),
            "p50_ms": round(percentile(times, 50) * 1000, 1), "p95_ms": round(percentile(times, 95) * 1000, 1),
            "throughput_rps": round(len(times) / wall, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seven.png"
        image = drawing(path)
        model_ms = in_process_ms(image)
        proc, url = start_app()
        try:
            one = run_clients(url, str(path), 1, args.requests)
            print(f"1 client: {one}", flush=True)
            eight = run_clients(url, str(path), 8, args.requests)
            print(f"8 clients: {eight}", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    result = {"preprocess_plus_model_ms": round(model_ms, 2), "one_client": one, "eight_clients": eight,
              "preprocess_plus_model_share_1_client": round(model_ms / one["p50_ms"], 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
