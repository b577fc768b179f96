"""Serve the app as several processes behind HAProxy, all sharing one store.

    deploy/serve 4                                   # 4 processes, SQLite in state/ (one machine)
    deploy/serve 4 --database postgresql+psycopg://user:pass@host/db
    deploy/serve 2 --port 8080 --host 0.0.0.0

HAProxy (Debian's `haproxy`) listens on --host:--port and sends each browser to one process by a
cookie it sets (`STUDIO_SERVER`), not by its address: a whole school behind one address still
spreads over the processes, and every request of a page (its uploads, its event streams) reaches
the process that holds them. Everything a visitor makes is in the store, so when a process dies its
visitors' next requests go to another one (HAProxy's redispatch), which serves the same projects;
the process is started again. Training runs belong to the process running them: one whose process
died is marked interrupted (its curve is kept). HAProxy writes no access log: nothing of a request
reaches a log (a project's key never travels in a URL anyway).

Use one process (`python demo.py`) for a person or a small group; this for a class or a school:
one process answers about 60 drawing users and trains one run at a time, each process adds that.
SQLite suits processes on one machine; give PostgreSQL's URL for more, or for several machines.
Stops everything on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST_APP_PORT = 7861
RESTART_SECONDS = 2.0


def haproxy_config(host: str, port: int, app_ports: list[int]) -> str:
    """HAProxy's configuration: cookie-sticky round robin over the app processes, health-checked."""
    servers = "\n".join(f"    server app{i} 127.0.0.1:{p} check cookie app{i} inter 1s fall 2 rise 1"
                        for i, p in enumerate(app_ports, start=1))
    return f"""# Written by deploy/serve: the app's processes behind one address.
global
    # Each page holds about two long connections (its heartbeat and its event stream).
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    # Gradio streams events and training progress over long responses.
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-keep-alive 60s
    # A request that never reached a live process (refused, or its connection closed with no answer:
    # the process died) is sent again, to another process: that request never ran.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response

frontend studio
    bind {host}:{port}
    # The client's address, for the app's per-address limits (demo.py --behind-proxy).
    option forwardfor
    default_backend apps

backend apps
    balance roundrobin
    cookie STUDIO_SERVER insert indirect nocache httponly
    # A new connection to a process for each request (loopback: it costs next to nothing): a request
    # never goes out on a connection a dead process left behind; it is refused, and sent elsewhere.
    option http-server-close
    option httpchk GET /gradio_api/app_id
    http-check expect status 200
{servers}
"""


class App:
    """One app process, started again whenever it exits (until `stop`)."""

    def __init__(self, port: int, database: str, log: Path, threads: int) -> None:
        self.port, self.database, self.log, self.threads = port, database, log, threads
        self.proc: subprocess.Popen | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._keep, name=f"app-{port}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _keep(self) -> None:
        while not self.stopping:
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, str(ROOT / "demo.py"), "--host", "127.0.0.1", "--port", str(self.port),
                     "--database", self.database, "--behind-proxy", "--torch-threads", str(self.threads)],
                    cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            code = self.proc.wait()
            if not self.stopping:
                print(f"app on port {self.port} exited ({code}); starting it again", flush=True)
                time.sleep(RESTART_SECONDS)

    def stop(self) -> None:
        self.stopping = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def wait_port(port: int, proc: subprocess.Popen | None = None, seconds: float = 240) -> None:
    """Until something accepts connections on `port` (an app process loads its models first);
    RuntimeError if `proc` exits first or nothing answers within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process on port {port} exited ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"nothing answers on port {port}")


def main(argv: list[str] | None = None) -> None:
    from studio import projects
    from studio.store import Store

    p = argparse.ArgumentParser(description="Serve the app as several processes behind HAProxy.")
    p.add_argument("processes", type=int, nargs="?", default=2)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--database", default=None, help="the store's URL (default: SQLite in the state folder)")
    p.add_argument("--first-app-port", type=int, default=FIRST_APP_PORT)
    args = p.parse_args(argv)
    if args.processes < 1:
        p.error("at least one process")
    haproxy = shutil.which("haproxy") or next((c for c in ("/usr/sbin/haproxy",) if os.path.exists(c)), None)
    if haproxy is None:
        sys.exit("HAProxy is not installed: apt-get install haproxy")
    database = args.database or projects.database_url()
    # One process makes (or migrates) the store before the others open it.
    Store(database).close()
    folder = projects.state_dir() / "deploy"
    folder.mkdir(parents=True, exist_ok=True)
    ports = [args.first_app_port + i for i in range(args.processes)]
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(args.host, args.port, ports))
    # Each process's training runs get their share of the cores, so N runs at once do not crowd out
    # the requests (which run above them: studio/priority.py).
    threads = max(1, (os.cpu_count() or 1) // args.processes)
    apps = [App(port, database, folder / f"app-{port}.log", threads) for port in ports]
    for app in apps:
        app.start()
    for port in ports:   # so the balancer's first checks find them up
        try:
            wait_port(port, seconds=300)
        except RuntimeError as e:
            print(f"{e}; the balancer sends it visitors once it answers", flush=True)
    balancer = subprocess.Popen([haproxy, "-f", str(config), "-db"], cwd=ROOT)
    print(f"serving {args.processes} processes at http://{args.host}:{args.port}/ (logs in {folder})", flush=True)

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.is_set() and balancer.poll() is None:
        done.wait(1.0)
    balancer.terminate()
    for app in apps:
        app.stop()
    balancer.wait(timeout=20)


if __name__ == "__main__":
    main()
