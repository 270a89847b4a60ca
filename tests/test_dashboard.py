"""The dashboard body is valid dashboard JSON and shows the solution's own resources."""

from __future__ import annotations

import pytest

import json
import re

import yaml

from benchmarks.synthetic import spec as synthetic_spec
from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import load_spec, parse_spec

from .conftest import ROOT
from .template_graph import resources_of

VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


def deployed_body(dashboard: dict) -> tuple[dict, list[str]]:
    """Substitute Fn::Sub variables as CloudFormation would; return the parsed body and the variables."""
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    variables = VARIABLE.findall(text)
    substituted = VARIABLE.sub(lambda m: f"arn:aws:x:{m.group(1)}", text).replace("${!", "${")
    return json.loads(substituted), variables


def test_dashboard_shows_every_component_and_its_alarms() -> None:
    template = build_template(load_spec(ROOT / "specs" / "churn-model.yaml")).template.to_dict()
    (dashboard,) = resources_of(template, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "churn"
    body, variables = deployed_body(dashboard)
    widgets = body["widgets"]
    assert len(widgets) <= 500
    # what notifies people: component composites and the alarms that notify themselves (not the alert path's)
    notifying = [name for name, r in {**resources_of(template, "AWS::CloudWatch::CompositeAlarm"),
                                      **resources_of(template, "AWS::CloudWatch::Alarm")}.items()
                 if r["Properties"]["AlarmActions"] != [{"Ref": "AlarmHistoryTopic"}] and not name.startswith("AlertPath")]
    alarm_widgets = [w for w in widgets if w["type"] == "alarm"]
    shown = {a for w in alarm_widgets for a in w["properties"]["alarms"]}
    assert shown == {f"arn:aws:x:{name}.Arn" for name in notifying}
    assert set(variables) <= set(template["Resources"]) | {f"{n}.Arn" for n in template["Resources"]} | {"AWS::Region", "AWS::Partition", "AWS::AccountId"}
    headers = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert headers[0] == "## preprocess: Lambda function churn-preprocess"
    metric_rows = [w["properties"]["metrics"][0] for w in widgets if w["type"] == "metric"]
    assert ["AWS/Lambda", "Errors", "FunctionName", "churn-preprocess"] in metric_rows
    assert ["AWS/SageMaker", "Invocation5XXErrors", "EndpointName", "churn-scoring", "VariantName", "AllTraffic"] in metric_rows
    assert ["Glue", "glue.driver.aggregate.numFailedTasks", "JobName", "churn-feature-engineering", "JobRunId", "ALL",
            "Type", "count"] in metric_rows
    sfn = [r for r in metric_rows if r[0] == "AWS/States"]
    assert sfn and sfn[0][3] == "arn:arn:aws:x:AWS::Partition:states:arn:aws:x:AWS::Region:arn:aws:x:AWS::AccountId:stateMachine:churn-weekly-retraining"
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "arn:aws:x:AWS::Region"


@pytest.mark.slow
def test_split_output_has_a_dashboard_per_stack_and_an_overview() -> None:
    data = synthetic_spec(300)
    data["notifications"]["notify_solution"] = True  # the overview shows the stack composites
    result = build_template(parse_spec(yaml.safe_dump(data), "s.yaml"), split=True)
    parent = resources_of(result.template.to_dict(), "AWS::CloudWatch::Dashboard")
    assert len(parent) == 1
    body, _ = deployed_body(next(iter(parent.values())))
    assert all(w["type"] in ("text", "alarm") for w in body["widgets"])
    for nested in result.nested.values():
        dashboards = resources_of(nested.to_dict(), "AWS::CloudWatch::Dashboard")
        assert 1 <= len(dashboards)
        for dashboard in dashboards.values():
            body, _ = deployed_body(dashboard)
            assert len(body["widgets"]) <= 500
