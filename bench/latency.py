"""How fast a stroke is classified, measured beside Gradio's own floor in the same run.

Starts the app (`demo.py`) and a bare Gradio app with the same /classify_digit signature that
does no work (`bench/bare_app.py`) on free local ports, and measures each (only one is loaded at
a time; the client scenarios alternate between the two for `--rounds` rounds, medians kept):

- round trip through gradio_client (upload, queue, preprocessing, model, response) of a 400x400
  RGBA drawing of a "7" (the sketchpad's own format), with 1 and with 8 concurrent clients
  (connected and warmed up before the clock starts);
- `--browser`: in Chromium (Playwright), the time from the end of a stroke to its answer on the
  page, over 30 strokes (each after a Clear): the app's stroke pad (`studio/canvas.py`, strokes
  as JSON) beside the bare app's Sketchpad (Gradio's picture upload, doing no work);
- `--capacity`: how many simulated drawing students one process holds: N users each send one
  stroke a second for `--capacity-seconds`, the app's through the page's own transport (the
  POST the pad's event makes, a drawing's strokes), the bare app's as a Sketchpad picture through
  gradio_client; the largest N with p95 <= `--capacity-p95` ms and no errors.

Preprocessing + model time is also measured in this process on the same drawing. Everything
runs on this machine's loopback interface; the last line printed is JSON.

    python -m bench.latency --requests 200 --browser --capacity
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
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from studio import canvas

ROOT = Path(__file__).resolve().parents[1]
APPS = {"app": [sys.executable, "demo.py", "--port"], "bare": [sys.executable, "-m", "bench.bare_app", "--port"]}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def start(name: str, env: dict[str, str] | None = None, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Start one of APPS on a free port (with `env` added to this environment; its output to `log`)
    and wait until it answers: the process and its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([*APPS[name], str(port)], cwd=ROOT,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
                            stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{name} did not start") from None
            time.sleep(0.5)
    time.sleep(1.0)
    return proc, f"http://127.0.0.1:{port}/"


@contextmanager
def running(name: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start one of APPS on a free port (with `env`); yield its URL; stop it."""
    proc, url = start(name, env)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def drawing(path: Path) -> np.ndarray:
    img = Image.new("RGBA", (400, 400), (255, 255, 255, 255))
    ImageDraw.Draw(img).line([(80, 60), (320, 60), (180, 360)], fill=(0, 0, 0, 255), width=14)
    img.save(path)
    return np.asarray(img)


def in_process_ms(image: np.ndarray, reps: int = 200) -> float:
    """Median milliseconds of preprocessing + model on one drawing, as the app runs them."""
    from classifier import paths
    from classifier.inputs import imageprep
    from classifier.models import checkpoint
    from classifier.serving.predict import Predictor

    predictor = Predictor(checkpoint.load(paths.weights_path("digits")))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        predictor.predict(imageprep.sketch_to_digit(image))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _value(path: str) -> dict:
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(path)}


def run_clients(url: str, path: str, clients: int, requests: int) -> dict:
    """`clients` concurrent clients sending `requests` in all, back to back. Clients connect and
    warm up first; the clock runs from a common start to the last answer."""
    from gradio_client import Client

    per_client = max(1, requests // clients)
    ready = threading.Barrier(clients + 1)

    def worker(_: int) -> tuple[list[float], int]:
        with closing(Client(url, verbose=False)) as client:  # close() ends the client's heartbeat thread
            client.predict(_value(path), "", api_name="/classify_digit")  # warm-up, not timed
            ready.wait()
            return requests_from(client)

    def requests_from(client) -> tuple[list[float], int]:
        times, errors = [], 0
        for _ in range(per_client):
            t0 = time.perf_counter()
            try:
                label = client.predict(_value(path), "", api_name="/classify_digit")[0]["label"]
                if label != "7":
                    errors += 1
                    print(f"  wrong answer: {label!r}", flush=True)
            except Exception as e:  # noqa: BLE001 - counted and reported, never hidden
                errors += 1
                print(f"  error: {type(e).__name__}: {e}", flush=True)
            times.append(time.perf_counter() - t0)
        return times, errors

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(worker, k) for k in range(clients)]
        ready.wait()
        start = time.perf_counter()
        results = [f.result() for f in futures]
    wall = time.perf_counter() - start
    times = [t for r in results for t in r[0]]
    return {"clients": clients, "requests": len(times), "errors": sum(r[1] for r in results),
            "p50_ms": round(percentile(times, 50) * 1000, 1), "p95_ms": round(percentile(times, 95) * 1000, 1),
            "throughput_rps": round(len(times) / wall, 2)}


