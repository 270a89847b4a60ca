"""Adding a kind is one module plus one golden case (CONTRIBUTING.md): a throwaway Kinesis-stream kind in
a temporary package is picked up by every registry-driven table of the suite (goldens, option coverage,
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
\"\"\"Amazon Kinesis data streams feeding a model (throwaway kind of tests/test_new_kind.py: one module holds every fact of a kind).

Metrics: https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html
Deleted streams: the CloudTrail management events EventBridge receives ("AWS API Call via CloudTrail").
\"\"\"

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlmon_cli.components import component
from mlmon_cli.components.base import (AlarmDef, AlarmDocs, AlarmPolicy, AlarmTarget, Binding, Component, EventDef, Metric,
                                       NameOption, TemplateResource, event_alarm)
from mlmon_cli.spec.kind_facts import ref_target
from mlmon_cli.spec.model import doc

DEFAULT_RETENTION = 24  # hours: Kinesis Data Streams' default RetentionPeriodHours

STREAM_GONE = EventDef(
    source="aws.kinesis", detail_type="AWS API Call via CloudTrail", status_field="eventName",
    failure_statuses=("DeleteStream",), message_template="demo_stream_gone.txt.j2",
    input_paths={"status": "$.detail.eventName", "stream": "$.detail.requestParameters.streamName",
                 "who": "$.detail.userIdentity.arn", "region": "$.region"},
)
READERS = {"AWS::Lambda::EventSourceMapping": "EventSourceArn", "AWS::Kinesis::StreamConsumer": "StreamARN"}


@dataclass(frozen=True)
class StreamOptions:
    stream_name: str = field(metadata=doc("Name of the stream (StreamName dimension)."))
    retention_hours: int = field(default=DEFAULT_RETENTION, metadata=doc(
        "The stream's RetentionPeriodHours: the iterator-age alarm fires at half of it.", unit="h", minimum=24,
        maximum=8760))


@component("demo_stream")
class DemoStream(Component[StreamOptions]):
    Options = StreamOptions
    title = "Amazon Kinesis data stream"
    docs_url = "https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html"
    dimension_names = ("StreamName",)
    names = {"stream_name": NameOption(r"[A-Za-z0-9_.-]{1,128}",
                                       "a Kinesis stream name: at most 128 letters, digits, '_', '.' and '-'",
                                       "the stream name (the part after ':stream/')")}
    # Ref is the stream name, and so is a stack's physical ID.
    bindings = {"AWS::Kinesis::Stream": Binding({"stream_name": "${%s}"}, physical="stream_name")}
    not_watched = {"AWS::Kinesis::StreamConsumer": "a reader of a stream: the stream is watched"}
    messages = {"demo_stream_gone.txt.j2": (
        "[{{ solution }}] Kinesis stream <stream> got <status> ({{ component }}), called by <who>.\\n"
        "First step: aws kinesis describe-stream-summary --stream-name <stream> --region <region> "
        "(ResourceNotFoundException: it was deleted) and ask the caller why.")}
    example = "- kind: demo_stream\\n  name: click-events\\n  stream_name: click-events\\n  retention_hours: 48\\n"
    alarms = (
        AlarmDef("iterator_age", "IteratorAge", Metric("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "Maximum", unit="ms"),
                 AlarmPolicy(">", None),
                 AlarmDocs(why="the readers are half the retention period behind; Kinesis drops records when it ends",
                           first_step="check the readers' errors, throttles and concurrency")),
        AlarmDef("read_throttles", "ReadThrottles", Metric("AWS/Kinesis", "ReadProvisionedThroughputExceeded", "Sum"),
                 AlarmPolicy(">", 0, evaluation_periods=3, datapoints_to_alarm=3, severity="warning"),
                 AlarmDocs(why="reads were throttled for 15 minutes",
                           first_step="compare the readers with the shard count")),
        event_alarm("stream_gone", "StreamDeleted", STREAM_GONE, why="someone deleted the stream",
                    first_step="read the CloudTrail event: who called DeleteStream"),
    )

    def watched(self, o: StreamOptions) -> str:
        return f"Kinesis stream {o.stream_name}"

    def targets(self, o: StreamOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"StreamName": o.stream_name})]

    def default_threshold(self, o: StreamOptions, alarm: AlarmDef) -> float | None:
        return o.retention_hours * 3_600_000 / 2 if alarm.key == "iterator_age" else alarm.policy.threshold

    def event_detail(self, o: StreamOptions, alarm: AlarmDef) -> dict[str, Any]:
        return {"eventName": list(STREAM_GONE.failure_statuses), "requestParameters": {"streamName": [o.stream_name]}}

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        read = any(ref_target(((r.get("Properties") or {}).get(READERS.get(r.get("Type"), "")))) == resource.logical
                   for r in resource.app.resources.values() if isinstance(r, dict))
        return None if read else "nothing in this template reads it: no iterator age to watch"

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        retention = resource.properties.get("RetentionPeriodHours")
        if isinstance(retention, int):
            return [f"    retention_hours: {retention}   # RetentionPeriodHours: the iterator-age alarm at half of it"]
        return ["    # Kinesis's default retention (24 hours): the iterator-age alarm at 12 hours"]
"""

