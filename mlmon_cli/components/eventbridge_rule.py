"""The app's own Amazon EventBridge rules: invocations of their targets that failed for good.

Metrics: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html (namespace
AWS/Events, unit Count, Sum): `FailedInvocations` "invocations that failed permanently" (after
retries), "EventBridge only sends this metric to CloudWatch if it isn't zero", so missing data is
not breaching; `InvocationsFailedToBeSentToDlq` ("could not be moved to a dead-letter queue") and
`InvocationsSentToDlq` for targets with a dead-letter queue (the latter from aws-cdk-lib's
events-canned-metrics, generated from AWS's metric catalog: `invocationsSentToDlqSum`, RuleName;
[unverified] against eb-monitoring's table: `aws cloudwatch list-metrics --namespace AWS/Events
--metric-name InvocationsSentToDlq` after an event reaches a DLQ). "Metrics that specify only the RuleName dimension refer to the default event
bus. Metrics that specify both the EventBusName and RuleName dimensions refer to a custom event
bus." Shared reference: aws-monitoring-facts.md §1.10. Name grammars (EventBridge API `Rule`):
rule name 1-64 `[\\.\\-_A-Za-z0-9]+`, event bus name 1-256 `[/\\.\\-_A-Za-z0-9]+`.

Names from a template: on the default bus `Ref` (the rule name, whether `Name` is given or not);
on a custom bus the `Name` property when given, else the name is cut from the rule's ARN (`arn:...:rule/<bus>/<rule>`, the
last part), since what `Ref` returns there is not only the name. [unverified] the `bus|rule` form
of `Ref` on a custom bus (not relied on): `aws cloudformation describe-stack-resources` shows it.
A rule's bus comes from `EventBusName` (a name, !Ref / !GetAtt .Name of an AWS::Events::EventBus,
or its ARN, cut after `event-bus/`).

Not watched: DISABLED rules (nothing is invoked, nothing fails); rules mlmon itself created (they
carry mlmon's `solution`/`kind` tags: mlmon already alarms on their delivery); SAM's implicit rules
(a function's `Schedule` / `CloudWatchEvent` / `EventBridgeRule` events) exist only after the
transform, as `<Function><Event>`: `--from-template` cannot bind them, `--from-stack` sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.kind_facts import Bound, TemplateResource, ref_target
from ..spec.model import doc
from . import component
from ._api_gateway import literal
from .base import AlarmDef, AlarmDocs, AlarmPolicy, AlarmTarget, Binding, Component, Metric, NameOption

NAMESPACE = "AWS/Events"
RULE, BUS = "AWS::Events::Rule", "AWS::Events::EventBus"
MLMON_TAGS = {"solution", "kind", "component"}  # what core/incident.py tags every rule mlmon creates with
DLQ_ALARMS = ("sent_to_dlq", "dlq_delivery_failed")


@dataclass(frozen=True)
class EventBridgeRuleOptions:
    rule_name: str = field(metadata=doc("The rule's name (the RuleName dimension)."))
    event_bus_name: str | None = field(default=None, metadata=doc(
        "The custom event bus the rule is on (the EventBusName dimension); leave out for the default bus."))
    dead_letter_queue: bool = field(default=False, metadata=doc(
        "A target has a dead-letter queue: also alarm on events sent to it and on events it could not take."))


def _bus(value: Any, resource: TemplateResource) -> tuple[str | None, dict[str, Any]] | str:
    """(the bus name as Fn::Sub text or None for the default bus, Fn::Sub variables), or why unknown."""
    if value is None or value == "default":
        return None, {}
    target = ref_target(value)
    bus = resource.resource(target) if target else None
    if bus is not None and bus.type == BUS and isinstance(value, dict) and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        attribute = att[1] if isinstance(att, list) else str(att).split(".", 1)[1]
        if attribute == "Arn":  # arn:aws:events:<region>:<account>:event-bus/<name>
            variable = f"MlmonBus{resource.logical}"
            return f"${{{variable}}}", {variable: {"Fn::Select": [1, {"Fn::Split": ["event-bus/", {"Fn::GetAtt": [target, "Arn"]}]}]}}
    text = literal(value)
    if text is None:
        return "its EventBusName is not a literal, !Ref, !Sub or !GetAtt: give rule_name and event_bus_name by hand"
    if text.startswith("arn:"):
        return text.rsplit("event-bus/", 1)[-1], {}
    return text, {}


def rule_names(resource: TemplateResource) -> Bound | str:
    """rule_name (and event_bus_name on a custom bus) as Fn::Sub text, from the Name or the rule's ARN."""
    bus = _bus(resource.properties.get("EventBusName"), resource)
    if isinstance(bus, str):
        return bus
    bus_name, variables = bus
    logical = resource.logical
    name: str | None
    if bus_name is None:
        name = f"${{{logical}}}"  # on the default bus Ref returns the rule name (named or not)
    elif "Name" in resource.properties:
        name = literal(resource.properties["Name"])
        if name is None:
            return "its Name is not a literal, !Ref, !Sub or !GetAtt: give rule_name by hand"
    else:  # arn:aws:events:<region>:<account>:rule/<bus>/<rule>: the last part
        variable = f"MlmonName{logical}"
        variables = {**variables, variable: {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [logical, "Arn"]}]}]}}
        name = f"${{{variable}}}"
    options = {"rule_name": name} | ({"event_bus_name": bus_name} if bus_name else {})
    return Bound(options, variables)


