"""The central notification plane: member stacks forward, the central stack says where it failed.

Composite alarms cannot span accounts or Regions (their children must be in the composite's own
account and Region, aws-ml-facts-3 §1), so the org-wide view is built on EventBridge instead:

- **member side** (`forward_to_central`, added to every template of a spec with `organization:`):
  a rule on the default bus sends the state changes (ALARM, OK) of the alarms that page people in
  this account to the central event bus, and every readable job-failure rule gets the central bus
  as a second target. CloudWatch guarantees delivery of alarm state change events to EventBridge
  (§3). The role the rules use may only `events:PutEvents` on that one bus. Local recipients keep
  their own topic, so the member keeps working when the central account is unreachable.
- **central side** (`central_template`): the bus (its policy admits the member accounts or the
  organization), the topic with the central recipients, and one rule per component and severity
  whose readable message names the account, Region, solution, component and severity and links to
  the alarm in its own account's console; job failures get the member's own message with the
  account and Region in front.

Pure: both work on templates built from the same spec, so the central rules know exactly which
alarm names page, and for which component and severity.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

from troposphere import GetAtt, Output, Ref, Sub, Template
from troposphere.events import EventBus, InputTransformer, Rule, Target
from troposphere.iam import Policy, Role

from .. import naming
from ..spec.model import Notifications, Spec
from .notifications import add_alert_path_alarms, add_notifications
from .template import new_template

FORWARD_ROLE_ID = naming.CENTRAL_FORWARD_ROLE_ID
FORWARD_RULE_ID = naming.CENTRAL_FORWARD_RULE_ID
CENTRAL_TARGET_ID = naming.CENTRAL_BUS_TARGET_ID
CENTRAL_BUS_ID = naming.CENTRAL_BUS_ID
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
HISTORY_TOPIC = {"Ref": naming.HISTORY_TOPIC_ID}
# Beyond this many component x severity groups, the central bus gets one rule per severity (a bus
# holds 300 rules by default; the message then names the alarm, whose name holds the component).
MAX_GROUP_RULES = 200
_TOKEN = re.compile(r"\$\{[^}]*\}")
ALARM_PATHS = {"account": "$.account", "region": "$.region", "alarm": "$.detail.alarmName",
               "state": "$.detail.state.value", "reason": "$.detail.state.reason", "time": "$.time"}


def central_bus_arn(spec: Spec) -> Sub:
    org = spec.organization
    return Sub(f"arn:${{AWS::Partition}}:events:{org.central_region}:{org.central_account}:event-bus/"
               f"{naming.central_bus_name(spec.solution)}")


# --- member side -------------------------------------------------------------------------------

def forward_to_central(spec: Spec, root: Any, nested: dict[str, Any], owners: dict[str, str]) -> None:
    """Add the forwarding rule and role to `root`, and the central bus as a target of every readable
    job-failure rule mlmon made (in `root` and each nested template, each with its own role).
    `owners` maps mlmon's logical IDs to their components; the user's own resources of a merged
    output are never touched."""
    bus = central_bus_arn(spec)
    user = _user_ids(spec)
    names = [name for _, name, _, _ in paging_alarms(root, nested, owners, user)]
    forwarded = _add_bus_targets(root, user, bus)
    if names or forwarded:
        _add(root, _forward_role(bus, spec.solution))
    if names:
        pattern = {"source": ["aws.cloudwatch"], "detail-type": [ALARM_STATE_CHANGE],
                   "detail": {"alarmName": _name_matchers(names), "state": {"value": ["ALARM", "OK"]}}}
        # a merged output leaves rule names to CloudFormation (one template, many stacks: issue 19)
        named = {} if user else {"Name": naming.rule_name(spec.solution, "to-central")}
        _add(root, Rule(
            FORWARD_RULE_ID, **named,
            Description=f"{spec.solution}: state changes of the alarms that page people -> the central account "
                        f"{spec.organization.central_account} ({spec.organization.central_region})"[:512],
            EventPattern=pattern, State="ENABLED",
            Targets=[Target(Id=CENTRAL_TARGET_ID, Arn=bus, RoleArn=GetAtt(FORWARD_ROLE_ID, "Arn"))]))
    for template in nested.values():
        if _add_bus_targets(template, frozenset(), bus):
            _add(template, _forward_role(bus, spec.solution))
    output = Output(naming.CENTRAL_BUS_OUTPUT, Description="Where this stack forwards alarms and job failures", Value=bus)
    if hasattr(root, "data"):  # a merged output (plain data)
        root.data.setdefault("Outputs", {})[output.title] = output.to_dict()
    else:
        root.add_output(output)


def _user_ids(spec: Spec) -> frozenset[str]:
    """Logical IDs of the user's own resources (merged output), which mlmon never changes."""
    app = getattr(spec.cfn, "app", None)
    return frozenset(app.resources) if app is not None else frozenset()


def _forward_role(bus: Sub, solution: str) -> Role:
    """Unnamed (one per stack, so two Regions of one account never collide), EventBridge of this account only."""
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}}}]}
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}]}
    return Role(FORWARD_ROLE_ID, Description=f"{solution}: EventBridge may only put events on the central event bus",
                AssumeRolePolicyDocument=trust, Policies=[Policy(PolicyName="put-central-events", PolicyDocument=policy)])