class PageStrokes:
    """Sends a drawing the way the page's stroke pad does: one POST of its strokes to Gradio's
    /gradio_api/run/predict (the pad's event skips the queue), in a session of its own."""

    def __init__(self, url: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=url, timeout=30)
        deps = self.http.get("config").raise_for_status().json()["dependencies"]
        self.fn_index = next(d.get("id", i) for i, d in enumerate(deps) if d.get("api_name") == "classify_strokes")
        self.session = os.urandom(6).hex()

    def label(self, drawing: str) -> str:
        """The answer's label for a drawing's strokes as JSON text (what the pad's value holds)."""
        r = self.http.post("gradio_api/run/predict", json={
            "data": [drawing, ""], "fn_index": self.fn_index, "session_hash": self.session,
            "event_data": None, "trigger_id": None})
        return r.raise_for_status().json()["data"][0]["label"]

    def close(self) -> None:
        self.http.close()


def paced_users(url: str, path: str, users: int, seconds: float, strokes: bool = False) -> dict:
    """`users` clients each sending one request a second (the next after the answer, at the
    earliest one second after the last was sent) for `seconds`: the stroke pad's POSTs
    (`strokes`), else Sketchpad pictures through gradio_client's /classify_digit."""
    from gradio_client import Client

    stop_at = time.monotonic() + 5 + seconds  # 5 s to connect everyone
    lock = threading.Lock()
    times: list[float] = []
    errors = [0]

    def user(k: int) -> None:
        if strokes:
            page = PageStrokes(url)
            try:
                requests_from(lambda: page.label(canvas.SEVEN), k)
            finally:
                page.close()
            return
        with closing(Client(url, verbose=False)) as client:
            requests_from(lambda: client.predict(_value(path), "", api_name="/classify_digit")[0]["label"], k)

    def requests_from(send, k: int) -> None:
        send()
        time.sleep(k / users)  # spread the users over the second
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                ok = send() == "7"
            except Exception as e:  # noqa: BLE001 - counted and reported, never hidden
                ok = False
                print(f"  error: {type(e).__name__}: {e}", flush=True)
            elapsed = time.monotonic() - t0
            with lock:
                times.append(elapsed)
                errors[0] += not ok
            time.sleep(max(0.0, 1.0 - elapsed))

    with ThreadPoolExecutor(users) as pool:
        list(pool.map(user, range(users)))
    return {"users": users, "requests": len(times), "errors": errors[0],
            "p50_ms": round(percentile(times, 50) * 1000, 1), "p95_ms": round(percentile(times, 95) * 1000, 1)}


def capacity(url: str, path: str, seconds: float, steps: list[int], p95_ms: float, strokes: bool = False) -> dict:
    """The largest N in `steps` (tried in order, stopping at the first failure) with p95 <= `p95_ms`
    and no errors."""
    tried, best = [], 0
    for n in steps:
        r = paced_users(url, path, n, seconds, strokes)
        tried.append(r)
        print(f"  {n} users: {r}", flush=True)
        if r["errors"] or r["p95_ms"] > p95_ms:
            break
        best = n
    return {"max_users": best, "p95_limit_ms": p95_ms, "transport": "stroke pad POST" if strokes
            else "Sketchpad picture via gradio_client", "runs": tried}