GOLDEN_SPEC = """\
solution: golden
notifications: {emails: [oncall@example.com]}
components:
  - kind: demo_stream
    name: click-events
    stream_name: golden-clicks
    retention_hours: 48
"""

# The user's template `init --from-template` reads: a stream with a retention and a consumer, one with Kinesis's
# default read by an event source mapping, one nothing reads (skipped by the kind's init_skip) and a bucket (no kind).
APP_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A model fed by streams
Resources:
  Requests:
    Type: AWS::Kinesis::Stream
    Properties:
      RetentionPeriodHours: 48
      ShardCount: 1
  RequestsReader:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      ConsumerName: reader
      StreamARN: !GetAtt Requests.Arn
  Unread:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Scores:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  ScoresMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Scores.Arn
      FunctionName: scorer
      StartingPosition: LATEST
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
    (package / "stream.py").write_text(KIND_MODULE)
    return {**os.environ, "PYTHONPATH": f"{tmp_path / 'plugins'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "MLMON_KIND_MODULES": "demo_kinds.stream"}


def _mlmon(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlmon_cli", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_a_kind_in_another_package_is_one_module_plus_one_golden_case(tmp_path: Path) -> None:
    case = tmp_path / "goldens" / "demo_stream_basic"
    case.mkdir(parents=True)
    (case / "spec.yaml").write_text(GOLDEN_SPEC)
    env = {**_plugin_env(tmp_path), "MLMON_GOLDEN_DIRS": str(tmp_path / "goldens")}

    # Writing the golden case is the one review step, as for a built-in kind.
    written = _pytest(env, "tests/test_golden.py", "-k", "demo_stream_basic", "--update-goldens")
    assert written.returncode == 0, written.stdout + written.stderr
    expected = (case / "expected.yaml").read_text()
    assert "MetricName: GetRecords.IteratorAgeMilliseconds" in expected and "Value: golden-clicks" in expected

    run = _pytest(env, *REGISTRY_DRIVEN, "-k", "demo_stream_basic or every_kind or every_option or documented_dimension "
                                               "or every_event or pinned")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    picked_up = [line for line in run.stdout.splitlines() if line.startswith("PASSED") and "demo_stream_basic" in line]
    assert len(picked_up) >= 4, run.stdout[-4000:]  # golden, lint-clean (yaml and json), serialization, ...
    # the kind's `example` validates, its inline message template renders with known placeholders
    assert "PASSED tests/test_docs.py::test_every_kind_has_an_example_that_works_alone[demo_stream]" in run.stdout, run.stdout[-4000:]
    assert "PASSED tests/test_event_patterns.py::test_every_event_definition_renders_with_known_placeholders" in run.stdout


@pytest.mark.slow
def test_a_new_kind_brings_its_init_discovery_name_checks_and_message_template(tmp_path: Path) -> None:
    """The same one module: `init --from-template` gives its resources components (reading a property into an
    option, skipping a stream nothing reads), the output merges, lints clean (cfn-lint and mlmon's rules) and carries
    the module's own message template; literal names are checked against its grammar; `--from-stack` reads its
    physical IDs."""
    env = _plugin_env(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.yaml").write_text(APP_TEMPLATE)

    init = _mlmon(env, "init", "--from-template", app / "app.yaml", "-o", app / "spec.yaml")
    assert (init.returncode, init.stderr) == (0, "mlmon: 2 resource(s) watched, 4 not watched (listed as comments)\n")
    spec = (app / "spec.yaml").read_text()
    assert spec.split("components:\n", 1)[1] == textwrap.dedent("""\
          - kind: demo_stream
            name: requests
            resource: Requests            # AWS::Kinesis::Stream
            retention_hours: 48   # RetentionPeriodHours: the iterator-age alarm at half of it
          - kind: demo_stream
            name: scores
            resource: Scores            # AWS::Kinesis::Stream
            # Kinesis's default retention (24 hours): the iterator-age alarm at 12 hours

        # Not watched:
        #   RequestsReader (AWS::Kinesis::StreamConsumer): a reader of a stream: the stream is watched
        #   Unread (AWS::Kinesis::Stream): nothing in this template reads it: no iterator age to watch
        #   ScoresMapping (AWS::Lambda::EventSourceMapping): no mlmon component kind for this resource type
        #   Artifacts (AWS::S3::Bucket): storage: no ML failure mode for mlmon to watch
        """)

    generated = _mlmon(env, "generate", app / "spec.yaml", "-o", app / "monitored.yaml")
    assert generated.returncode == 0, generated.stderr
    lint = _mlmon(env, "lint", app / "monitored.yaml")
    assert lint.returncode == 0 and "0 error(s), 0 other finding(s)" in lint.stderr, lint.stdout + lint.stderr
    from cfnlint.decode import decode_str  # merged output keeps the app template's short-form tags

    merged, _ = decode_str((app / "monitored.yaml").read_text())
    resources = json.loads(json.dumps(merged["Resources"], default=str))
    assert {"Requests", "Unread", "Scores", "Artifacts"} <= set(resources)  # the user's template, monitoring merged in
    age = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"
           and r["Properties"].get("MetricName") == "GetRecords.IteratorAgeMilliseconds"}
    assert {k: (p["Threshold"], p["Dimensions"]) for k, p in age.items()} == {
        "RequestsIteratorAgeAlarm": (86_400_000, [{"Name": "StreamName", "Value": {"Ref": "Requests"}}]),
        "ScoresIteratorAgeAlarm": (43_200_000, [{"Name": "StreamName", "Value": {"Ref": "Scores"}}]),
    }
    rule = resources["RequestsStreamDeletedRule"]["Properties"]
    assert rule["EventPattern"]["detail"] == {"eventName": ["DeleteStream"],
                                              "requestParameters": {"streamName": [{"Ref": "Requests"}]}}
    assert rule["Targets"][0]["InputTransformer"]["InputTemplate"]["Fn::Sub"].startswith(  # merged output: names the stack
        "${AWS::StackName}: Kinesis stream <stream> got <status> (requests), called by <who>.\nFirst step: aws kinesis "
        "describe-stream-summary")

    (app / "bad.yaml").write_text("solution: s\nnotifications: {emails: [oncall@example.com]}\ncomponents:\n"
                                  "  - {kind: demo_stream, name: a, stream_name: 'arn:aws:kinesis:us-east-1:123456789012:stream/s'}\n"
                                  "  - {kind: demo_stream, name: b, stream_name: 'bad name!'}\n"
                                  "  - {kind: demo_stream, name: c, stream_name: clicks.v2}\n")
    refused = _mlmon(env, "validate", app / "bad.yaml")
    assert (refused.returncode, refused.stderr.splitlines()) == (1, [
        (f"{app / 'bad.yaml'}:4:47: components[0].stream_name: this is an ARN, not a name: give the stream name (the part "
         "after ':stream/')"),
        (f"{app / 'bad.yaml'}:5:47: components[1].stream_name: 'bad name!' is not a Kinesis stream name: at most 128 "
         "letters, digits, '_', '.' and '-'")])

    from_stack = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        from mlmon_cli.discover.stack import spec_from_resources
        from mlmon_cli.spec.app_template import parse_app_template
        summary = {"LogicalResourceId": "Scores", "ResourceType": "AWS::Kinesis::Stream", "PhysicalResourceId": "st-Scores-AB12"}
        print(spec_from_resources("st", [summary], parse_app_template(open("app.yaml").read(), "app.yaml")).text)
    """)], cwd=app, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "    stream_name: st-Scores-AB12   # Scores (AWS::Kinesis::Stream)\n" in from_stack.stdout, from_stack.stderr


@pytest.mark.slow
def test_a_broken_plugin_kind_fails_the_registry_driven_tests(tmp_path: Path) -> None:
    """The check above can fail: the same kind without its golden case is reported missing."""
    package = tmp_path / "plugins" / "demo_kinds"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "stream.py").write_text(KIND_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "plugins"), "MLMON_KIND_MODULES": "demo_kinds.stream"}
    run = _pytest(env, "tests/test_golden.py::test_every_kind_has_a_golden_case")
    assert run.returncode == 1, run.stdout
    assert "demo_stream" in run.stdout


@pytest.mark.slow  # subprocess
def test_the_plugin_module_variable_loads_kinds(monkeypatch, tmp_path: Path) -> None:
    """MLMON_KIND_MODULES names importable modules; their @component kinds join the registry."""
    script = textwrap.dedent("""
        from mlmon_cli.components import builtin_kinds, load_all
        kinds = load_all()
        print("demo_stream" in kinds, "demo_stream" in builtin_kinds())
    """)
    package = tmp_path / "demo_kinds"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "stream.py").write_text(KIND_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MLMON_KIND_MODULES": "demo_kinds.stream"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert out.stdout.split() == ["True", "False"], out.stderr
