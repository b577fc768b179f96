"""Is nothing a learner makes lost when a process dies, and do two processes serve a class?

    python -m bench.processes restart --data-dir ../shared/datasets
    python -m bench.processes cluster --database postgresql+psycopg://user:pass@localhost/db

`restart`: one app process (`demo.py`, its own SQLite store). `--projects` projects, each made as a
visitor would through the API: a `linear` digits run trained and used, a weights file brought back,
and (where real_hands_dev is beside the data sets) two signs taught from real photos. Each
project's runs, its Draw tab's answer to a drawing (which says which model it uses) and its Hand
signs answer to a photo (its taught model) are read; the process is killed (SIGKILL) and started
again on the same store; each project is opened by its key from a new client and read again.
Reported: the share of projects whose runs, choices and taught models are all back (goal 100%), and
how long opening a project with 8 runs takes (`/open_project` then `/list_runs`; and in Chromium:
from loading the project's link to its 8 runs on the page; goal <= 1 s).

`cluster`: `deploy/serve 2` (HAProxy in front of two processes; the store at --database) on this
machine. `--users` drawing users, each in a session of its own behind the balancer's cookie,
send the stroke pad's request once a second while `--trainers` clients each train a `quick`
digits run; `--kill-at` seconds in, one app process is killed (SIGKILL). Reported: requests that
failed and whether each was in flight at the kill, whether every user's next request after the
kill was answered, strokes' p95 outside the second after the kill (goal <= 300 ms), and every run
finished before the kill still in its project after it. Then the throughput of the two processes
against one of them alone (16 clients sending strokes back to back for `--seconds-each`, through
the balancer, then straight to one process), measured in the same run. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gradio_client import Client, handle_file

from bench.latency import PageStrokes, percentile
from bench.soak import QUICK_ARGS
from classifier.inputs import strokes
from deploy.serve import wait_port
from studio import canvas

ROOT = Path(__file__).resolve().parents[1]
LINEAR_ARGS = ("digits", "", 1, *QUICK_ARGS[3:])   # /train: a linear model, one epoch
SIGNS = ("L", "V")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, database: str, data_dir: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CLASSIFIER_DATA_DIR": str(data_dir), "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "demo.py", "--port", str(port), "--database",
                             database], cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
    wait_port(port, proc)
    time.sleep(1.0)
    return proc


def drawing_png(folder: Path) -> str:
    """The stroke pad's seven, drawn as the pad draws it, as a picture file (for /classify_digit)."""
    path = folder / "seven.png"
    strokes.rasterize(strokes.parse(canvas.SEVEN)).save(path)
    return str(path)


def real_photos(data_dir: Path) -> dict[str, list[Path]]:
    folder = data_dir / "real_hands_dev"
    return {s: sorted((folder / s).glob("*.jpg"))[:3] for s in SIGNS} if (folder / "labels.csv").is_file() else {}


def make_project(url: str, picture: str, photos: dict[str, list[Path]]) -> dict:
    """A project made as a visitor would; what it holds, as the API reads it back."""
    client = Client(url, verbose=False)
    key = client.predict(api_name="/project_key")
    client.predict(*LINEAR_ARGS, api_name="/train")
    client.predict("1", api_name="/use_model")
    client.predict(handle_file(str(ROOT / "weights" / "signs.safetensors")), api_name="/upload_model")
    if photos:
        for sign, files in photos.items():
            for f in files[:2]:
                client.predict(handle_file(str(f)), sign, api_name="/teach_sign")
        client.predict(api_name="/teach_train")
    return {"key": key, **read_project(client, picture, photos)}


def read_project(client: Client, picture: str, photos: dict[str, list[Path]]) -> dict:
    digit = client.predict(handle_file(picture), "", api_name="/classify_digit")[0]
    sign = (client.predict(handle_file(str(photos[SIGNS[0]][2])), "", "", api_name="/classify_sign")[0]
            if photos else None)
    return {"runs": client.predict(api_name="/list_runs"), "digit": digit, "sign": sign}


