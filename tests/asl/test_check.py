"""Tests for mlmon_cli.asl.check: one case that must produce each finding and one that must not."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from mlmon_cli.asl import RULES, check_definition, load_asl

from ..conftest import corpus_params

RETRIER = {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}


def machine(**task_fields) -> dict:
    """A well-formed machine: one covered Task plus a Fail fallback; tests override task fields."""
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Retry": [dict(RETRIER)], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]}
    task.update(task_fields)
    task = {k: v for k, v in task.items() if v is not None}
    return {"StartAt": "Work", "States": {"Work": task, "Failed": {"Type": "Fail"}}}


def rules(defn: dict) -> set[tuple[str, str]]:
    return {(f.rule, f.path) for f in check_definition(defn)}


def test_baseline_machine_is_clean():
    assert check_definition(machine()) == []


# (rule, path, definition that must produce it)
POSITIVE = [
    ("ASL001", "States.Work", machine(Retry=None)),
    ("ASL002", "States.Work", machine(Catch=None)),
    ("ASL003", "States.Work.Catch", machine(Catch=[{"ErrorEquals": ["Custom"], "Next": "Failed"}])),
    ("ASL010", "States.Work.Catch[0].ErrorEquals", machine(Catch=[{"ErrorEquals": ["States.ALL", "X"], "Next": "Failed"}])),
    ("ASL011", "States.Work.Retry[0].ErrorEquals", machine(Retry=[{"ErrorEquals": ["States.ALL"]}, dict(RETRIER)])),
    ("ASL011", "States.Work.Catch[0].ErrorEquals", machine(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Failed"},
                                                                  {"ErrorEquals": ["X"], "Next": "Failed"}])),
    ("ASL012", "States.Work.Retry[0].ErrorEquals", machine(Retry=[{"ErrorEquals": []}])),
    ("ASL012", "States.Work.Catch[0].ErrorEquals", machine(Catch=[{"ErrorEquals": "States.ALL", "Next": "Failed"}])),
    ("ASL013", "States.Work.Retry", machine(Retry={"ErrorEquals": ["X"]})),
    ("ASL013", "States.Work.Catch[0]", machine(Catch=[{"ErrorEquals": ["States.ALL"]}])),
    ("ASL021", "States.Work.Catch[0].Next", machine(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Nowhere"}])),
    ("ASL021", "States.Work.Next", machine(End=None, Next="Nowhere")),
    ("ASL030", "States.Work.Retry[0].BackoffRate", machine(Retry=[dict(RETRIER, BackoffRate=0.5)])),
    ("ASL031", "States.Work.Retry[0].BackoffRate", machine(Retry=[dict(RETRIER, BackoffRate="2")])),
    ("ASL031", "States.Work.Retry[0].BackoffRate", machine(Retry=[dict(RETRIER, BackoffRate=True)])),
    ("ASL032", "States.Work.Retry[0].IntervalSeconds", machine(Retry=[dict(RETRIER, IntervalSeconds=0)])),
    ("ASL032", "States.Work.Retry[0].IntervalSeconds", machine(Retry=[dict(RETRIER, IntervalSeconds=1.5)])),
    ("ASL033", "States.Work.Retry[0].MaxAttempts", machine(Retry=[dict(RETRIER, MaxAttempts=-1)])),
    ("ASL033", "States.Work.Retry[0].MaxAttempts", machine(Retry=[dict(RETRIER, MaxAttempts="3")])),
    ("ASL034", "States.Work.Retry[0].MaxDelaySeconds", machine(Retry=[dict(RETRIER, MaxDelaySeconds=31_622_401)])),
    ("ASL035", "States.Work.Retry[0].JitterStrategy", machine(Retry=[dict(RETRIER, JitterStrategy="HALF")])),
]


@pytest.mark.parametrize(("rule", "path", "defn"), POSITIVE, ids=[f"{r}-{p}" for r, p, _ in POSITIVE])
def test_rule_fires(rule, path, defn):
    findings = [f for f in check_definition(defn) if f.rule == rule and f.path == path]
    assert findings, rules(defn)
    assert findings[0].severity == RULES[rule] and findings[0].message


NEGATIVE = [
    ("ASL010", machine(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Failed"}])),
    ("ASL011", machine(Retry=[dict(RETRIER), {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}])),
    ("ASL030", machine(Retry=[dict(RETRIER, BackoffRate=1)])),
    ("ASL032", machine(Retry=[dict(RETRIER, IntervalSeconds=99_999_999)])),
    ("ASL033", machine(Retry=[dict(RETRIER, MaxAttempts=0)])),
    ("ASL034", machine(Retry=[dict(RETRIER, MaxDelaySeconds=31_622_400)])),
    ("ASL035", machine(Retry=[dict(RETRIER, JitterStrategy="NONE")])),
    ("ASL003", machine(Catch=[{"ErrorEquals": ["Custom"], "Next": "Failed"}, {"ErrorEquals": ["States.ALL"], "Next": "Failed"}])),
]


@pytest.mark.parametrize(("rule", "defn"), NEGATIVE, ids=[r for r, _ in NEGATIVE])
def test_rule_stays_quiet_on_valid_input(rule, defn):
    assert [f for f in check_definition(defn) if f.rule == rule] == []


@pytest.mark.parametrize("value", ["${RetryInterval}", "{% $states.input.interval %}"])
def test_placeholders_and_jsonata_in_numeric_fields_are_not_checked(value):
    retry = [dict(RETRIER, IntervalSeconds=value, MaxAttempts=value, BackoffRate=value, MaxDelaySeconds=value, JitterStrategy=value)]
    assert check_definition(machine(Retry=retry)) == []


def test_placeholder_transition_targets_are_not_reported():
    defn = machine(End=None, Next="${NextState}")
    assert [f for f in check_definition(defn) if f.rule in ("ASL021", "ASL022")] == []


def test_start_at_missing_or_unknown():
    defn = machine()
    del defn["StartAt"]
    assert ("ASL021", "StartAt") in rules(defn)
    defn["StartAt"] = "Ghost"
    assert ("ASL021", "StartAt") in rules(defn)


def test_unreachable_state_is_reported_and_catch_targets_count_as_reachable():
    defn = machine()
    defn["States"]["Orphan"] = {"Type": "Succeed"}
    assert ("ASL022", "States.Orphan") in rules(defn)
    assert ("ASL022", "States.Failed") not in rules(defn)  # reached only through Catch


def test_choice_targets_are_checked_and_followed():
    defn = {"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": "Yes"},
                                               {"Variable": "$.x", "BooleanEquals": False, "Next": "Missing"}],
                 "Default": "Also missing"},
        "Yes": {"Type": "Succeed"}}}
    found = rules(defn)
    assert {("ASL021", "States.Pick.Choices[1].Next"), ("ASL021", "States.Pick.Default")} <= found
    assert ("ASL022", "States.Yes") not in found


def nested(kind: str) -> dict:
    inner = {"StartAt": "Inner", "States": {"Inner": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                      "End": True, "Retry": [dict(RETRIER, BackoffRate=0.1)],
                                                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]}}}
    body = {"Branches": [inner]} if kind == "Branches" else {kind: inner}
    outer = {"Type": "Parallel" if kind == "Branches" else "Map", "End": True, **body,
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]}
    return {"StartAt": "Outer", "States": {"Outer": outer, "Failed": {"Type": "Fail"}}}


@pytest.mark.parametrize(("kind", "prefix"), [("Branches", "States.Outer.Branches[0]."), ("ItemProcessor", "States.Outer.ItemProcessor."),
                                              ("Iterator", "States.Outer.Iterator.")])
def test_nested_scopes_are_checked_with_their_own_state_set(kind, prefix):
    found = rules(nested(kind))
    assert ("ASL030", f"{prefix}States.Inner.Retry[0].BackoffRate") in found
    # "Failed" exists at top level only: a Next must name a state of the same scope
    assert ("ASL021", f"{prefix}States.Inner.Catch[0].Next") in found


def test_parallel_and_map_need_catch_but_not_retry():
    defn = nested("ItemProcessor")
    del defn["States"]["Outer"]["Catch"]
    found = rules(defn)
    assert ("ASL002", "States.Outer") in found
    assert not any(rule == "ASL001" and path == "States.Outer" for rule, path in found)


def test_duplicate_state_names_across_scopes():
    defn = nested("Branches")
    defn["States"]["Outer"]["Branches"][0]["States"]["Failed"] = {"Type": "Fail"}
    assert ("ASL023", "States.Outer.Branches[0].States.Failed") in rules(defn)


@pytest.mark.parametrize("bad", [[], {"StartAt": "A"}, {"StartAt": "A", "States": {}}, {"StartAt": "A", "States": {"A": "x"}}])
def test_malformed_input_does_not_crash(bad):
    findings = check_definition(bad)
    assert all(f.rule in RULES for f in findings)


def test_input_is_not_mutated():
    defn = machine(Retry=[dict(RETRIER, BackoffRate=0)])
    snapshot = copy.deepcopy(defn)
    check_definition(defn)
    assert defn == snapshot


def test_finding_str_is_path_severity_rule_message():
    finding = check_definition(machine(Retry=None))[0]
    assert str(finding).startswith("States.Work: warning ASL001: ")


@pytest.mark.parametrize("path", corpus_params("asl"))
def test_corpus_definitions_are_checked_without_crashing_and_gaps_are_found(path):
    defn = load_asl(path.read_text(encoding="utf-8"), path.name)
    findings = check_definition(defn)
    assert all(f.rule in RULES and f.severity == RULES[f.rule] for f in findings)
    # every corpus file has at least one Task lacking Retry or Catch (see corpus MANIFEST)
    assert {f.rule for f in findings} & {"ASL001", "ASL002", "ASL003"}