def _add_bus_targets(template: Any, user: frozenset[str], bus: Sub) -> int:
    """The central bus as a second target of each readable rule (one with an InputTransformer to a topic)."""
    count = 0
    for logical, resource in _resources(template).items():
        if logical in user:
            continue
        if _type(resource) != "AWS::Events::Rule" or logical == FORWARD_RULE_ID:
            continue
        targets = _props(resource).get("Targets") or []
        if not any(_get(t, "InputTransformer") is not None for t in targets) or len(targets) >= 5:
            continue
        target = Target(Id=CENTRAL_TARGET_ID, Arn=bus, RoleArn=GetAtt(FORWARD_ROLE_ID, "Arn"))
        targets.append(target if not isinstance(resource, dict) else target.to_dict())
        count += 1
    return count


def paging_alarms(root: Any, nested: dict[str, Any], owners: dict[str, str],
                  user: frozenset[str] = frozenset()) -> list[tuple[str, Any, str, str]]:
    """(logical ID, AlarmName, component, severity) of every alarm and composite mlmon made whose
    actions page people (a route topic, not the alarm-history topic), in template order."""
    found = []
    for template in [root, *nested.values()]:
        for logical, resource in _resources(template).items():
            if logical in user:
                continue
            if _type(resource) not in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
                continue
            props = _props(resource)
            actions = [_plain(a) for a in props.get("AlarmActions") or []]
            if not actions or all(a == HISTORY_TOPIC for a in actions):
                continue
            name = _plain(props.get("AlarmName"))
            # every alarm mlmon makes carries its component and severity as tags (issue 23)
            component = _tag(props, "component") or owners.get(logical) or "solution"
            found.append((logical, name, component, _tag(props, "severity") or "critical"))
    return found


# --- central side ------------------------------------------------------------------------------

def central_template(spec: Spec, member_root: Any, member_nested: dict[str, Any], owners: dict[str, str]) -> Template:
    """The central account's stack: bus, bus policy, topic with the central recipients, readable rules."""
    org = spec.organization
    route = org.notifications
    central = replace(spec, notifications=Notifications(
        emails=route.emails, https_endpoints=route.https_endpoints, lambda_arns=route.lambda_arns, slack=route.slack,
        topic_arn=route.topic_arn, ok_notifications=True), components=())
    t = new_template()
    topics = add_notifications(t, central)
    add_alert_path_alarms(t, central, topics)
    bus_name = naming.central_bus_name(spec.solution)
    t.add_resource(EventBus(CENTRAL_BUS_ID, Name=bus_name, Policy=_bus_policy(spec, bus_name)))
    topic = topics["critical"]
    groups: dict[tuple[str, str], list[Any]] = {}
    for _, name, component, severity in paging_alarms(member_root, member_nested, owners, _user_ids(spec)):
        groups.setdefault((component, severity), []).append(name)
    if len(groups) > MAX_GROUP_RULES:
        by_severity: dict[tuple[str, str], list[Any]] = {}
        for (_, severity), names in groups.items():
            by_severity.setdefault(("any component", severity), []).extend(names)
        groups = by_severity
    for (component, severity), names in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for state in ("ALARM", "OK"):
            detail: dict[str, Any] = {"alarmName": _name_matchers(names), "state": {"value": [state]}}
            if state == "OK":  # the all-clear of an incident, not an alarm settling after deploy
                detail["previousState"] = {"value": ["ALARM"]}
            logical = naming.logical_id("Central", component, severity, "Resolved" if state == "OK" else "Alarm", "Rule")
            t.add_resource(Rule(
                logical, Name=naming.rule_name(spec.solution, "central", component, severity, state.lower()),
                Description=f"{spec.solution} {component} ({severity}): {state} in any member account -> central topic"[:512],
                EventBusName=Ref(CENTRAL_BUS_ID), State="ENABLED",
                EventPattern={"source": ["aws.cloudwatch"], "detail-type": [ALARM_STATE_CHANGE], "detail": detail},
                Targets=[Target(Id="CentralTopic", Arn=topic, InputTransformer=InputTransformer(
                    InputPathsMap=ALARM_PATHS, InputTemplate=alarm_message(spec.solution, component, severity, state)))]))
    for logical, rule in _readable_rules(member_root, member_nested, _user_ids(spec)):
        t.add_resource(_central_copy(logical, rule, spec.solution, topic))
    t.add_output(Output(naming.CENTRAL_BUS_OUTPUT, Description="Member stacks forward here", Value=GetAtt(CENTRAL_BUS_ID, "Arn")))
    t.set_description(f"mlmon central notifications of {spec.solution}: alarms and job failures of every member account "
                      f"and Region, with the account and Region named")
    return t


