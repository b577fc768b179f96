"""A class at once: does every student's run reach the teacher's page, and how soon?

    python -m bench.classroom --data-dir ../shared/datasets                 # one process, SQLite
    python -m bench.classroom --processes 2 --database postgresql+psycopg://user:pass@localhost/db

A teacher makes a class (/make_class) and opens the teacher's page in Chromium (the teacher link);
`--students` clients, each a session of its own, join at once (/join_class) and each trains a
`quick` digits run (/train). The page records, in the browser, when each student's finished run
(a row with its test accuracy) first shows; the store says when each run ended (/class_overview).
Reported: students joined, runs finished, runs on the page (goal: all), and the seconds from a run's
end to the page (p50, p95, max). `--processes 2`: `deploy/serve 2` (HAProxy in front of two
processes) instead of one `demo.py`. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from gradio_client import Client

from bench.latency import CHROMIUM, percentile
from bench.processes import free_port, start_app
from bench.soak import QUICK_ARGS
from deploy.serve import wait_port

ROOT = Path(__file__).resolve().parents[1]
# In the teacher's page: when each student's finished run first shows (seconds, the machine's clock).
WATCH_JS = """() => {
  window.__firstSeen = {};
  setInterval(() => {
    for (const row of document.querySelectorAll('#teacher-runs tr[data-run]')) {
      const cells = row.querySelectorAll('td');
      if (cells.length > 4 && cells[4].innerText.includes('%') && !(cells[0].innerText in window.__firstSeen))
        window.__firstSeen[cells[0].innerText] = Date.now() / 1000;
    }
  }, 20);
}"""


def student(url: str, code: str, name: str, out: dict[str, Any]) -> None:
    client = Client(url, verbose=False)
    try:
        client.predict(code, name, api_name="/join_class")
        out[name] = {"joined": True}
        client.predict(*QUICK_ARGS, api_name="/train")
        out[name]["trained"] = True
    except Exception as e:  # noqa: BLE001 - a failed student is counted, the class goes on
        out.setdefault(name, {})["error"] = f"{type(e).__name__}: {e}"


def serve(args: argparse.Namespace, state: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if args.processes == 1:
        database = args.database or f"sqlite:///{state}/store.db"
        return start_app(port, database, args.data_dir, Path(state) / "app.log"), f"http://127.0.0.1:{port}/"
    env = {**os.environ, "CLASSIFIER_DATA_DIR": str(args.data_dir), "GRADIO_ANALYTICS_ENABLED": "False",
           "CLASSIFIER_STATE_DIR": state}
    proc = subprocess.Popen([str(ROOT / "deploy" / "serve"), str(args.processes), "--port", str(port),
                             "--first-app-port", str(free_port()),
                             *(["--database", args.database] if args.database else [])], env=env)
    wait_port(port, proc)
    time.sleep(3)
    return proc, f"http://127.0.0.1:{port}/"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    state = tempfile.mkdtemp(prefix="bench-classroom-")
    proc, url = serve(args, state)
    try:
        teacher = Client(url, verbose=False)
        made = teacher.predict("bench class", api_name="/make_class")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{url}#teacher={made['teacher_key']}")
            page.wait_for_selector("#digit-input canvas[data-ready]", timeout=60_000)
            page.get_by_role("tab", name="Class", exact=True).click()
            page.wait_for_selector("#teacher-header", timeout=60_000)
            page.evaluate(WATCH_JS)
            results: dict[str, Any] = {}
            names = [f"student {k:02d}" for k in range(args.students)]
            start = time.monotonic()
            threads = [threading.Thread(target=student, args=(url, made["join_code"], n, results)) for n in names]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            all_trained = time.monotonic() - start
            trained = [n for n in names if results.get(n, {}).get("trained")]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if len(page.evaluate("() => window.__firstSeen")) >= len(trained):
                    break
                time.sleep(0.2)
            seen = page.evaluate("() => window.__firstSeen")
            browser.close()
        overview = teacher.predict(made["teacher_key"], api_name="/class_overview")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    finished = {r["student"]: r["finished_at"] for r in overview["runs"] if r["status"] == "done"}
    lags = sorted(seen[n] - finished[n] for n in finished if n in seen)
    errors = [f"{n}: {r['error']}" for n, r in results.items() if "error" in r]
    return {"processes": args.processes, "students": args.students,
            "joined": sum(1 for n in names if results.get(n, {}).get("joined")),
            "on_teacher_list": len(overview["students"]), "runs_finished": len(finished),
            "runs_on_page": sum(1 for n in finished if n in seen),
            "lag_p50_s": round(statistics.median(lags), 2) if lags else None,
            "lag_p95_s": round(percentile(lags, 95), 2) if lags else None,
            "lag_max_s": round(max(lags), 2) if lags else None,
            "seconds_all_runs": round(all_trained, 1), "errors": errors[:5]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CLASSIFIER_DATA_DIR", "data")))
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--database", default=None, help="the store's URL (default: SQLite in a fresh state folder)")
    args = p.parse_args()
    result = run(args)
    print(f"{result['joined']}/{args.students} joined, {result['runs_finished']} runs finished, "
          f"{result['runs_on_page']} on the teacher's page; from a run's end to the page: p50 {result['lag_p50_s']} s, "
          f"p95 {result['lag_p95_s']} s, max {result['lag_max_s']} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
