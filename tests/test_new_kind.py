"""Adding a kind is one module plus one golden case: a throwaway kind in a temporary package is
picked up by every registry-driven table of the suite (goldens, option coverage, dimension sets,
lint-clean outputs, event-pattern tables, determinism), with no edit anywhere else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT

KIND_MODULE = '''\
"""Amazon SQS queues feeding a model: messages waiting too long (throwaway kind of tests/test_new_kind.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlmon_cli.components import component
from mlmon_cli.components.base import AlarmDef, AlarmDocs, AlarmPolicy, AlarmTarget, Component, Metric
from mlmon_cli.spec.model import doc


@dataclass(frozen=True)
class QueueOptions:
    queue_name: str = field(metadata=doc("Name of the queue (QueueName dimension)."))


@component("demo_queue")
class DemoQueue(Component[QueueOptions]):
    Options = QueueOptions
    title = "Amazon SQS queue"
    docs_url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
    dimension_names = ("QueueName",)
    alarms = (
        AlarmDef("oldest_message", "OldestMessageAge",
                 Metric("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum"),
                 AlarmPolicy(">", 900),
                 AlarmDocs(why="the oldest message waited more than 15 minutes", first_step="check the consumer")),
    )

    def watched(self, o: QueueOptions) -> str:
        return f"SQS queue {o.queue_name}"

    def targets(self, o: QueueOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"QueueName": o.queue_name})]
'''

GOLDEN_SPEC = """\
solution: golden
notifications: {emails: [oncall@example.com]}
components:
  - kind: demo_queue
    name: inference-requests
    queue_name: golden-requests
"""

REGISTRY_DRIVEN = ["tests/test_golden.py", "tests/test_docs.py", "tests/test_lint_clean.py", "tests/test_serialize.py",
                   "tests/test_determinism.py", "tests/test_event_patterns.py", "tests/test_beyond_thresholds.py"]


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_kind_in_another_package_is_one_module_plus_one_golden_case(tmp_path: Path) -> None:
    package = tmp_path / "plugins" / "demo_kinds"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "queue.py").write_text(KIND_MODULE)
    case = tmp_path / "goldens" / "demo_queue_basic"
    case.mkdir(parents=True)
    (case / "spec.yaml").write_text(GOLDEN_SPEC)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'plugins'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "MLMON_KIND_MODULES": "demo_kinds.queue", "MLMON_GOLDEN_DIRS": str(tmp_path / "goldens")}

    # Writing the golden case is the one review step, as for a built-in kind.
    written = _pytest(env, "tests/test_golden.py", "-k", "demo_queue_basic", "--update-goldens")
    assert written.returncode == 0, written.stdout + written.stderr
    expected = (case / "expected.yaml").read_text()
    assert "MetricName: ApproximateAgeOfOldestMessage" in expected and "Value: golden-requests" in expected

    run = _pytest(env, *REGISTRY_DRIVEN, "-k", "demo_queue_basic or every_kind or every_option or documented_dimension "
                                               "or every_event or pinned")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    picked_up = [line for line in run.stdout.splitlines() if line.startswith("PASSED") and "demo_queue_basic" in line]
    assert len(picked_up) >= 4, run.stdout[-4000:]  # golden, lint-clean (yaml and json), serialization, ...


@pytest.mark.slow
def test_a_broken_plugin_kind_fails_the_registry_driven_tests(tmp_path: Path) -> None:
    """The check above can fail: the same kind without its golden case is reported missing."""
    package = tmp_path / "plugins" / "demo_kinds"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "queue.py").write_text(KIND_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "plugins"), "MLMON_KIND_MODULES": "demo_kinds.queue"}
    run = _pytest(env, "tests/test_golden.py::test_every_kind_has_a_golden_case")
    assert run.returncode == 1, run.stdout
    assert "demo_queue" in run.stdout


@pytest.mark.slow  # subprocess
def test_the_plugin_module_variable_loads_kinds(monkeypatch, tmp_path: Path) -> None:
    """MLMON_KIND_MODULES names importable modules; their @component kinds join the registry."""
    script = textwrap.dedent("""
        from mlmon_cli.components import builtin_kinds, load_all
        kinds = load_all()
        print("demo_queue" in kinds, "demo_queue" in builtin_kinds())
    """)
    package = tmp_path / "demo_kinds"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "queue.py").write_text(KIND_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MLMON_KIND_MODULES": "demo_kinds.queue"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.split() == ["True", "False"], out.stderr