def restart(args: argparse.Namespace) -> dict:
    state = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    database = f"sqlite:///{state / 'studio.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    photos = real_photos(args.data_dir)
    picture = drawing_png(state)
    proc = start_app(port, database, args.data_dir, state / "app.log")
    try:
        before = [make_project(url, picture, photos) for _ in range(args.projects)]
        print(f"made {len(before)} projects; killing the app", flush=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = start_app(port, database, args.data_dir, state / "app.log")
        back = []
        for made in before:
            client = Client(url, verbose=False)
            client.predict(made["key"], api_name="/open_project")
            again = read_project(client, picture, photos)
            back.append({"runs": again["runs"] == made["runs"], "choice": again["digit"] == made["digit"],
                         "taught": again["sign"] == made["sign"]})
        opening = open_timings(url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)
    whole = sum(all(b.values()) for b in back)
    return {"projects": len(back), "restored_pct": round(100 * whole / max(len(back), 1), 1),
            "runs_back": sum(b["runs"] for b in back), "choices_back": sum(b["choice"] for b in back),
            "taught_back": sum(b["taught"] for b in back), "taught_measured": bool(photos), **opening}


def open_timings(url: str, runs: int = 8) -> dict:
    """Seconds to open a project of `runs` runs: through the API (/open_project, then /list_runs), and
    in Chromium from loading its link until its runs are in the Train tab's table; the page's time
    for a project of one run beside it."""
    keys = {}
    for n in (runs, 1):
        maker = Client(url, verbose=False)
        keys[n] = maker.predict(api_name="/project_key")
        for _ in range(n):
            maker.predict(*LINEAR_ARGS, api_name="/train")
    api = []
    for _ in range(5):
        client = Client(url, verbose=False)
        t0 = time.perf_counter()
        client.predict(keys[runs], api_name="/open_project")
        listed = client.predict(api_name="/list_runs")
        api.append(time.perf_counter() - t0)
        assert len(listed) == runs
    page = page_open(url, keys)
    return {"open_8_runs_api_s": round(statistics.median(api), 3), "open_8_runs_page_s": page.get(runs),
            "open_1_run_page_s": page.get(1), "page_ready_s": page.get("ready")}


def page_open(url: str, keys: dict[int, str]) -> dict[Any, float]:
    """Median seconds (3 tries each) from loading a project's link (a reload of the page on it) until
    its runs are in the Train tab's table, for each project in `keys` (number of runs -> key); and
    ("ready") until the page's own scripts have drawn the stroke pad, whatever the project."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {}
    from bench.latency import CHROMIUM

    times: dict[Any, list[float]] = {n: [] for n in [*keys, "ready"]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
            "--disable-component-update", "--disable-sync"])
        for _ in range(3):
            for n, key in keys.items():
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(url)   # the app's page loaded once (its scripts cached), with a project of its own
                page.wait_for_function("() => !!localStorage.getItem('classifier-project')", timeout=60_000)
                t0 = time.perf_counter()
                page.goto(f"{url}#project={key}")
                page.reload()
                page.wait_for_selector("#digit-input canvas[data-ready]", timeout=60_000)
                times["ready"].append(time.perf_counter() - t0)   # the page itself, before any project
                page.get_by_role("tab", name="Train").click()
                page.get_by_role("tab", name="Runs", exact=True).click()
                # One row a run, each naming its data set once.
                page.wait_for_function(f"() => (document.querySelector('#train-runs')?.innerText || '')"
                                       f".split('\\ndigits\\n').length - 1 === {n}", timeout=60_000)
                times[n].append(time.perf_counter() - t0)
                page.close()
        browser.close()
    return {n: round(statistics.median(t), 3) for n, t in times.items()}


# ------------------------------------------------------------------------------ cluster

def app_pid(port: int) -> int:
    """The process of deploy/serve's app on `port` (its command line names the port)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"demo.py" in b" ".join(cmd) and b"--port" in cmd and cmd[cmd.index(b"--port") + 1] == str(port).encode():
            return int(proc.name)
    raise RuntimeError(f"no app process on port {port}")


def gone(pid: int, seconds: float = 30) -> float:
    """Wait until process `pid` (a child of deploy/serve, which reaps it) is gone; when it was seen gone
    (time.monotonic). Not sooner: a killed process's first thread turns zombie while its other threads
    are still exiting, and until the last has, its listening socket still takes connections."""
    deadline = time.monotonic() + seconds
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return time.monotonic()


def strokes_user(url: str, stop_at: float, records: list, k: int, users: int) -> None:
    """One drawing user: the pad's request once a second, each recorded as (start, end, ok, user)."""
    page = PageStrokes(url)
    time.sleep(k / users)
    while time.monotonic() < stop_at:
        t0 = time.monotonic()
        why = ""
        try:
            answer = page.label(canvas.SEVEN)
            ok, why = answer == "7", f"answered {answer!r}"
        except Exception as e:  # noqa: BLE001 - a failed request is what is measured
            ok, why = False, f"{type(e).__name__}: {str(e)[:80]}"
        t1 = time.monotonic()
        records.append((t0, t1, ok, k, why))
        time.sleep(max(0.0, 1.0 - (t1 - t0)))
    page.close()


def trainer(url: str, out: list, stop_at: float) -> None:
    """A client training `quick` digits runs one after another in a project of its own."""
    try:
        client = Client(url, verbose=False)
        key = client.predict(api_name="/project_key")
    except Exception as e:  # noqa: BLE001
        out.append({"error": str(e)})
        return
    entry = {"key": key, "finished": [], "errors": 0}
    out.append(entry)
    while time.monotonic() < stop_at:
        try:
            client.predict(*QUICK_ARGS, api_name="/train")
            entry["finished"].append(time.monotonic())
        except Exception:  # noqa: BLE001 - its process was killed: train again in a new session
            entry["errors"] += 1
            client = Client(url, verbose=False)
            client.predict(key, api_name="/open_project")


def closed_loop(url: str, clients: int, seconds: float) -> float:
    """Strokes answered a second by `clients` sending back to back."""
    stop_at = time.monotonic() + seconds
    counts = [0] * clients

    def go(k: int) -> None:
        page = PageStrokes(url)
        while time.monotonic() < stop_at:
            if page.label(canvas.SEVEN) == "7":
                counts[k] += 1
        page.close()

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(go, range(clients)))
    return sum(counts) / seconds


