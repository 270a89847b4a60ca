"""Adding a kind is one module plus one golden case (CONTRIBUTING.md): a throwaway SQS-queue kind in a
temporary package is picked up by every registry-driven table of the suite (goldens, option coverage,
dimension sets, lint-clean outputs, event-pattern tables, determinism) and brings its own `init`
discovery, name checks and message template, with no edit anywhere else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT

KIND_MODULE = """\
\"\"\"Amazon SQS queues feeding a model (throwaway kind of tests/test_new_kind.py: one module holds every fact of a kind).

Metrics: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
Deleted or purged queues: the CloudTrail management events EventBridge receives ("AWS API Call via CloudTrail").
\"\"\"

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlmon_cli.components import component
from mlmon_cli.components.base import (AlarmDef, AlarmDocs, AlarmPolicy, AlarmTarget, Binding, Component, EventDef, Metric,
                                       NameOption, TemplateResource, event_alarm)
from mlmon_cli.spec.kind_facts import ref_target
from mlmon_cli.spec.model import doc

DEFAULT_RETENTION = 345_600  # seconds: SQS's default MessageRetentionPeriod (4 days)

QUEUE_GONE = EventDef(
    source="aws.sqs", detail_type="AWS API Call via CloudTrail", status_field="eventName",
    failure_statuses=("DeleteQueue", "PurgeQueue"), message_template="demo_queue_gone.txt.j2",
    input_paths={"status": "$.detail.eventName", "queue": "$.detail.requestParameters.queueUrl",
                 "who": "$.detail.userIdentity.arn", "region": "$.region"},
)


@dataclass(frozen=True)
class QueueOptions:
    queue_name: str = field(metadata=doc("Name of the queue (QueueName dimension)."))
    retention_seconds: int = field(default=DEFAULT_RETENTION, metadata=doc(
        "The queue's MessageRetentionPeriod: the oldest-message alarm fires at half of it.", unit="s", minimum=60,
        maximum=1_209_600))


