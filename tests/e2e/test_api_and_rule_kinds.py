"""API Gateway REST and HTTP APIs and the app's own EventBridge rules in LocalStack: the deployed
alarms go to ALARM on datapoints put with the service's namespace and dimensions (LocalStack
accepts `PutMetricData` into `AWS/*` namespaces; AWS does not, and publishes them itself), and stay
OK on the same datapoints under another dimension set (a REST API's other stage, a rule of the
same name on the default bus): the dimension sets the alarms use are the ones a datapoint must carry.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.helpers import Account, evaluate_now, wait_for

ACCOUNT = "270000000019"
SPEC = """\
solution: apis
notifications: {emails: [oncall@example.com]}
components:
  - kind: api_gateway_rest
    name: rest
    api_name: scoring-api
    stage: prod
  - kind: api_gateway_http
    name: http
    api_id: a1b2c3d4e5
  - kind: eventbridge_rule
    name: on-bus
    rule_name: model-approved
    event_bus_name: ml-events
    dead_letter_queue: true
"""
# alarm suffix -> (namespace, metric, the dimensions a datapoint carries, a value that breaches)
CASES = {
    "rest-ServerErrorRate": ("AWS/ApiGateway", "5XXError", {"ApiName": "scoring-api", "Stage": "prod"}, 1.0),
    "http-ServerErrorRate": ("AWS/ApiGateway", "5xx", {"ApiId": "a1b2c3d4e5"}, 1.0),
    "on-bus-FailedInvocations": ("AWS/Events", "FailedInvocations", {"EventBusName": "ml-events", "RuleName": "model-approved"}, 2),
    "on-bus-InvocationsFailedToBeSentToDlq": ("AWS/Events", "InvocationsFailedToBeSentToDlq",
                                              {"EventBusName": "ml-events", "RuleName": "model-approved"}, 1),
}
# the same metric under a dimension set the alarm does not watch: it must stay OK
OTHER = {
    "rest-ServerErrorRate": {"ApiName": "scoring-api", "Stage": "dev"},
    "on-bus-FailedInvocations": {"RuleName": "model-approved"},
}


@pytest.fixture(scope="module")
def account(localstack) -> Account:
    return Account(localstack, ACCOUNT)


def _put(cw, namespace: str, metric: str, dims: dict[str, str], value: float, count: int = 3) -> None:
    now = time.time()
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()], "Value": value,
         "Timestamp": now - 1 - i * 60} for i in range(count)])


def _evaluated(cw, name: str) -> str | None:
    """The alarm's state once LocalStack evaluated it after the last put (None before)."""
    (alarm,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return None if alarm["StateReason"].startswith("Unchecked") else alarm["StateValue"]


def test_alarms_fire_on_the_services_dimensions_only(account: Account, tmp_path: Path) -> None:
    (tmp_path / "apis.yaml").write_text(SPEC)
    result = account.mlmon(tmp_path, "deploy", str(tmp_path / "apis.yaml"), "--stack-name", "apis")
    assert result.exit_code == 0, result.stderr + result.stdout
    cw = account.client("cloudwatch")
    try:
        names = {suffix: f"apis-{suffix}" for suffix in CASES}
        alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=list(names.values()))["MetricAlarms"]}
        assert set(alarms) == set(names.values())
        for suffix, (namespace, metric, dims, _) in CASES.items():  # the deployed alarm watches exactly that series
            alarm = alarms[names[suffix]]
            assert (alarm["Namespace"], alarm["MetricName"]) == (namespace, metric)
            assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == dims
        for suffix, dims in OTHER.items():  # breaching data under another dimension set: evaluated, still OK
            namespace, metric, _, value = CASES[suffix]
            _put(cw, namespace, metric, dims, value)
            evaluate_now(cw, names[suffix])
            state = wait_for(lambda n=names[suffix]: _evaluated(cw, n), 30, f"LocalStack's evaluation of {names[suffix]}")
            assert state == "OK", (suffix, state)
        for suffix, (namespace, metric, dims, value) in CASES.items():
            _put(cw, namespace, metric, dims, value)
            evaluate_now(cw, names[suffix])
        states = {name: wait_for(lambda n=name: _evaluated(cw, n), 30, f"LocalStack's evaluation of {name}") for name in names.values()}
        assert states == {name: "ALARM" for name in names.values()}
    finally:
        account.mlmon(tmp_path, "delete", "--stack-name", "apis", "--yes")