def browser_strokes(url: str, strokes: int = 30) -> dict:
    """Milliseconds from the end of a stroke to its answer on the page (each stroke after a Clear)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        canvas = page.locator("#digit-input canvas").first
        canvas.wait_for(timeout=60_000)
        sketchpad = page.locator("#digit-input button[aria-label='Brush']").count() > 0
        box = canvas.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        label = "document.querySelector('#digit-view').innerText"
        brush = "document.querySelector('#digit-input button[aria-label=\"Brush\"]')"

        def pick_brush() -> None:
            # A Sketchpad starts, and restarts after a clear, with no tool: pick the brush. (The
            # stroke pad has only a brush.)
            if not sketchpad:
                return
            try:
                page.wait_for_function(f"{brush}?.classList.contains('highlight')", timeout=1000)
            except PlaywrightTimeout:
                page.locator("#digit-input button[aria-label='Brush']").first.click()
                page.wait_for_function(f"{brush}?.classList.contains('highlight')", timeout=5000)

        times = []
        for _ in range(strokes + 1):  # the first stroke warms up, not timed
            pick_brush()
            page.mouse.move(cx - 80, cy - 90)
            page.mouse.down()
            page.mouse.move(cx + 80, cy - 90, steps=10)
            page.mouse.move(cx - 20, cy + 100, steps=10)
            t0 = page.evaluate("performance.now()")
            page.mouse.up()
            page.wait_for_function(f"!{label}.includes('draw a digit') && {label}.includes('7')", timeout=30_000,
                                   polling="raf")
            times.append(page.evaluate("performance.now()") - t0)
            page.locator("#digit-input button[aria-label='Clear canvas']").click()
            page.wait_for_function(f"{label}.includes('draw a digit')", timeout=30_000)
        browser.close()
    times = times[1:]
    return {"input": "Sketchpad" if sketchpad else "stroke pad", "strokes": len(times),
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 95), 1)}


def median_run(runs: list[dict]) -> dict:
    """The median of each figure over rounds (errors: the total)."""
    keys = ("p50_ms", "p95_ms", "throughput_rps")
    return {**{k: round(statistics.median(r[k] for r in runs), 2) for k in keys},
            "errors": sum(r["errors"] for r in runs), "requests": sum(r["requests"] for r in runs),
            "clients": runs[0]["clients"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=200, help="timed requests per client scenario and round")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the client scenarios, apps alternating")
    p.add_argument("--browser", action="store_true", help="also time strokes to answers in Chromium")
    p.add_argument("--capacity", action="store_true", help="also find how many paced users one process holds")
    p.add_argument("--capacity-seconds", type=float, default=60)
    p.add_argument("--capacity-steps", default="4,8,12,16,20,24,32,48,64",
                   help="user counts to try, in order, up to the first that fails")
    p.add_argument("--capacity-p95", type=float, default=300, help="p95 milliseconds a held load may reach")
    args = p.parse_args()
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp, running("bare") as bare_url, running("app") as app_url:
        path = Path(tmp) / "seven.png"
        result["preprocess_plus_model_ms"] = round(in_process_ms(drawing(path)), 2)
        urls = {"bare": bare_url, "app": app_url}
        rounds: dict = {name: {"one_client": [], "eight_clients": []} for name in urls}
        # The machine is shared and noisy: alternate the two apps, several rounds, and keep medians.
        for k in range(args.rounds):
            for name, url in urls.items():
                for key, clients in (("one_client", 1), ("eight_clients", 8)):
                    r = run_clients(url, str(path), clients, args.requests)
                    rounds[name][key].append(r)
                    print(f"round {k + 1}, {name}, {clients} client(s): {r}", flush=True)
        for name, url in urls.items():
            r = result[name] = {key: median_run(runs) for key, runs in rounds[name].items()}
            r["rounds"] = rounds[name]
            if args.browser:
                r["browser"] = browser_strokes(url)
                print(f"{name}, browser: {r['browser']}", flush=True)
            if args.capacity:
                print(f"{name}, capacity:", flush=True)
                steps = [int(v) for v in args.capacity_steps.split(",")]
                r["capacity"] = capacity(url, str(path), args.capacity_seconds, steps, args.capacity_p95,
                                         strokes=name == "app")
    app, bare = result["app"], result["bare"]
    result["ratios"] = {
        "throughput_8_clients_app_over_bare": round(app["eight_clients"]["throughput_rps"]
                                                    / bare["eight_clients"]["throughput_rps"], 3),
        "p50_1_client_app_over_bare": round(app["one_client"]["p50_ms"] / bare["one_client"]["p50_ms"], 3),
    }
    if args.browser:
        # The same pad with its event through Gradio's queue, the other transport the page could use.
        with running("app", {"CLASSIFIER_STROKES_QUEUE": "1"}) as queued_url:
            result["app_strokes_queued"] = {"browser": browser_strokes(queued_url)}
        print(f"app, strokes through the queue, browser: {result['app_strokes_queued']['browser']}", flush=True)
        result["ratios"]["browser_p50_app_over_bare"] = round(app["browser"]["p50_ms"] / bare["browser"]["p50_ms"], 3)
    result["preprocess_plus_model_share_1_client"] = round(result["preprocess_plus_model_ms"]
                                                           / app["one_client"]["p50_ms"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
