"""API Gateway REST and HTTP APIs and the app's own EventBridge rules (issue 19, part 8): every
name form a template uses reaches the alarms' dimensions, `init` says why a resource is not
watched, and the merged output lints clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.decode import decode

from mlmon_cli.cli import main
from mlmon_cli.discover.stack import spec_from_resources
from mlmon_cli.spec.app_template import parse_app_template

APP = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: prod}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(e, c): return {}"
      Timeout: 10
      Events:
        Nightly: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
  NamedApi:                       # Name from a !Sub
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: !Sub ${AWS::StackName}-scoring
  NamedDeployment:
    Type: AWS::ApiGateway::Deployment
    Properties:
      RestApiId: !Ref NamedApi
      StageName: !Ref Stage
  TitledApi:                      # no Name: the OpenAPI body's title names it
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        openapi: 3.0.1
        info: {title: scoring-openapi, version: '1'}
        paths: {}
  S3Api:                          # the name is in S3: init asks for it
    Type: AWS::ApiGateway::RestApi
    Properties:
      BodyS3Location: {Bucket: b, Key: api.yaml}
  SamApi:                         # SAM, no definition: SAM titles it with the stack name
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: h, ProtocolType: HTTP}
  HttpStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Http, StageName: live}
  Socket:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: s, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: ml-events}
  Dlq:
    Type: AWS::SQS::Queue
  OnBus:                          # custom bus, no Name: the name is cut from the rule's ARN
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {source: [ml.app]}
      Targets:
        - Arn: !GetAtt Fn.Arn
          Id: fn
          DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}
  Daily:                          # default bus: Ref is the name
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets: [{Arn: !GetAtt Fn.Arn, Id: fn}]
  Disabled:
    Type: AWS::Events::Rule
    Properties:
      State: DISABLED
      ScheduleExpression: rate(1 day)
      Targets: [{Arn: !GetAtt Fn.Arn, Id: fn}]
  Ours:                           # a rule mlmon created: its tags say so
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Tags: [{Key: solution, Value: x}, {Key: component, Value: y}, {Key: kind, Value: glue_job}]
      Targets: [{Arn: !GetAtt Fn.Arn, Id: fn}]
"""


