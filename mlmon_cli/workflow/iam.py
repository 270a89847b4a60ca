"""The state machine's role: exactly what each step touches, by ARN; no wildcard actions.

Statements come from the step types (steps.py) plus sns:Publish for the notify-and-fail fallback.
The topic mlmon creates is encrypted with its own KMS key (core/notifications.py), so publishing
also needs kms:GenerateDataKey*/kms:Decrypt on that key. The key is named by its alias
(`kms:ResourceAliases`), not `GetAtt AlertsKey.Arn`: when a large solution is split into nested
stacks (core/split.py) the role lands in a nested stack, where only the topic is passed in. An
existing topic's key (if any) must allow the role itself. Equal actions and conditions are merged.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import AccountId, Sub
from troposphere.iam import Policy, Role

from ..naming import key_alias
from .model import PARALLEL, Step, walk
from .steps import ALERT_TOPIC, STEP_TYPES, Statement, arn

KMS_PUBLISH = ("kms:GenerateDataKey*", "kms:Decrypt")
LOG_DELIVERY = ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")
XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets")


def statements(steps: tuple[Step, ...]) -> list[Statement]:
    """Every statement the steps and the fallback need, merged by (actions, condition)."""
    found = [Statement(("sns:Publish",), (ALERT_TOPIC,))]
    for step in walk(steps):
        if step.type != PARALLEL:
            found += STEP_TYPES[step.type].statements(step.params)
    merged: dict[str, Statement] = {}
    for s in found:
        key = json.dumps([s.actions, s.condition], sort_keys=True)
        if key in merged:
            old = merged[key]
            s = Statement(old.actions, old.resources + tuple(r for r in s.resources if r not in old.resources), old.condition)
        merged[key] = s
    return list(merged.values())


def _resource(value: str, topic: Any) -> Any:
    if value == ALERT_TOPIC:
        return topic
    return Sub(value) if "${" in value else value


def policy_document(steps: tuple[Step, ...], topic: Any, solution: str) -> dict[str, Any]:
    out = []
    for s in statements(steps):
        entry: dict[str, Any] = {"Effect": "Allow", "Action": list(s.actions), "Resource": [_resource(r, topic) for r in s.resources]}
        if s.condition:
            entry["Condition"] = s.condition
        out.append(entry)
    # Execution logging and X-Ray tracing (CT.STEPFUNCTIONS.PR.1/PR.2): log delivery and tracing
    # actions support no resource-level permissions (Step Functions DG, "IAM policies for logging").
    out.append({"Effect": "Allow", "Action": list(LOG_DELIVERY), "Resource": "*"})
    out.append({"Effect": "Allow", "Action": list(XRAY), "Resource": "*"})
    if not isinstance(topic, str):  # the topic mlmon creates, encrypted with AlertsKey
        out.append({"Effect": "Allow", "Action": list(KMS_PUBLISH),
                    "Resource": [Sub(arn("kms", "key/*"))],
                    "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": key_alias(solution)}}})
    return {"Version": "2012-10-17", "Statement": out}


def role(logical_id: str, steps: tuple[Step, ...], topic: Any, solution: str, description: str) -> Role:
    """An unnamed role (no CAPABILITY_NAMED_IAM needed) only Step Functions of this account may assume."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": AccountId}},
        }],
    }
    return Role(logical_id, Description=description[:1000], AssumeRolePolicyDocument=trust,
                Policies=[Policy(PolicyName="workflow-steps", PolicyDocument=policy_document(steps, topic, solution))])