@component("eventbridge_rule")
class EventBridgeRule(Component[EventBridgeRuleOptions]):
    Options = EventBridgeRuleOptions
    title = "Amazon EventBridge rule (the app's own)"
    docs_url = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html"
    dimension_names = ("EventBusName", "RuleName")
    names: ClassVar[Mapping[str, NameOption]] = {
        "rule_name": NameOption(r"[.\-_A-Za-z0-9]{1,64}", "an EventBridge rule name: at most 64 letters, digits, '.', '-' "
                                "and '_'", "the rule name (the part after ':rule/', after the bus name on a custom bus)"),
        "event_bus_name": NameOption(r"[/.\-_A-Za-z0-9]{1,256}", "an event bus name: at most 256 letters, digits, '/', '.', "
                                     "'-' and '_'", "the event bus name (the part after ':event-bus/')"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {  # a stack's physical ID is the rule name (default bus)
        RULE: Binding({"rule_name": "Ref (default bus); Name or the ARN's last part (custom bus)",
                       "event_bus_name": "EventBusName"}, physical="rule_name", resolve=rule_names),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::Events::EventBus": "an event bus: the rules on it are watched",
        "AWS::Events::Archive": "an archive of events: nothing is invoked",
    }
    example = "- kind: eventbridge_rule\n  name: nightly-retrain\n  rule_name: nightly-retrain\n"
    alarms = (
        AlarmDef(
            "failed_invocations", "FailedInvocations",
            Metric(NAMESPACE, "FailedInvocations", "Sum"),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="the rule matched but could not deliver to a target after all retries (a missing permission, a "
                    "deleted target, a KMS key policy, a throttled target): the work it should start did not start",
                first_step="check the targets' resource policies and roles, and turn on a dead-letter queue to see the "
                           "error code (ERROR_CODE / ERROR_MESSAGE attributes of the DLQ message)",
                caveat="EventBridge sends FailedInvocations only when it is not zero (missing data is not breaching).")),
        AlarmDef(
            "sent_to_dlq", "InvocationsSentToDlq",
            Metric(NAMESPACE, "InvocationsSentToDlq", "Sum"),
            AlarmPolicy(">=", 1, period=300, severity="warning"),
            AlarmDocs(
                why="events failed delivery and were parked in the target's dead-letter queue: the work did not run "
                    "and the events wait for a redrive",
                first_step="read a message of the dead-letter queue (its ERROR_CODE attribute says why), fix the target, "
                           "then send the events again")),
        AlarmDef(
            "dlq_delivery_failed", "InvocationsFailedToBeSentToDlq",
            Metric(NAMESPACE, "InvocationsFailedToBeSentToDlq", "Sum"),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="events failed delivery and could not even be written to the dead-letter queue (its policy, "
                    "encryption key or size limit): they are lost",
                first_step="check the dead-letter queue's resource policy allows events.amazonaws.com and that it exists")),
    )

    def watched(self, o: EventBridgeRuleOptions) -> str:
        return f"EventBridge rule {o.rule_name}" + (f" on bus {o.event_bus_name}" if o.event_bus_name else "")

    def targets(self, o: EventBridgeRuleOptions) -> list[AlarmTarget]:
        if o.event_bus_name and o.event_bus_name != "default":
            return [AlarmTarget({"EventBusName": o.event_bus_name, "RuleName": o.rule_name})]
        return [AlarmTarget({"RuleName": o.rule_name})]

    def applies(self, o: EventBridgeRuleOptions, alarm: AlarmDef) -> bool:
        return alarm.key not in DLQ_ALARMS or o.dead_letter_queue

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        tags = resource.properties.get("Tags")
        keys = {t.get("Key") for t in tags if isinstance(t, dict)} if isinstance(tags, list) else set()
        if keys >= MLMON_TAGS:
            return "a rule mlmon created (its solution/kind/component tags): mlmon already alarms on its delivery"
        if resource.properties.get("State") == "DISABLED":
            return "DISABLED: it invokes nothing, so nothing can fail (run init again once it is enabled)"
        read = rule_names(resource)
        return read if isinstance(read, str) else None

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        targets = resource.properties.get("Targets")
        with_dlq = [t.get("Id") for t in targets if isinstance(t, dict) and isinstance(t.get("DeadLetterConfig"), dict)] \
            if isinstance(targets, list) else []
        if with_dlq:
            return [f"    dead_letter_queue: true   # target {with_dlq[0]} has a DeadLetterConfig: alarm on events sent to "
                    "it and on events it could not take"]
        return []
