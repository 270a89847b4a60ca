"""Tests for mlmon_cli.asl.harden (plus io round-trips) on the shared corpus and small definitions."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from mlmon_cli.asl import AslLoadError, check_definition, dump_asl, harden_definition, load_asl
from mlmon_cli.asl.check import CATCHABLE_TYPES, iter_scopes, query_language
from mlmon_cli.asl.harden import CONSOLE, MARKER
from mlmon_cli.asl.retry_policies import GENERIC, POLICIES, policy_for_resource

from ..conftest import corpus_params
from ..moto_sfn import sandbox  # noqa: F401 - fixture

DATA = Path(__file__).resolve().parent / "data"
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
COVERAGE_RULES = {"ASL001", "ASL002", "ASL003"}
JSONPATH_ONLY = {"ResultPath", "Parameters", "InputPath", "OutputPath", "ResultSelector", "ErrorPath", "CausePath"}
LAMBDA_AWS_BP = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"}


# ----------------------------------------------------------------------------------------- helpers
@pytest.fixture(params=corpus_params("asl"))
def case(request):
    path: Path = request.param
    text = path.read_text(encoding="utf-8")
    return path, text, load_asl(text, path.name)


def states_by_path(defn: dict) -> dict[str, tuple[dict, str]]:
    """Every state in every scope: path -> (state, effective QueryLanguage)."""
    out = {}
    for scope in iter_scopes(defn):
        for name, state in scope.body.get("States", {}).items():
            out[scope.state_path(name)] = (state, query_language(state, scope.query_language))
    return out


def all_strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in [k, *all_strings(v)]]
    if isinstance(obj, list):
        return [s for v in obj for s in all_strings(v)]
    return []


def is_added(state: dict) -> bool:
    return str(state.get("Comment", "")).startswith(MARKER)


def task(resource="arn:aws:states:::lambda:invoke", **extra) -> dict:
    return {"Type": "Task", "Resource": resource, **extra}


# ------------------------------------------------------------------------------------------ corpus
def test_corpus_output_parses_back_in_its_own_format(case):
    path, _, defn = case
    fmt = "yaml" if path.suffix in (".yaml", ".yml") else "json"
    out = harden_definition(defn).definition
    assert load_asl(dump_asl(out, fmt), path.name) == out


def test_corpus_every_task_parallel_map_has_retry_and_catch_all_last(case):
    out = harden_definition(case[2]).definition
    checked = 0
    for path, (state, _) in states_by_path(out).items():
        if state.get("Type") not in CATCHABLE_TYPES:
            continue
        checked += 1
        if state["Type"] == "Task":
            assert state.get("Retry"), f"{path} has no Retry"
        catch = state.get("Catch")
        assert catch and catch[-1]["ErrorEquals"] == ["States.ALL"], f"{path}: last catcher is not States.ALL alone"
        assert all("States.ALL" not in c["ErrorEquals"] for c in catch[:-1]), f"{path}: States.ALL not last"
    assert checked > 0


def test_corpus_original_states_keep_every_key_value_and_order(case):
    defn = case[2]
    before, after = states_by_path(defn), states_by_path(harden_definition(defn).definition)
    for path, (orig, _) in before.items():
        new = after[path][0]
        assert list(new)[: len(orig)] == list(orig), f"{path}: key order changed"
        assert set(new) - set(orig) <= {"Retry", "Catch"}, f"{path}: unexpected new keys"
        for key, value in orig.items():
            if key == "Catch":
                assert new["Catch"][: len(value)] == value, f"{path}: existing catchers not kept as prefix"
            elif key in ("Branches", "ItemProcessor", "Iterator"):
                continue  # nested states are compared one by one through their own paths
            else:
                assert new[key] == value, f"{path}.{key} changed"


def test_corpus_placeholders_survive_unchanged(case):
    path, text, defn = case
    out = harden_definition(defn).definition
    dumped = dump_asl(out, "yaml" if path.suffix in (".yaml", ".yml") else "json")
    out_strings = set(all_strings(out))
    for s in all_strings(defn):
        if "${" in s:
            assert s in out_strings, f"placeholder string changed: {s!r}"
    for token in set(PLACEHOLDER.findall(text)):
        assert token in dumped, f"{token} lost in dump"


def test_corpus_second_run_is_a_no_op(case):
    first = harden_definition(case[2])
    second = harden_definition(first.definition)
    assert first.changes, "corpus files all need hardening; no change means harden did nothing"
    assert second.changes == ()
    assert second.definition == first.definition


def test_corpus_input_is_not_mutated(case):
    defn = case[2]
    snapshot = copy.deepcopy(defn)
    harden_definition(defn)
    assert defn == snapshot


def test_corpus_checker_finds_no_coverage_gap_and_no_new_error(case):
    defn = case[2]
    before = {(f.path, f.rule) for f in check_definition(defn) if f.severity == "error"}
    findings = check_definition(harden_definition(defn).definition)
    assert [f for f in findings if f.rule in COVERAGE_RULES] == []
    new_errors = [f for f in findings if f.severity == "error" and (f.path, f.rule) not in before]
    assert new_errors == []


def test_corpus_jsonata_states_get_no_jsonpath_fields(case):
    defn = case[2]
    before = states_by_path(defn)
    for path, (state, ql) in states_by_path(harden_definition(defn).definition).items():
        if ql != "JSONata":
            continue
        orig_keys = set(before[path][0]) if path in before else set()
        assert not (set(state) - orig_keys) & JSONPATH_ONLY, path
        for catcher in state.get("Catch", [])[len(before[path][0].get("Catch", [])) if path in before else 0:]:
            assert "ResultPath" not in catcher and "Output" in catcher, path


def test_corpus_changes_name_every_modified_state(case):
    defn = case[2]
    result = harden_definition(defn)
    before, after = states_by_path(defn), states_by_path(result.definition)
    changed_paths = {c.path for c in result.changes}
    for path, (state, _) in after.items():
        if path not in before:
            assert path in changed_paths and is_added(state), f"{path} added silently"
        elif state != before[path][0] and state.get("Type") in CATCHABLE_TYPES:
            own = {k: v for k, v in state.items() if k not in ("Branches", "ItemProcessor", "Iterator")}
            orig = {k: v for k, v in before[path][0].items() if k not in ("Branches", "ItemProcessor", "Iterator")}
            assert own == orig or path in changed_paths, f"{path} changed but not reported"


@pytest.mark.slow  # cfn-lint on every corpus definition
def test_corpus_cfn_lint_reports_nothing_new(case):
    lint_all = pytest.importorskip("cfnlint.api").lint_all

    def lint(definition):
        template = {"Resources": {"Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/sfn", "Definition": definition}}}}
        return {(m.rule.id, m.message) for m in lint_all(json.dumps(template))}

    defn = case[2]
    assert lint(harden_definition(defn).definition) - lint(defn) == set()


# ---------------------------------------------------------------------------------- retry policies
@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("arn:aws:states:::lambda:invoke", "lambda"),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", "lambda"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:train", "lambda"),
        ("${PrepareFunctionArn}", "lambda"),
        ("arn:${AWS::Partition}:states:::sagemaker:createTrainingJob.sync", "sagemaker"),
        ("arn:aws:states:::glue:startJobRun.sync", "glue"),
        ("arn:aws:states:::codebuild:startBuild.sync", "codebuild"),
        ("arn:aws:states:::sns:publish", "sns"),
        ("arn:aws:states:::ecs:runTask.sync", "ecs"),
        ("arn:aws:states:::batch:submitJob.sync", "batch"),
        ("arn:aws:states:::dynamodb:updateItem", "dynamodb"),
        ("arn:aws:states:::bedrock:invokeModel", "bedrock"),
        ("arn:aws:states:::http:invoke", "http"),
        ("arn:aws:states:::aws-sdk:s3:getObject", "aws-sdk:s3"),
        ("arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken", "aws-sdk:dynamodb"),
        ("arn:aws:states:us-east-1:123456789012:activity:approve", "generic"),
        ("arn:aws:states:::aws-sdk:madeupservice:doThing", "generic"),
        ("arn:aws:states:::emr-containers:startJobRun.sync", "generic"),
        (42, "generic"),
    ],
)
def test_policy_is_chosen_from_the_resource(resource, expected):
    assert policy_for_resource(resource).name == expected


def test_lambda_policy_follows_the_aws_best_practice_page():
    retrier = POLICIES["lambda"].to_asl()[0]
    assert LAMBDA_AWS_BP <= set(retrier["ErrorEquals"])
    assert (retrier["IntervalSeconds"], retrier["MaxAttempts"], retrier["BackoffRate"]) == (2, 6, 2)
    assert retrier["JitterStrategy"] == "FULL" and retrier["MaxDelaySeconds"] >= retrier["IntervalSeconds"]


def test_aws_sdk_error_names_use_the_pascal_case_service_prefix():
    names = POLICIES_FOR("arn:aws:states:::aws-sdk:dynamodb:putItem")
    assert "DynamoDb.DynamoDbException" in names
    assert "DynamoDb.InternalServerErrorException" in names  # botocore "InternalServerError" + Exception suffix
    assert all(n.startswith("DynamoDb.") for n in names)


def POLICIES_FOR(resource: str) -> list[str]:  # noqa: N802 - reads like a table lookup
    return [e for r in policy_for_resource(resource).to_asl() for e in r["ErrorEquals"]]


def test_every_policy_renders_valid_retriers():
    for policy in [*POLICIES.values(), GENERIC, policy_for_resource("arn:aws:states:::aws-sdk:bedrockagent:x")]:
        defn = {"StartAt": "T", "States": {"T": task(End=True, Retry=policy.to_asl())}}
        assert [f for f in check_definition(defn) if f.severity == "error"] == [], policy.name
        assert policy.source, policy.name


# ------------------------------------------------------------------------------ harden semantics
def test_task_without_retry_gets_policy_retry_and_catch_to_notify():
    defn = {"StartAt": "Train", "States": {"Train": task("arn:aws:states:::sagemaker:createTrainingJob.sync", End=True)}}
    out = harden_definition(defn).definition
    train = out["States"]["Train"]
    assert train["Retry"] == POLICIES["sagemaker"].to_asl()
    assert train["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Train failed"}]
    marker = out["States"]["Train failed"]
    assert (marker["Type"], marker["Result"], marker["ResultPath"], marker["Next"]) == ("Pass", "Train", "$.failedState", "NotifyFailure")
    notify, fail = out["States"]["NotifyFailure"], out["States"]["ExecutionFailed"]
    assert notify["Resource"] == "arn:aws:states:::sns:publish" and notify["Parameters"]["TopicArn"] == "${AlertTopicArn}"
    assert notify["Next"] == "ExecutionFailed" and notify["Catch"][-1]["Next"] == "ExecutionFailed"
    assert notify["Retry"] and fail["Type"] == "Fail" and fail["Error"] == "WorkflowFailed"
    message = notify["Parameters"]["Message.$"]
    for needle in ("$$.StateMachine.Name", "$.failedState", "$.error.Error", "$.error.Cause", "$$.Execution.Id", CONSOLE):
        assert needle in message
    assert "Assign" not in json.dumps(out) and "$mlmon" not in json.dumps(out)  # no workflow variables


def test_existing_retry_is_kept_exactly():
    retry = [{"ErrorEquals": ["Custom.Error"], "BackoffRate": 1.5}]
    defn = {"StartAt": "T", "States": {"T": task(End=True, Retry=copy.deepcopy(retry))}}
    assert harden_definition(defn).definition["States"]["T"]["Retry"] == retry


def test_catch_without_catch_all_gets_one_appended_after_existing_entries():
    existing = [{"ErrorEquals": ["ResourceFailed"], "Next": "Handle"}]
    defn = {"StartAt": "T", "States": {"T": task(Next="Handle", Catch=copy.deepcopy(existing)),
                                       "Handle": {"Type": "Succeed"}}}
    result = harden_definition(defn)
    catch = result.definition["States"]["T"]["Catch"]
    assert catch[:1] == existing and catch[1]["ErrorEquals"] == ["States.ALL"] and len(catch) == 2
    assert any(c.action == "catch_all_appended" and c.path == "States.T" for c in result.changes)


def test_fully_covered_definition_is_returned_unchanged_without_fallback_states():
    defn = {"StartAt": "T", "States": {
        "T": task(End=True, Retry=[{"ErrorEquals": ["X"]}], Catch=[{"ErrorEquals": ["States.ALL"], "Next": "F"}]),
        "F": {"Type": "Fail"}}}
    result = harden_definition(defn)
    assert result.definition == defn and result.changes == () and not result.changed


def test_errors_the_author_catches_explicitly_are_not_retried():
    defn = {"StartAt": "T", "States": {"T": task(Next="Busy", Catch=[{"ErrorEquals": ["Lambda.TooManyRequestsException"], "Next": "Busy"}]),
                                       "Busy": {"Type": "Succeed"}}}
    retried = {e for r in harden_definition(defn).definition["States"]["T"]["Retry"] for e in r["ErrorEquals"]}
    assert "Lambda.TooManyRequestsException" not in retried and LAMBDA_AWS_BP <= retried


def test_nested_scopes_route_to_their_own_fallback_and_notify_once_at_top():
    branches = [{"StartAt": n, "States": {n: task(End=True)}} for n in ("Work", "Work2")]
    defn = {"StartAt": "Fan", "States": {
        "Fan": {"Type": "Parallel", "Branches": branches, "Next": "Each"},
        "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "Item", "States": {"Item": task(End=True)}}, "Next": "Legacy"},
        "Legacy": {"Type": "Map", "Iterator": {"StartAt": "Old", "States": {"Old": task(End=True)}}, "End": True},
    }}
    out = harden_definition(defn).definition
    assert [f for f in check_definition(out) if f.severity == "error"] == []
    tops = {n: s for n, s in out["States"].items()}
    for name in ("Fan", "Each", "Legacy"):
        assert tops[name]["Catch"][-1] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"{name} failed"}
        assert tops[f"{name} failed"]["Next"] == "NotifyFailure"
    notifies = [p for p, (s, _) in states_by_path(out).items() if s.get("Resource") == "arn:aws:states:::sns:publish"]
    assert notifies == ["States.NotifyFailure"]
    inner_catch = out["States"]["Each"]["ItemProcessor"]["States"]["Item"]["Catch"][-1]
    assert inner_catch["Next"] in out["States"]["Each"]["ItemProcessor"]["States"]
    assert inner_catch["ResultPath"] == "$"  # nested catchers only re-raise: Map items need not be objects


def test_fallback_names_get_a_deterministic_suffix_when_taken_anywhere():
    defn = {"StartAt": "NotifyFailure", "States": {
        "NotifyFailure": task(Next="P"),
        "P": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "PropagateFailure", "States": {"PropagateFailure": task(End=True)}}]},
    }}
    out = harden_definition(defn).definition
    assert out["States"]["NotifyFailure"]["Catch"][-1]["Next"] == "NotifyFailure failed"
    assert out["States"]["NotifyFailure failed"]["Next"] == "NotifyFailure_2"
    assert "ExecutionFailed" in out["States"]
    branch = out["States"]["P"]["Branches"][0]["States"]
    assert branch["PropagateFailure"]["Catch"][-1]["Next"] == "PropagateFailure_2"
    names = [n for s in iter_scopes(out) for n in s.body["States"]]
    assert len(names) == len(set(names))
    assert harden_definition(out).changes == ()


def test_jsonata_definition_uses_output_arguments_and_expressions():
    defn = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": task("arn:aws:states:::aws-sdk:s3:putObject", End=True)}}
    out = harden_definition(defn).definition
    catcher = out["States"]["T"]["Catch"][-1]
    assert "ResultPath" not in catcher and catcher["Output"].startswith("{%")
    notify = out["States"]["NotifyFailure"]
    assert "Parameters" not in notify and set(notify["Arguments"]) == {"TopicArn", "Subject", "Message"}
    assert catcher["Output"] == "{% $merge([$states.input, {'error': $states.errorOutput, 'failedState': 'T'}]) %}"
    assert catcher["Next"] == "NotifyFailure" and "Assign" not in catcher
    assert "$states.input.failedState" in notify["Arguments"]["Message"]
    assert all(not (set(s) & JSONPATH_ONLY) for s in out["States"].values())


def test_state_level_jsonata_inside_jsonpath_machine_gets_jsonata_catcher():
    defn = {"StartAt": "T", "States": {"T": task(QueryLanguage="JSONata", End=True)}}
    out = harden_definition(defn).definition
    assert "Output" in out["States"]["T"]["Catch"][-1]
    assert "Parameters" in out["States"]["NotifyFailure"]  # fallback follows the machine's language


def test_jsonpath_state_in_jsonata_machine_goes_through_a_jsonpath_marker():
    defn = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": task(QueryLanguage="JSONPath", End=True)}}
    out = harden_definition(defn).definition
    assert out["States"]["T"]["Catch"][-1] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "T failed"}
    marker = out["States"]["T failed"]
    assert marker["QueryLanguage"] == "JSONPath" and marker["Next"] == "NotifyFailure"
    assert "Arguments" in out["States"]["NotifyFailure"]  # the fallback follows the machine's language
    assert check_definition(out) == [] and harden_definition(out).changes == ()


def test_long_state_names_get_markers_within_the_80_character_limit():
    name = "x" * 80
    out = harden_definition({"StartAt": name, "States": {name: task(End=True)}}).definition
    marker = out["States"][name]["Catch"][-1]["Next"]
    assert len(marker) <= 80 and marker.endswith(" failed") and out["States"][marker]["Result"] == name


def test_workflow_name_and_topic_are_used_and_escaped():
    defn = {"StartAt": "T", "States": {"T": task(End=True)}}
    out = harden_definition(defn, topic_arn="arn:aws:sns:eu-west-1:123456789012:ops", workflow_name="it's {x}").definition
    params = out["States"]["NotifyFailure"]["Parameters"]
    assert params["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:ops"
    assert "'it\\'s \\{x\\}'" in params["Message.$"] and params["Subject"] == "FAILED: it's {x}"


def test_notify_and_added_states_are_not_hardened_again():
    defn = {"StartAt": "T", "States": {"T": task(End=True)}}
    once = harden_definition(defn).definition
    notify = once["States"]["NotifyFailure"]
    assert all(c["Next"] != "NotifyFailure" for c in notify["Catch"])
    twice = harden_definition(once)
    assert twice.changes == () and twice.definition == once


def test_harden_result_is_frozen_and_summary_lists_changes():
    result = harden_definition({"StartAt": "T", "States": {"T": task(End=True)}})
    with pytest.raises(AttributeError):
        result.definition = {}  # type: ignore[misc]
    assert len(result.summary()) == len(result.changes) >= 4
    assert harden_definition(result.definition).summary()[0].startswith("no changes")


@pytest.mark.parametrize("bad", [[], {"StartAt": "x"}, {"States": "${Body}"}])
def test_non_definitions_are_rejected(bad):
    with pytest.raises(ValueError):
        harden_definition(bad)


# --------------------------------------------------------------------------------------------- io
def test_yaml_fixture_round_trips_with_placeholders_dates_and_order():
    text = (DATA / "jsonata_placeholders.asl.yaml").read_text(encoding="utf-8")
    defn = load_asl(text, "jsonata_placeholders.asl.yaml")
    assert list(defn) == ["Comment", "QueryLanguage", "StartAt", "States"]
    assert defn["States"]["Prepare"]["Assign"]["bucket"] == "${OutputBucket}"
    assert defn["States"]["Prepare"]["Assign"]["since"] == "2024-01-31"  # not a datetime.date
    for fmt in ("json", "yaml"):
        assert load_asl(dump_asl(defn, fmt), f"x.{fmt}") == defn


def test_json_dump_keeps_order_unicode_and_trailing_newline():
    defn = {"b": 1, "a": "Grüße ${Name}"}
    text = dump_asl(defn, "json")
    assert text.endswith("}\n") and "Grüße ${Name}" in text and text.index('"b"') < text.index('"a"')
    assert json.loads(text) == defn


@pytest.mark.parametrize(
    ("text", "filename", "line"),
    [
        ('{\n  "StartAt": "A",\n  "States": {,}\n}', "bad.json", 3),
        ('{\n  "States": {},\n  "States": {}\n}', "dup.json", 3),
        ("StartAt: A\nStates:\n  A: {Type: Pass}\n  A: {Type: Pass}\n", "dup.yaml", 4),
        ("StartAt: [unclosed\n", "bad.yml", 2),
        ("- just\n- a list\n", "list.yaml", 1),
    ],
)
def test_load_errors_carry_line_numbers(text, filename, line):
    with pytest.raises(AslLoadError) as err:
        load_asl(text, filename)
    assert err.value.line == line and isinstance(err.value, ValueError)


def test_unknown_extension_falls_back_to_yaml():
    assert load_asl("StartAt: A\nStates: {A: {Type: Succeed}}\n", "machine.asl")["StartAt"] == "A"


def test_dump_rejects_unknown_format():
    with pytest.raises(ValueError):
        dump_asl({}, "toml")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ moto execution
# moto 5.2.1 runs the hardened definitions in its own, unpatched interpreter (see tests/moto_sfn.py):
# Catch routing, ResultPath, Pass, Choice, ErrorPath/CausePath, States.Format, Parallel/Map and
# SNS->SQS delivery.  It ships no JSONata engine, so the JSONata variant is checked structurally.
MISSING_TOPIC = "arn:aws:sns:us-east-1:123456789012:does-not-exist"


@pytest.fixture
def harden_run(sandbox):
    topic, queue = sandbox.topic_with_queue("mlmon-alerts")
    token_topic = sandbox.sns.create_topic(Name="callbacks")["TopicArn"]  # no subscribers

    def run(definition: dict, payload: dict | None = None):
        hardened = harden_definition(definition, topic_arn=topic).definition
        execution = sandbox.run(json.dumps(hardened).replace("TOKEN_TOPIC", token_topic), payload)
        return execution.desc, sandbox.messages(queue)

    return run


def failing_publish() -> dict:
    return task("arn:aws:states:::sns:publish", Parameters={"TopicArn": MISSING_TOPIC, "Message": "x"}, End=True)


@pytest.mark.slow  # moto executes the hardened definition
def test_moto_top_level_failure_is_notified_and_execution_fails(harden_run):
    desc, messages = harden_run({"StartAt": "Publish report", "States": {"Publish report": failing_publish()}}, {"day": "mon"})
    assert desc["status"] == "FAILED" and desc["error"] == "WorkflowFailed"
    assert desc["cause"].startswith("SNS.NotFoundException at state Publish report: ")
    assert len(messages) == 1
    arn = "arn:aws:states:us-east-1:123456789012:execution:wf:run1"
    assert messages[0].startswith("Step Functions workflow wf failed at state Publish report. Error: SNS.NotFoundException. Cause: ")
    assert messages[0].endswith(f". Execution: {arn}. Console: {CONSOLE}{arn}")


@pytest.mark.slow  # moto executes the hardened definition
def test_moto_parallel_branch_failure_notifies_once_with_original_error(harden_run):
    definition = {"StartAt": "Fan out", "States": {"Fan out": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Fine", "States": {"Fine": {"Type": "Pass", "End": True}}},
        {"StartAt": "Inner publish", "States": {"Inner publish": failing_publish()}},
    ]}}}
    desc, messages = harden_run(definition)
    assert desc["status"] == "FAILED"
    assert len(messages) == 1 and "Fan out" in messages[0] and "Error: SNS.NotFoundException" in messages[0]


@pytest.mark.slow  # moto executes the hardened definition
def test_moto_states_error_in_branch_is_reraised_renamed_and_notified(harden_run):
    waits = task("arn:aws:states:::sns:publish.waitForTaskToken", TimeoutSeconds=1,
                 Parameters={"TopicArn": "TOKEN_TOPIC", "Message.$": "$$.Task.Token"}, End=True)
    definition = {"StartAt": "Fan out", "States": {"Fan out": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Wait for approval", "States": {"Wait for approval": waits}}]}}}
    desc, messages = harden_run(definition)
    assert desc["status"] == "FAILED" and "mlmon.States.Timeout" in desc["cause"]
    assert len(messages) == 1 and "Error: mlmon.States.Timeout" in messages[0]


@pytest.mark.slow  # moto executes the hardened definition
def test_moto_map_item_failures_notify_once(harden_run):
    definition = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "End": True,
                                                        "ItemProcessor": {"StartAt": "Item publish", "States": {"Item publish": failing_publish()}}}}}
    desc, messages = harden_run(definition, {"items": ["a", "b", "c"]})  # string items: nested catchers must not need objects
    assert desc["status"] == "FAILED" and len(messages) == 1 and "failed at state Each" in messages[0]


@pytest.mark.slow  # moto executes the hardened definition
def test_moto_successful_execution_sends_no_alert(harden_run):
    ok = task("arn:aws:states:::sns:publish", Parameters={"TopicArn": "TOKEN_TOPIC", "Message": "done"}, End=True)
    desc, messages = harden_run({"StartAt": "Publish", "States": {"Publish": ok}})
    assert desc["status"] == "SUCCEEDED" and messages == []


@pytest.mark.slow  # moto executes the hardened definition
def test_moto_non_object_input_cannot_be_kept_but_execution_still_fails(harden_run):
    """The documented limit of ResultPath $.error: a string input makes the catcher fail (States.Runtime)."""
    desc, messages = harden_run({"StartAt": "Publish report", "States": {"Publish report": failing_publish()}}, "just text")
    assert desc["status"] == "FAILED" and messages == []


@pytest.mark.slow  # moto executes the hardened definition
def test_moto_cannot_execute_the_jsonata_variant():
    jsonata = pytest.importorskip("moto.stepfunctions.parser.asl.jsonata.jsonata")
    if jsonata._eval_jsonata is None:
        pytest.skip("moto 5.2.1 has no JSONata engine (jsonata._eval_jsonata is None): JSONata output is checked structurally only")
    pytest.fail("this moto can evaluate JSONata: add an execution test for the JSONata fallback states")