@component("demo_queue")
class DemoQueue(Component[QueueOptions]):
    Options = QueueOptions
    title = "Amazon SQS queue"
    docs_url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
    dimension_names = ("QueueName",)
    names = {"queue_name": NameOption(r"[A-Za-z0-9_-]{1,75}\\.fifo|[A-Za-z0-9_-]{1,80}",
                                      "an SQS queue name: at most 80 letters, digits, '-' and '_' ('.fifo' at the end of a FIFO queue's)",
                                      "the queue name (the last part of its URL or ARN)")}
    # Ref is the queue URL (also a stack's physical ID); GetAtt QueueName is the name.
    bindings = {"AWS::SQS::Queue": Binding({"queue_name": "${%s.QueueName}"}, physical="queue_name",
                                           physical_prefix=r"^https://[^/]+/[0-9]+/")}
    messages = {"demo_queue_gone.txt.j2": (
        "[{{ solution }}] SQS queue <queue> got <status> ({{ component }}), called by <who>.\\n"
        "First step: aws sqs get-queue-attributes --queue-url <queue> --region <region> "
        "(QueueDoesNotExist: it was deleted; ApproximateNumberOfMessages 0: purged) and ask the caller why.")}
    example = "- kind: demo_queue\\n  name: inference-requests\\n  queue_name: inference-requests\\n  retention_seconds: 86400\\n"
    alarms = (
        AlarmDef("oldest_message", "OldestMessageAge", Metric("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", unit="s"),
                 AlarmPolicy(">", None),
                 AlarmDocs(why="the oldest message has waited half the retention period; SQS deletes it when the period ends",
                           first_step="check the consumer's errors, throttles and concurrency")),
        AlarmDef("backlog", "Backlog", Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
                 AlarmPolicy(">", 1000, evaluation_periods=3, datapoints_to_alarm=3, severity="warning"),
                 AlarmDocs(why="more than 1,000 messages wait for 15 minutes",
                           first_step="compare the send rate with the consumer's throughput")),
        event_alarm("queue_gone", "QueueDeletedOrPurged", QUEUE_GONE, why="someone deleted or purged the queue",
                    first_step="read the CloudTrail event: who called DeleteQueue or PurgeQueue"),
    )

    def watched(self, o: QueueOptions) -> str:
        return f"SQS queue {o.queue_name}"

    def targets(self, o: QueueOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"QueueName": o.queue_name})]

    def default_threshold(self, o: QueueOptions, alarm: AlarmDef) -> float | None:
        return o.retention_seconds / 2 if alarm.key == "oldest_message" else alarm.policy.threshold

    def event_detail(self, o: QueueOptions, alarm: AlarmDef) -> dict[str, Any]:
        return {"eventName": list(QUEUE_GONE.failure_statuses), "requestParameters": {"queueUrl": [{"suffix": f"/{o.queue_name}"}]}}

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        users = [k for k, r in resource.app.resources.items() if isinstance(r, dict) and ref_target(
            ((r.get("Properties") or {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn")) == resource.logical]
        return f"the dead-letter queue of {', '.join(users)}: watch it with a custom alarm on any message" if users else None

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        retention = resource.properties.get("MessageRetentionPeriod")
        if isinstance(retention, int):
            return [f"    retention_seconds: {retention}   # MessageRetentionPeriod: the oldest-message alarm at half of it"]
        return ["    # SQS's default retention (4 days): the oldest-message alarm at 2 days"]
"""

GOLDEN_SPEC = """\
solution: golden
notifications: {emails: [oncall@example.com]}
components:
  - kind: demo_queue
    name: inference-requests
    queue_name: golden-requests
    retention_seconds: 86400
"""

# The user's template `init --from-template` reads: a queue with a retention, one with SQS's default,
# the first one's dead-letter queue (skipped by the kind's init_skip) and a bucket (no kind).
APP_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A model fed by queues
Resources:
  Requests:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 86400
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Failed.Arn
        maxReceiveCount: 5
  Failed:
    Type: AWS::SQS::Queue
  Scores:
    Type: AWS::SQS::Queue
  Artifacts:
    Type: AWS::S3::Bucket
"""

REGISTRY_DRIVEN = ["tests/test_golden.py", "tests/test_docs.py", "tests/test_lint_clean.py", "tests/test_serialize.py",
                   "tests/test_determinism.py", "tests/test_event_patterns.py", "tests/test_beyond_thresholds.py"]


def _plugin_env(tmp_path: Path) -> dict[str, str]:
    """The kind module in a temporary package, importable and named in MLMON_KIND_MODULES."""
    package = tmp_path / "plugins" / "demo_kinds"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "queue.py").write_text(KIND_MODULE)
    return {**os.environ, "PYTHONPATH": f"{tmp_path / 'plugins'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "MLMON_KIND_MODULES": "demo_kinds.queue"}


def _mlmon(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlmon_cli", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_a_kind_in_another_package_is_one_module_plus_one_golden_case(tmp_path: Path) -> None:
    case = tmp_path / "goldens" / "demo_queue_basic"
    case.mkdir(parents=True)
    (case / "spec.yaml").write_text(GOLDEN_SPEC)
    env = {**_plugin_env(tmp_path), "MLMON_GOLDEN_DIRS": str(tmp_path / "goldens")}

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
    # the kind's `example` validates, its inline message template renders with known placeholders
    assert "PASSED tests/test_docs.py::test_every_kind_has_an_example_that_works_alone[demo_queue]" in run.stdout, run.stdout[-4000:]
    assert "PASSED tests/test_event_patterns.py::test_every_event_definition_renders_with_known_placeholders" in run.stdout


@pytest.mark.slow
def test_a_new_kind_brings_its_init_discovery_name_checks_and_message_template(tmp_path: Path) -> None:
    """The same one module: `init --from-template` gives its resources components (reading a property into an
    option, skipping a dead-letter queue), the output merges, lints clean (cfn-lint and mlmon's rules) and carries
    the module's own message template; literal names are checked against its grammar; `--from-stack` reads its
    physical IDs."""
    env = _plugin_env(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.yaml").write_text(APP_TEMPLATE)

    init = _mlmon(env, "init", "--from-template", app / "app.yaml", "-o", app / "spec.yaml")
    assert (init.returncode, init.stderr) == (0, "mlmon: 2 resource(s) watched, 2 not watched (listed as comments)\n")
    spec = (app / "spec.yaml").read_text()
    assert spec.split("components:\n", 1)[1] == textwrap.dedent("""\
          - kind: demo_queue
            name: requests
            resource: Requests            # AWS::SQS::Queue
            retention_seconds: 86400   # MessageRetentionPeriod: the oldest-message alarm at half of it
          - kind: demo_queue
            name: scores
            resource: Scores            # AWS::SQS::Queue
            # SQS's default retention (4 days): the oldest-message alarm at 2 days

        # Not watched:
        #   Failed (AWS::SQS::Queue): the dead-letter queue of Requests: watch it with a custom alarm on any message
        #   Artifacts (AWS::S3::Bucket): storage: no ML failure mode for mlmon to watch
        """)

    generated = _mlmon(env, "generate", app / "spec.yaml", "-o", app / "monitored.yaml")
    assert generated.returncode == 0, generated.stderr
    lint = _mlmon(env, "lint", app / "monitored.yaml")
    assert lint.returncode == 0 and "0 error(s), 0 other finding(s)" in lint.stderr, lint.stdout + lint.stderr
    from cfnlint.decode import decode_str  # merged output keeps the app template's short-form tags

    merged, _ = decode_str((app / "monitored.yaml").read_text())
    resources = json.loads(json.dumps(merged["Resources"], default=str))
    assert {"Requests", "Failed", "Scores", "Artifacts"} <= set(resources)  # the user's template, monitoring merged in
    oldest = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"
              and r["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"}
    assert {k: (p["Threshold"], p["Dimensions"]) for k, p in oldest.items()} == {
        "RequestsOldestMessageAgeAlarm": (43200, [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["Requests", "QueueName"]}}]),
        "ScoresOldestMessageAgeAlarm": (172800, [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["Scores", "QueueName"]}}]),
    }
    rule = resources["RequestsQueueDeletedOrPurgedRule"]["Properties"]
    assert rule["EventPattern"]["detail"] == {"eventName": ["DeleteQueue", "PurgeQueue"],
                                              "requestParameters": {"queueUrl": [{"suffix": {"Fn::Sub": "/${Requests.QueueName}"}}]}}
    assert rule["Targets"][0]["InputTransformer"]["InputTemplate"]["Fn::Sub"].startswith(  # merged output: names the stack
        "${AWS::StackName}: SQS queue <queue> got <status> (requests), called by <who>.\nFirst step: aws sqs get-queue-attributes")

    (app / "bad.yaml").write_text("solution: s\nnotifications: {emails: [oncall@example.com]}\ncomponents:\n"
                                  "  - {kind: demo_queue, name: a, queue_name: 'arn:aws:sqs:us-east-1:123456789012:q'}\n"
                                  "  - {kind: demo_queue, name: b, queue_name: 'bad name!'}\n"
                                  "  - {kind: demo_queue, name: c, queue_name: jobs.fifo}\n")
    refused = _mlmon(env, "validate", app / "bad.yaml")
    assert (refused.returncode, refused.stderr.splitlines()) == (1, [
        (f"{app / 'bad.yaml'}:4:45: components[0].queue_name: this is an ARN, not a name: give the queue name (the last "
         "part of its URL or ARN)"),
        (f"{app / 'bad.yaml'}:5:45: components[1].queue_name: 'bad name!' is not an SQS queue name: at most 80 letters, "
         "digits, '-' and '_' ('.fifo' at the end of a FIFO queue's)")])

    from_stack = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        from mlmon_cli.discover.stack import spec_from_resources
        from mlmon_cli.spec.app_template import parse_app_template
        summary = {"LogicalResourceId": "Scores", "ResourceType": "AWS::SQS::Queue",
                   "PhysicalResourceId": "https://sqs.us-east-1.amazonaws.com/123456789012/st-Scores-AB12"}
        print(spec_from_resources("st", [summary], parse_app_template(open("app.yaml").read(), "app.yaml")).text)
    """)], cwd=app, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "    queue_name: st-Scores-AB12   # Scores (AWS::SQS::Queue)\n" in from_stack.stdout, from_stack.stderr


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
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert out.stdout.split() == ["True", "False"], out.stderr