def cluster(args: argparse.Namespace) -> dict:
    port = free_port()
    first = free_port()
    env = {**os.environ, "CLASSIFIER_DATA_DIR": str(args.data_dir), "GRADIO_ANALYTICS_ENABLED": "False",
           "CLASSIFIER_STATE_DIR": tempfile.mkdtemp(prefix="bench-cluster-")}
    serve = subprocess.Popen([str(ROOT / "deploy" / "serve"), "2", "--port", str(port), "--first-app-port",
                              str(first), *(["--database", args.database] if args.database else [])], env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_port(port, serve)
        time.sleep(3)
        Client(url, verbose=False).predict(*LINEAR_ARGS, api_name="/train")   # each process warm: not sure
        Client(url, verbose=False).predict(*LINEAR_ARGS, api_name="/train")   # calibration made once
        start = time.monotonic()
        stop_at = start + args.seconds
        records: list = []
        runs: list = []
        threads = [threading.Thread(target=strokes_user, args=(url, stop_at, records, k, args.users))
                   for k in range(args.users)]
        threads += [threading.Thread(target=trainer, args=(url, runs, stop_at)) for _ in range(args.trainers)]
        for t in threads:
            t.start()
        time.sleep(args.kill_at)
        victim = first   # the first app process
        pid = app_pid(victim)
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        dead_at = gone(pid)
        back_at = None

        def watch_back() -> None:   # when the killed process answers again (deploy/serve restarts it)
            nonlocal back_at
            wait_port(victim, None)
            back_at = time.monotonic()

        threading.Thread(target=watch_back, daemon=True).start()
        print(f"killed the app on port {victim} at {killed_at - start:.1f} s; gone {dead_at - killed_at:.2f} s "
              "later", flush=True)
        # Every run finished before the kill, with its project's key.
        saved = [(r["key"], len([f for f in r["finished"] if f < killed_at])) for r in runs if "key" in r]
        for t in threads:
            t.join()
        failed = [r for r in records if not r[2]]
        # In flight at the kill: sent before the process was gone, answered (or not) after it was killed.
        in_flight = [r for r in failed if r[0] <= dead_at and r[1] >= killed_at]
        later = {}
        for r in sorted(records):
            if r[0] > dead_at and r[3] not in later:
                later[r[3]] = r[2]
        kept = []
        for key, n in saved:
            client = Client(url, verbose=False)
            client.predict(key, api_name="/open_project")
            done = [r for r in client.predict(api_name="/list_runs") if r["status"] == "done"]
            kept.append(len(done) >= n)
        outside = [r[1] - r[0] for r in records if r[2] and not killed_at <= r[0] <= killed_at + 1.0]
        before = [r[1] - r[0] for r in records if r[2] and r[0] < killed_at]
        after = [r[1] - r[0] for r in records if r[2] and r[0] > killed_at + 1.0]
        back = back_at or float("inf")
        while_down = [r[1] - r[0] for r in records if r[2] and killed_at + 1.0 < r[0] < back]
        once_back = [r[1] - r[0] for r in records if r[2] and r[0] >= back]
        wait_port(victim, None)
        time.sleep(5)   # the balancer sees it up again
        two = closed_loop(url, 16, args.seconds_each)
        one = closed_loop(f"http://127.0.0.1:{first + 1}/", 16, args.seconds_each)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    return {"users": args.users, "trainers": args.trainers, "requests": len(records), "failed": len(failed),
            "failed_in_flight_at_kill": len(in_flight),
            "process_gone_after_s": round(dead_at - killed_at, 2), "users_next_request_answered": sum(later.values()),
            "users_after_kill": len(later), "p95_ms_outside_kill_second": round(percentile(outside, 95) * 1000, 1),
            "p50_ms": round(percentile(outside, 50) * 1000, 1),
            "p95_ms_before_kill": round(percentile(before, 95) * 1000, 1),
            "p95_ms_after_kill_second": round(percentile(after, 95) * 1000, 1),
            "p95_ms_while_killed_process_down": round(percentile(while_down, 95) * 1000, 1) if while_down else None,
            "p95_ms_once_it_is_back": round(percentile(once_back, 95) * 1000, 1) if once_back else None,
            "killed_process_back_after_s": round(back_at - killed_at, 1) if back_at else None,
            "runs_finished_before_kill": sum(n for _, n in saved), "projects_with_all_runs_kept": sum(kept),
            "trainer_projects": len(saved),
            "failures": sorted({f"{r[4]} ({r[0] - killed_at:+.2f} s from the kill)" for r in failed}),
            "rps_two_processes": round(two, 1), "rps_one_process": round(one, 1),
            "two_over_one": round(two / one, 2) if one else None,
            "store": "postgresql" if args.database and args.database.startswith("postgresql") else "sqlite"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["restart", "cluster"])
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CLASSIFIER_DATA_DIR", "data")))
    p.add_argument("--projects", type=int, default=6)
    p.add_argument("--database", default=None)
    p.add_argument("--users", type=int, default=60)
    p.add_argument("--trainers", type=int, default=4)
    p.add_argument("--seconds", type=float, default=90)
    p.add_argument("--kill-at", type=float, default=45)
    p.add_argument("--seconds-each", type=float, default=15)
    args = p.parse_args()
    result = restart(args) if args.what == "restart" else cluster(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
