"""The library's layers: import-linter's contracts hold (pyproject.toml), there is no import cycle, and
the training loop can be imported where neither the app nor MediaPipe nor matplotlib is."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import grimp

from tests.conftest import ROOT


def test_the_layer_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")   # import-linter's command, in this interpreter's venv
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert "0 broken" in result.stdout, result.stdout[-2000:]


def test_no_module_of_the_library_imports_itself_back() -> None:
    graph = grimp.build_graph("classifier", "studio", exclude_type_checking_imports=True)
    cycles = [(a, b) for a, b in itertools.combinations(sorted(graph.modules), 2)
              if graph.chain_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a)]
    assert cycles == []


def test_importing_the_trainer_imports_neither_the_app_nor_mediapipe_nor_matplotlib() -> None:
    code = ("import sys, classifier.training.trainer; "
            "print(sorted(m for m in ('gradio', 'mediapipe', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