def alarm_message(solution: str, component: str, severity: str, state: str) -> str:
    """The readable central message (EventBridge input template, <placeholders> from ALARM_PATHS): plain
    text with real line breaks, like every readable rule message (issue 23); the console link is not the
    last line, so a receiver that trims the text still gets it whole."""
    head = (f"{solution}: {severity.upper()} {component}: <alarm> is in ALARM" if state == "ALARM"
            else f"{solution}: RESOLVED {component}: <alarm> is OK again")
    lines = [head, "Account: <account>", "Region: <region>", f"Solution: {solution}", f"Component: {component}",
             f"Severity: {severity}", "Reason: <reason>",
             "Alarm: https://<region>.console.aws.amazon.com/cloudwatch/home?region=<region>#alarmsV2:alarm/<alarm>",
             "Time: <time>"]
    return "\n".join(lines)


def _bus_policy(spec: Spec, bus_name: str) -> dict[str, Any]:
    """Only the member accounts (or the organization) may put events on the bus."""
    org = spec.organization
    resource = Sub(f"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:event-bus/{bus_name}")
    statements = []
    if org.member_accounts:
        statements.append({"Sid": "MemberAccountsPut", "Effect": "Allow", "Action": "events:PutEvents", "Resource": resource,
                           "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in org.member_accounts]}})
    if org.organization_id:
        statements.append({"Sid": "OrganizationPut", "Effect": "Allow", "Action": "events:PutEvents", "Resource": resource,
                           "Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.organization_id}}})
    return {"Version": "2012-10-17", "Statement": statements}


def _readable_rules(root: Any, nested: dict[str, Any], user: frozenset[str]) -> list[tuple[str, dict[str, Any]]]:
    """The member's job-failure rules that forward to the central bus (after `forward_to_central`)."""
    found = []
    for template in [root, *nested.values()]:
        for logical, resource in _resources(template).items():
            if logical in user:
                continue
            if _type(resource) != "AWS::Events::Rule" or logical == FORWARD_RULE_ID:
                continue
            props = _plain(_props(resource))
            if any(t.get("Id") == CENTRAL_TARGET_ID for t in props.get("Targets", [])):
                found.append((logical, props))
    return found


def _central_copy(logical: str, member: dict[str, Any], solution: str, topic: Any) -> Rule:
    """The member's job-failure rule on the central bus: the same pattern (the member's own account,
    Region and parameter values become wildcards) and message, with the account and Region in front."""
    target = next(t for t in member["Targets"] if t.get("InputTransformer"))
    transformer = copy.deepcopy(target["InputTransformer"])
    paths = dict(transformer["InputPathsMap"])
    paths.update(mlmonaccount="$.account", mlmonregion="$.region")
    template = transformer["InputTemplate"]
    prefix = "Account <mlmonaccount>, Region <mlmonregion>: "
    template = template[0] + prefix + template[1:] if template.startswith('"') else prefix + template
    name = member.get("Name")
    return Rule(naming.central_rule_id(logical), Name=naming.rule_name(solution, "central", _plain(name) if isinstance(name, str) else logical),
                Description=f"Central copy of {logical}: its job failures in any member account"[:512],
                EventBusName=Ref(CENTRAL_BUS_ID), State="ENABLED", EventPattern=_wildcards(member["EventPattern"]),
                Targets=[Target(Id="CentralTopic", Arn=topic, InputTransformer=InputTransformer(
                    InputPathsMap=paths, InputTemplate=template))])


def _wildcards(value: Any) -> Any:
    """A member pattern for the central bus: a value the member resolves itself (`Fn::Sub` with its
    account, Region or a parameter; `Ref`) becomes an EventBridge wildcard on the rest of the text."""
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return {"wildcard": _TOKEN.sub("*", text)}
        if set(value) & {"Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::Join", "Fn::Select"}:
            return {"wildcard": "*"}
        return {k: _wildcards(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wildcards(v) for v in value]
    return value


def _name_matchers(names: list[Any]) -> list[Any]:
    """Alarm names as pattern values: literal names as they are, names built with `Fn::Sub` (a stack
    name or parameter in them) as wildcards, on the member and the central side alike."""
    out: list[Any] = []
    for name in names:
        value = _wildcards(name) if isinstance(name, dict) else name
        if value not in out:
            out.append(value)
    return out


# --- troposphere or plain dict, alike ----------------------------------------------------------

def _resources(template: Any) -> dict[str, Any]:
    return template.resources if hasattr(template, "resources") else template.get("Resources", {})


def _add(template: Any, resource: Any) -> None:
    if hasattr(template, "add_resource"):
        template.add_resource(resource)
    else:
        _resources(template)[resource.title] = resource.to_dict()


def _type(resource: Any) -> str:
    return resource.get("Type", "") if isinstance(resource, dict) else getattr(resource, "resource_type", "")


def _props(resource: Any) -> dict[str, Any]:
    return resource.setdefault("Properties", {}) if isinstance(resource, dict) else resource.properties


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else getattr(value, "properties", {}).get(key)


def _tag(props: dict[str, Any], key: str) -> str:
    for tag in props.get("Tags") or []:
        tag = _plain(tag)
        if isinstance(tag, dict) and tag.get("Key") == key and isinstance(tag.get("Value"), str):
            return tag["Value"]
    return ""


def _plain(value: Any) -> Any:
    """troposphere objects (and lists of them) as plain data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
