"""Every rule in the registry fires on a template made to break it, with its exact message, and the
MLM limit rules stay silent one step below their limit.

Templates are plain dicts run through the registry (`run_rules`), the same pass `mlmon lint` and the
cfn-lint rule pack make after cfn-lint, so these tests are fast. A new rule without a case here fails
`test_every_registered_rule_has_a_case`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlmon_cli.limits import INLINE_TEMPLATE_BYTES, MAX_ALARM_ACTIONS, MAX_COMPOSITE_CHILDREN, MAX_RULE_TARGETS
from mlmon_cli.rules import TemplateContext, all_rules, run_rules

TOPIC = {"Ref": "Topic"}
LAMBDA = "arn:aws:states:::lambda:invoke"
RETRY = [{"ErrorEquals": ["States.ALL"]}]
CATCH = [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]


def alarm(**props: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1,
        "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", **props}}


def composite(children: int, **props: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::CompositeAlarm",
            "Properties": {"AlarmRule": " OR ".join(f"ALARM(a{i})" for i in range(children)), **props}}


def rule(targets: int) -> dict[str, Any]:
    return {"Type": "AWS::Events::Rule", "Properties": {"Targets": [{"Id": f"t{i}", "Arn": TOPIC} for i in range(targets)]}}


def task(**changes: Any) -> dict[str, Any]:
    """A Lambda task with full error handling; `changes` replace keys (None removes one)."""
    state = {"Type": "Task", "Resource": LAMBDA, "Retry": RETRY, "Catch": CATCH, "End": True, **changes}
    return {k: v for k, v in state.items() if v is not None}


def machine(states: dict[str, Any], start: str = "Work", fail: bool = True) -> dict[str, Any]:
    """A state machine whose definition holds `states` plus (`fail`) the `Failed` state the catchers go to."""
    definition = {"StartAt": start, "States": {**states, **({"Failed": {"Type": "Fail"}} if fail else {})}}
    return {"Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/sfn", "DefinitionString": json.dumps(definition)}}


def retrying(**retrier: Any) -> dict[str, Any]:
    return machine({"Work": task(Retry=[{"ErrorEquals": ["States.ALL"], **retrier}])})


AT = "M: DefinitionString.States."  # where an ASL finding in resource M starts
# rule ID -> (resources that break it, template size, the exact messages of that rule)
CASES: dict[str, tuple[dict[str, Any], int | None, list[str]]] = {
    "MLM001": ({}, INLINE_TEMPLATE_BYTES + 1, [
        f"template is {INLINE_TEMPLATE_BYTES + 1} bytes, over the {INLINE_TEMPLATE_BYTES}-byte inline limit: "
        "deploy with 'aws cloudformation deploy --s3-bucket BUCKET'"]),
    "MLM002": ({"R": rule(MAX_RULE_TARGETS + 1)}, None, [f"R: {MAX_RULE_TARGETS + 1} targets; EventBridge allows {MAX_RULE_TARGETS} per rule"]),
    "MLM003": ({"A": alarm(OKActions=[TOPIC] * (MAX_ALARM_ACTIONS + 1))}, None,
               [f"A: {MAX_ALARM_ACTIONS + 1} OKActions; CloudWatch allows {MAX_ALARM_ACTIONS}"]),
    "MLM004": ({"A": alarm(TreatMissingData="notBreaching", InsufficientDataActions=[TOPIC])}, None,
               ["A: InsufficientDataActions on a sparse metric (notBreaching) fire on quiet periods"]),
    "MLM005": ({"C": composite(MAX_COMPOSITE_CHILDREN + 1)}, None,
               [f"C: rule names {MAX_COMPOSITE_CHILDREN + 1} alarms; a composite allows {MAX_COMPOSITE_CHILDREN}"]),
    "MLM006": ({"C": composite(1, InsufficientDataActions=[TOPIC])}, None,
               ["C: composites are INSUFFICIENT_DATA only right after creation, so these actions never run"]),
    "MLM007": ({"A": alarm(Threshold=None)}, None, ["/Resources/A/Properties/Threshold is null; CloudFormation rejects null values in templates"]),
    "MLM008": ({"M": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": "{not json"}}}, None, [
        "M: DefinitionString: cannot parse the definition (1:2: invalid JSON: Expecting property name enclosed in double quotes); "
        "its Retry/Catch cannot be checked"]),
    "ASL001": ({"M": machine({"Work": task(Retry=None)})}, None, [f"{AT}Work: Task has no Retry; transient service errors fail the state"]),
    "ASL002": ({"M": machine({"Work": task(Catch=None)}, fail=False)}, None,
               [f"{AT}Work: Task has no Catch; a failure ends the execution without a fallback"]),
    "ASL003": ({"M": machine({"Work": task(Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"}])})}, None,
               [f"{AT}Work.Catch: no States.ALL catcher; unexpected errors bypass the fallback"]),
    "ASL010": ({"M": machine({"Work": task(Retry=[{"ErrorEquals": ["States.ALL", "Lambda.TooManyRequestsException"]}])})}, None,
               [f"{AT}Work.Retry[0].ErrorEquals: States.ALL must appear alone in ErrorEquals"]),
    "ASL011": ({"M": machine({"Work": task(Retry=[*RETRY, {"ErrorEquals": ["States.Timeout"]}])})}, None,
               [f"{AT}Work.Retry[0].ErrorEquals: States.ALL must be in the last retrier/catcher"]),
    "ASL012": ({"M": machine({"Work": task(Retry=[{"ErrorEquals": []}])})}, None,
               [f"{AT}Work.Retry[0].ErrorEquals: must be a non-empty list of error names"]),
    "ASL013": ({"M": machine({"Work": task(Retry={"ErrorEquals": ["States.ALL"]})})}, None, [f"{AT}Work.Retry: must be a list"]),
    "ASL020": ({"M": machine({"Work": {"Type": "Parallel", "Branches": [{"StartAt": "X"}], "Retry": RETRY, "Catch": CATCH,
                                       "End": True}})}, None, [f"{AT}Work.Branches[0].States: scope has no States object"]),
    "ASL021": ({"M": machine({"Work": task(End=None, Next="Nowhere")})}, None, [f"{AT}Work.Next: 'Nowhere' is not a state of this scope"]),
    "ASL022": ({"M": machine({"Work": task(), "Orphan": {"Type": "Pass", "End": True}})}, None,
               [f"{AT}Orphan: state 'Orphan' is not reachable from StartAt 'Work'"]),
    "ASL023": ({"M": machine({"Work": {"Type": "Parallel", "Retry": RETRY, "Catch": CATCH, "End": True,
                                       "Branches": [{"StartAt": "Failed", "States": {"Failed": {"Type": "Pass", "End": True}}}]}})},
               None, [f"{AT}Work.Branches[0].States.Failed: state name 'Failed' is also used at States.Failed"]),
    "ASL030": ({"M": retrying(BackoffRate=0.5)}, None, [f"{AT}Work.Retry[0].BackoffRate: must be >= 1.0, got 0.5"]),
    "ASL031": ({"M": retrying(BackoffRate="fast")}, None, [f"{AT}Work.Retry[0].BackoffRate: must be a number, got 'fast'"]),
    "ASL032": ({"M": retrying(IntervalSeconds=0)}, None, [f"{AT}Work.Retry[0].IntervalSeconds: must be an integer in 1..99,999,999, got 0"]),
    "ASL033": ({"M": retrying(MaxAttempts=-1)}, None, [f"{AT}Work.Retry[0].MaxAttempts: must be an integer in 0..99,999,999, got -1"]),
    "ASL034": ({"M": retrying(MaxDelaySeconds=0)}, None, [f"{AT}Work.Retry[0].MaxDelaySeconds: must be an integer in 1..31,622,400, got 0"]),
    "ASL035": ({"M": retrying(JitterStrategy="SOME")}, None, [f"{AT}Work.Retry[0].JitterStrategy: must be FULL or NONE, got 'SOME'"]),
    "ASL040": ({"M": machine({"Work": task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Done"}]), "Done": {"Type": "Succeed"}},
                             fail=False)},
               None, [f"{AT}Work.Catch[0].Next: the failure caught here reaches 'Done' (Succeed, a success end) without a Fail state: "
                      "the execution reports SUCCEEDED and failure alarms stay silent"]),
}

# One step below each limit: the same rule stays silent.
NEAR_MISSES: dict[str, tuple[dict[str, Any], int | None]] = {
    "MLM001": ({}, INLINE_TEMPLATE_BYTES),
    "MLM002": ({"R": rule(MAX_RULE_TARGETS)}, None),
    "MLM003": ({"A": alarm(OKActions=[TOPIC] * MAX_ALARM_ACTIONS)}, None),
    "MLM004": ({"A": alarm(TreatMissingData="notBreaching", InsufficientDataActions=[{"Ref": "AlarmHistoryTopic"}])}, None),
    "MLM005": ({"C": composite(MAX_COMPOSITE_CHILDREN)}, None),
    "MLM006": ({"C": composite(1, AlarmActions=[TOPIC])}, None),
}


def hits(resources: dict[str, Any], size: int | None) -> list[tuple[str, str]]:
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, **resources}}
    return sorted((r.id, hit.message) for r, hit in run_rules(TemplateContext(template, size=size)))


def test_every_registered_rule_has_a_case() -> None:
    assert sorted(CASES) == [r.id for r in all_rules()]


def test_the_cases_start_from_a_clean_machine() -> None:
    """The fixtures the ASL cases break are themselves clean, so each case isolates one fault."""
    assert hits({"M": machine({"Work": task()})}, 1_000) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires(rule_id: str) -> None:
    resources, size, messages = CASES[rule_id]
    found = hits(resources, size)
    assert {rid for rid, _ in found} == {rule_id}, found
    assert [m for _, m in found] == messages


@pytest.mark.parametrize("rule_id", sorted(NEAR_MISSES))
def test_limit_rules_are_silent_below_their_limit(rule_id: str) -> None:
    assert hits(*NEAR_MISSES[rule_id]) == []