@pytest.fixture
def monitored(runner, tmp_path: Path, monkeypatch) -> tuple[str, dict]:
    """init --from-template then generate: the starter spec's text and the merged template."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(APP)
    res = runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out.yaml"])
    assert res.exit_code == 0, res.output
    assert "watched by default" not in res.stderr  # init listed every resource it could watch
    data, matches = decode(str(tmp_path / "out.yaml"))
    assert not matches
    return (tmp_path / "monitoring.yaml").read_text(), data


def _alarm(template: dict, logical: str) -> dict:
    props = template["Resources"][logical]["Properties"]
    return {"metric": props["MetricName"], "stat": props.get("Statistic") or props.get("ExtendedStatistic"),
            "dims": {d["Name"]: d["Value"] for d in props["Dimensions"]}, "missing": props["TreatMissingData"],
            "low": props.get("EvaluateLowSampleCountPercentile"), "threshold": props["Threshold"]}


def test_init_says_what_it_watches_and_why_not(monitored) -> None:
    spec, _ = monitored
    for line in ("    resource: NamedApi            # AWS::ApiGateway::RestApi",
                 "    stage: !Ref Stage   # the API's only stage in this template",
                 "    resource: TitledApi            # AWS::ApiGateway::RestApi",
                 "    # no stage in this template: the alarms watch the whole API (dimension ApiName alone); give `stage:` to watch one stage",
                 "    resource: SamApi            # AWS::Serverless::Api",
                 "    stage: v1   # the API's only stage in this template",
                 "    resource: Http            # AWS::ApiGatewayV2::Api",
                 "    stage: live   # the API's only stage in this template",
                 "    resource: OnBus            # AWS::Events::Rule",
                 "    dead_letter_queue: true   # target fn has a DeadLetterConfig: alarm on events sent to it and on events "
                 "it could not take",
                 "    resource: Daily            # AWS::Events::Rule",
                 "#   S3Api (AWS::ApiGateway::RestApi): its name is the title of the definition in BodyS3Location, outside "
                 "this template, and REST API metrics are named by the API's name (ApiName), not its ID: add the component by "
                 "hand with `api_name: <the API's name>` (and `stage:`) instead of `resource:`",
                 "#   Socket (AWS::ApiGatewayV2::Api): a WebSocket API: it publishes connection and message metrics "
                 "(ConnectCount, MessageCount, ExecutionError), not 5xx and Latency; mlmon has no WebSocket kind yet",
                 "#   Disabled (AWS::Events::Rule): DISABLED: it invokes nothing, so nothing can fail (run init again once it is "
                 "enabled)",
                 "#   Ours (AWS::Events::Rule): a rule mlmon created (its solution/kind/component tags): mlmon already alarms "
                 "on its delivery"):
        assert line in spec.splitlines(), line
    # SAM's implicit rule of Fn's Schedule event exists only after the transform: said, not bound
    assert ("    # SAM makes rule FnNightly from its event after the transform: not watched here (init --from-stack "
            "watches its FailedInvocations)") in spec.splitlines()
    assert "resource: FnNightly" not in spec


def test_rest_api_names_reach_the_apiname_dimension(monitored) -> None:
    _, out = monitored
    assert _alarm(out, "NamedApiServerErrorRateAlarm") == {
        "metric": "5XXError", "stat": "Average", "missing": "notBreaching", "low": None, "threshold": 0.05,
        "dims": {"ApiName": {"Fn::Sub": "${AWS::StackName}-scoring"}, "Stage": {"Ref": "Stage"}}}
    assert _alarm(out, "NamedApiLatencyP90Alarm") == {
        "metric": "Latency", "stat": "p90", "missing": "notBreaching", "low": "ignore", "threshold": 2500,
        "dims": {"ApiName": {"Fn::Sub": "${AWS::StackName}-scoring"}, "Stage": {"Ref": "Stage"}}}
    assert _alarm(out, "TitledApiServerErrorRateAlarm")["dims"] == {"ApiName": "scoring-openapi"}  # ApiName alone
    assert _alarm(out, "SamApiServerErrorRateAlarm")["dims"] == {"ApiName": {"Fn::Sub": "${AWS::StackName}"}, "Stage": "v1"}
    assert [k for k in out["Resources"] if k.startswith("S3Api")] == ["S3Api"]  # the user's own, no alarm


def test_http_api_is_watched_by_its_id(monitored) -> None:
    _, out = monitored
    assert _alarm(out, "HttpServerErrorRateAlarm") == {
        "metric": "5xx", "stat": "Average", "missing": "notBreaching", "low": None, "threshold": 0.05,
        "dims": {"ApiId": {"Ref": "Http"}, "Stage": "live"}}
    assert [k for k in out["Resources"] if k.startswith("Socket")] == ["Socket"]


def test_rules_are_watched_on_their_bus(monitored) -> None:
    _, out = monitored
    on_bus = _alarm(out, "OnBusFailedInvocationsAlarm")
    assert on_bus == {"metric": "FailedInvocations", "stat": "Sum", "missing": "notBreaching", "low": None, "threshold": 1,
                      "dims": {"EventBusName": {"Ref": "Bus"}, "RuleName": {"Fn::Sub": [
                          "${MlmonNameOnBus}", {"MlmonNameOnBus": {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [
                              "OnBus", "Arn"]}]}]}}]}}}
    assert _alarm(out, "OnBusInvocationsFailedToBeSentToDlqAlarm")["dims"] == on_bus["dims"]
    assert _alarm(out, "OnBusInvocationsSentToDlqAlarm")["dims"] == on_bus["dims"]
    assert _alarm(out, "DailyFailedInvocationsAlarm")["dims"] == {"RuleName": {"Ref": "Daily"}}
    assert "DailyInvocationsSentToDlqAlarm" not in out["Resources"]  # no DLQ on its target
    assert not any(k.startswith(("Disabled", "Ours")) and "Alarm" in k for k in out["Resources"])


def test_merged_output_lints_clean(runner, monitored) -> None:
    res = runner.invoke(main, ["lint", "monitoring.yaml"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(("name", "dims"), [
    ("ml-api", {"ApiName": "ml-api"}),
    ("ml-api-\u00e9t\u00e9", {"ApiName": "ml-api-t"}),  # API Gateway drops non-ASCII characters from ApiName
])
def test_rest_api_without_stage_uses_apiname_alone(runner, tmp_path: Path, monkeypatch, name: str, dims: dict) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(
        "solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n"
        f"  - kind: api_gateway_rest\n    name: api\n    api_name: {json.dumps(name)}\n")
    res = runner.invoke(main, ["generate", "m.yaml", "-o", "out.yaml"])
    assert res.exit_code == 0, res.output
    data, _ = decode(str(tmp_path / "out.yaml"))
    assert _alarm(data, "ApiServerErrorRateAlarm")["dims"] == dims


@pytest.mark.parametrize(("kind", "option", "value", "message"), [
    ("eventbridge_rule", "rule_name", "bus|rule", "'bus|rule' is not an EventBridge rule name"),
    ("api_gateway_rest", "api_name", "\u6a21\u578b", "publishes an API whose name has none under its ID: give the API ID"),
    ("api_gateway_http", "api_id", "My-Api", "'My-Api' is not an API Gateway API ID"),
    ("api_gateway_http", "api_id", "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5", "this is an ARN, not a name: give the API ID"),
])
def test_literal_names_are_checked(runner, tmp_path: Path, monkeypatch, kind: str, option: str, value: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(
        f"solution: s\nnotifications: {{emails: [a@example.com]}}\ncomponents:\n  - kind: {kind}\n    name: x\n"
        f"    {option}: '{value}'\n")
    res = runner.invoke(main, ["validate", "m.yaml"])
    assert res.exit_code == 1 and res.output.startswith(f"m.yaml:6:") and message in res.output, res.output


def test_from_stack_reads_rules_and_http_apis_by_physical_id() -> None:
    app = parse_app_template(APP.replace("Transform: AWS::Serverless-2016-10-31\n", ""), "stack st")
    summaries = [
        {"LogicalResourceId": "Daily", "ResourceType": "AWS::Events::Rule", "PhysicalResourceId": "st-Daily-1A2B"},
        {"LogicalResourceId": "OnBus", "ResourceType": "AWS::Events::Rule", "PhysicalResourceId": "ml-events|st-OnBus-3C4D"},
        {"LogicalResourceId": "Disabled", "ResourceType": "AWS::Events::Rule", "PhysicalResourceId": "st-Off-5E6F"},
        {"LogicalResourceId": "Http", "ResourceType": "AWS::ApiGatewayV2::Api", "PhysicalResourceId": "a1b2c3d4e5"},
        {"LogicalResourceId": "Socket", "ResourceType": "AWS::ApiGatewayV2::Api", "PhysicalResourceId": "f6g7h8i9j0"},
        {"LogicalResourceId": "NamedApi", "ResourceType": "AWS::ApiGateway::RestApi", "PhysicalResourceId": "k1l2m3n4o5"},
        {"LogicalResourceId": "TitledApi", "ResourceType": "AWS::ApiGateway::RestApi", "PhysicalResourceId": "p6q7r8s9t0"},
        {"LogicalResourceId": "S3Api", "ResourceType": "AWS::ApiGateway::RestApi", "PhysicalResourceId": "u1v2w3x4y5"},
    ]
    text = spec_from_resources("st", summaries, app).text
    assert "    rule_name: st-Daily-1A2B   # Daily (AWS::Events::Rule)" in text
    assert "    api_id: a1b2c3d4e5   # Http (AWS::ApiGatewayV2::Api)" in text
    assert ("#   OnBus (AWS::Events::Rule): its physical ID 'ml-events|st-OnBus-3C4D' is not an EventBridge rule name: at "
            "most 64 letters, digits, '.', '-' and '_': add a component by hand") in text
    # a REST API's physical ID is its ID: its name comes from the processed template, with the deployed values
    assert ("  - kind: api_gateway_rest\n    name: named-api\n    api_name: st-scoring   # NamedApi (AWS::ApiGateway::RestApi): "
            "from its template\n    stage: prod   # the API's only stage in this template\n") in text
    assert "    api_name: scoring-openapi   # TitledApi (AWS::ApiGateway::RestApi): from its template\n" in text
    assert "#   S3Api (AWS::ApiGateway::RestApi): its name is the title of the definition in BodyS3Location" in text
    assert "#   Disabled (AWS::Events::Rule): DISABLED" in text and "#   Socket (AWS::ApiGatewayV2::Api): a WebSocket API" in text
