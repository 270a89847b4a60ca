"""Limits AWS enforces at deploy or run time that cfn-lint 1.51 does not check (MLM rules)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..limits import INLINE_TEMPLATE_BYTES, MAX_ALARM_ACTIONS, MAX_COMPOSITE_CHILDREN, MAX_RULE_TARGETS
from ..naming import HISTORY_TOPIC_ID
from .base import Hit, Rule, TemplateContext, register
from .state_machines import state_machines

ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def null_paths(value: Any, path: str = "") -> list[str]:
    """JSON-pointer paths of null values: CloudFormation rejects "'null' values are not allowed in templates"."""
    if value is None:
        return [path or "/"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in null_paths(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in null_paths(v, f"{path}/{i}")]
    return []


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    props = resource.get("Properties")
    return props if isinstance(props, dict) else {}


def _inline_size(ctx: TemplateContext) -> Iterator[Hit]:
    if ctx.size is not None and ctx.size > INLINE_TEMPLATE_BYTES:
        yield Hit((), f"template is {ctx.size} bytes, over the {INLINE_TEMPLATE_BYTES}-byte inline limit: deploy with "
                      "'aws cloudformation deploy --s3-bucket BUCKET'")


def _rule_targets(ctx: TemplateContext) -> Iterator[Hit]:
    for name, resource in ctx.resources():
        targets = _props(resource).get("Targets")
        if resource.get("Type") == "AWS::Events::Rule" and isinstance(targets, list) and len(targets) > MAX_RULE_TARGETS:
            yield Hit(("Resources", name), f"{name}: {len(targets)} targets; EventBridge allows {MAX_RULE_TARGETS} per rule")


def _alarm_actions(ctx: TemplateContext) -> Iterator[Hit]:
    for name, resource in ctx.resources():
        if resource.get("Type") not in ALARM_TYPES:
            continue
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            actions = _props(resource).get(key)
            if isinstance(actions, list) and len(actions) > MAX_ALARM_ACTIONS:
                yield Hit(("Resources", name), f"{name}: {len(actions)} {key}; CloudWatch allows {MAX_ALARM_ACTIONS}")


def _sparse_insufficient_data(ctx: TemplateContext) -> Iterator[Hit]:
    for name, resource in ctx.resources():
        props = _props(resource)
        quiet = props.get("InsufficientDataActions") == [{"Ref": HISTORY_TOPIC_ID}]  # mlmon's topic without subscribers
        if resource.get("Type") == "AWS::CloudWatch::Alarm" and props.get("InsufficientDataActions") and not quiet \
                and props.get("TreatMissingData") == "notBreaching":
            yield Hit(("Resources", name), f"{name}: InsufficientDataActions on a sparse metric (notBreaching) fire on quiet periods")


def _composite_children(ctx: TemplateContext) -> Iterator[Hit]:
    for name, resource in ctx.resources():
        if resource.get("Type") != "AWS::CloudWatch::CompositeAlarm":
            continue
        rule = _props(resource).get("AlarmRule")
        if isinstance(rule, dict) and "Fn::Sub" in rule:
            rule = rule["Fn::Sub"] if isinstance(rule["Fn::Sub"], str) else rule["Fn::Sub"][0]
        if isinstance(rule, str):
            children = len(re.findall(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(", rule))
            if children > MAX_COMPOSITE_CHILDREN:
                yield Hit(("Resources", name), f"{name}: rule names {children} alarms; a composite allows {MAX_COMPOSITE_CHILDREN}")


def _composite_insufficient_data(ctx: TemplateContext) -> Iterator[Hit]:
    for name, resource in ctx.resources():
        if resource.get("Type") == "AWS::CloudWatch::CompositeAlarm" and _props(resource).get("InsufficientDataActions"):
            yield Hit(("Resources", name),
                      f"{name}: composites are INSUFFICIENT_DATA only right after creation, so these actions never run")


def _nulls(ctx: TemplateContext) -> Iterator[Hit]:
    for name, resource in ctx.resources():
        for path in null_paths(resource, f"/Resources/{name}")[:5]:
            yield Hit(("Resources", name), f"{path} is null; CloudFormation rejects null values in templates")


def _unreadable_definitions(ctx: TemplateContext) -> Iterator[Hit]:
    for machine in state_machines(ctx):
        if machine.problem:
            yield Hit(machine.key_path, f"{machine.resource}: {machine.style}: {machine.problem}; its Retry/Catch cannot be checked")


CFN_QUOTAS = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
CW_QUOTAS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html"
COMPOSITES = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html"

register(Rule("MLM001", "informational", "Template over the inline size limit",
              f"a template over {INLINE_TEMPLATE_BYTES:,} bytes cannot be passed inline; deploy it through S3",
              CFN_QUOTAS, _inline_size, ("size",)))
register(Rule("MLM002", "error", "Too many targets on an EventBridge rule",
              f"EventBridge allows {MAX_RULE_TARGETS} targets per rule; the stack fails to create",
              "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html", _rule_targets, ("events",)))
register(Rule("MLM003", "error", "Too many actions on an alarm",
              f"CloudWatch allows {MAX_ALARM_ACTIONS} actions per state (AlarmActions, OKActions, InsufficientDataActions)",
              CW_QUOTAS, _alarm_actions, ("alarms",)))
register(Rule("MLM004", "warning", "InsufficientDataActions on a sparse metric",
              "with TreatMissingData notBreaching, quiet periods are INSUFFICIENT_DATA and these actions page for nothing",
              "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data",
              _sparse_insufficient_data, ("alarms",)))
register(Rule("MLM005", "error", "Composite alarm over the children limit",
              f"a composite alarm rule may name at most {MAX_COMPOSITE_CHILDREN} alarms", COMPOSITES, _composite_children,
              ("alarms", "composites")))
register(Rule("MLM006", "warning", "InsufficientDataActions on a composite alarm",
              "composites are INSUFFICIENT_DATA only right after creation, so these actions never run", COMPOSITES,
              _composite_insufficient_data, ("alarms", "composites")))
register(Rule("MLM007", "error", "Null value in a resource",
              "CloudFormation rejects templates with null values ('null' values are not allowed in templates)",
              "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html", _nulls, ("template",)))
register(Rule("MLM008", "warning", "State machine definition cannot be read",
              "a DefinitionString that is not JSON (after Fn::Sub/Fn::Join), or a DefinitionUri file that is missing or "
              "unparsable: its error handling goes unchecked",
              "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html",
              _unreadable_definitions, ("stepfunctions",)))
