"""ASL040: a catcher of unexpected failures whose path ends in success hides the failure."""

from __future__ import annotations

import pytest

from mlmon_cli.asl import check_definition

RETRY = [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}]


def task(**fields) -> dict:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Retry": RETRY, **fields}


def catch(target: str, errors: tuple[str, ...] = ("States.ALL",)) -> list[dict]:
    return [{"ErrorEquals": list(errors), "Next": target}]


def asl040(definition: dict) -> list[tuple[str, str]]:
    return [(f.path, f.message) for f in check_definition(definition) if f.rule == "ASL040"]


NOTIFY = task(Catch=catch("Failed"))


def test_catch_to_succeed_through_a_notification() -> None:
    definition = {"StartAt": "Work", "States": {
        "Work": task(Catch=catch("Notify"), End=True),
        "Notify": dict(NOTIFY, Next="Done"),
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    }}
    assert asl040(definition) == [("States.Work.Catch[0].Next",
                                   "the failure caught here reaches 'Done' (Succeed, a success end) without a Fail state: "
                                   "the execution reports SUCCEEDED and failure alarms stay silent")]


@pytest.mark.parametrize("end", [{"Type": "Pass", "End": True}, dict(NOTIFY, End=True)], ids=["pass-end", "task-end"])
def test_catch_to_an_end_state(end: dict) -> None:
    definition = {"StartAt": "Work", "States": {"Work": task(Catch=catch("Handle", ("States.TaskFailed",)), End=True),
                                                "Handle": end, "Failed": {"Type": "Fail"}}}
    assert [p for p, _ in asl040(definition)] == ["States.Work.Catch[0].Next"]


def test_choice_branch_to_success_is_found() -> None:
    definition = {"StartAt": "Work", "States": {
        "Work": task(Catch=catch("Route"), End=True),
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": "Failed"}], "Default": "Ok"},
        "Ok": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    }}
    assert "'Ok' (Succeed" in asl040(definition)[0][1]


@pytest.mark.parametrize("states", [
    # notify, then fail: the failure is reported
    {"Work": task(Catch=catch("Notify"), End=True), "Notify": dict(NOTIFY, Next="Failed"), "Failed": {"Type": "Fail"}},
    # a named error is deliberate control flow
    {"Work": task(Catch=catch("Skip", ("NoNewData",)), End=True), "Skip": {"Type": "Succeed"}},
    # wait and try again: the handler loops back to the catching state
    {"Work": task(Catch=catch("Wait"), Next="Done"), "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Work"},
     "Done": {"Type": "Succeed"}},
], ids=["notify-then-fail", "named-error", "retry-loop"])
def test_not_flagged(states: dict) -> None:
    assert asl040({"StartAt": "Work", "States": states}) == []


def test_map_items_may_tolerate_failures() -> None:
    inner = {"StartAt": "Item", "States": {"Item": task(Catch=catch("Skip"), End=True), "Skip": {"Type": "Pass", "End": True}}}
    definition = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemProcessor": inner, "End": True,
                                                         "Catch": catch("Failed")}, "Failed": {"Type": "Fail"}}}
    assert asl040(definition) == []
    parallel = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "Branches": [inner], "End": True,
                                                       "Catch": catch("Failed")}, "Failed": {"Type": "Fail"}}}
    assert [p for p, _ in asl040(parallel)] == ["States.Both.Branches[0].States.Item.Catch[0].Next"]
