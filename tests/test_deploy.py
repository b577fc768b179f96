"""deploy/serve: two app processes behind HAProxy sharing one store; a process killed mid-use.

Needs Debian's haproxy: without it the test skips, except where REQUIRE_HAPROXY=1 (CI): then it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from bench.processes import app_pid, gone
from deploy.serve import haproxy_config, wait_port
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def served(app_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`deploy/serve 2` on free ports, its store a SQLite file of its own: the balancer's URL, the first
    app process's port."""
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
        if os.environ.get("REQUIRE_HAPROXY") == "1":
            pytest.fail("haproxy is not installed; REQUIRE_HAPROXY=1 says it must be")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    port, first = free_port(), free_port()
    while first + 1 == port:
        first = free_port()
    env = {**os.environ, "CLASSIFIER_DATA_DIR": str(app_data_dir), "GRADIO_ANALYTICS_ENABLED": "False",
           "CLASSIFIER_STATE_DIR": str(tmp_path_factory.mktemp("served-state"))}
    serve = subprocess.Popen([str(ROOT / "deploy" / "serve"), "2", "--port", str(port), "--first-app-port", str(first)],
                             env=env)
    wait_port(port, serve, seconds=300)
    yield f"http://127.0.0.1:{port}/", first
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=60)


def test_the_balancer_is_sticky_by_cookie_and_checks_health() -> None:
    config = haproxy_config("127.0.0.1", 8000, [8001, 8002])
    assert "cookie STUDIO_SERVER insert" in config
    assert "balance source" not in config
    assert config.count("check cookie") == 2


def test_clients_are_spread_over_both_processes(served: tuple[str, int]) -> None:
    url, _ = served
    servers = {Client(url, verbose=False).cookies.get("STUDIO_SERVER") for _ in range(4)}
    assert servers == {"app1", "app2"}


def test_a_project_made_on_one_process_is_served_by_the_other(served: tuple[str, int]) -> None:
    url, _ = served
    maker = Client(url, verbose=False)
    maker.predict(handle_file(str(ROOT / "weights" / "digits.safetensors")), api_name="/upload_model")
    key = maker.predict(api_name="/project_key")
    other = Client(url, verbose=False)
    while other.cookies.get("STUDIO_SERVER") == maker.cookies.get("STUDIO_SERVER"):
        other = Client(url, verbose=False)
    other.predict(key, api_name="/open_project")
    assert other.predict(api_name="/list_runs") == maker.predict(api_name="/list_runs")


def test_when_a_process_dies_its_clients_next_request_is_answered_with_their_project(
        served: tuple[str, int]) -> None:
    url, first = served
    client = Client(url, verbose=False)
    while client.cookies.get("STUDIO_SERVER") != "app1":
        client = Client(url, verbose=False)
    client.predict(handle_file(str(ROOT / "weights" / "digits.safetensors")), api_name="/upload_model")
    runs = client.predict(api_name="/list_runs")
    pid = app_pid(first)
    os.kill(pid, signal.SIGKILL)
    gone(pid)
    # The same session, its process gone: the balancer sends it to the other, which knows its project.
    assert client.predict(api_name="/list_runs") == runs
