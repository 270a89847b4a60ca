"""spec -> troposphere Template: alarms per failure mode, state-change rules, composites, topic.

Pure and deterministic: components are visited in spec order, every name and logical ID is
derived from its own component and alarm only, and nothing reads files, clock or network.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from troposphere import GetAtt, Output, Ref, Template
from troposphere.cloudwatch import Alarm
from troposphere.events import Rule

from .. import naming
from ..components import REGISTRY
from ..components.base import (
    COMPARISONS,
    UNITS,
    AlarmDef,
    BuildEnv,
    Component,
)
from ..components.settings import AlarmSettings, resolve_settings
from ..errors import Problem
from ..limits import ALARM_DESCRIPTION_MAX, DESCRIPTION_MAX, INLINE_TEMPLATE_BYTES, MAX_RESOURCES, STANDARD_STATISTICS
from ..render import readable_template, render
from ..spec.model import SEVERITIES, AlarmOverride, ComponentSpec, Spec
from . import custom as custom_mod
from . import incident, metric_math, rollup
from . import logs as logs_mod
from . import split as split_mod
from .composites import AlarmRef, add_composite, composite_text
from .dashboard import MetricGraph, Section, add_dashboards
from .notifications import add_alert_path_alarms, add_notifications, failed_invocations
from .quiet import add_quiet_windows
from .template import new_template, quick
from .validate import claim_problems

_NO_OVERRIDE = AlarmOverride()
# Physical names that must be unique too, by the claim space they are checked in.
_NAME_PROPERTIES = {"AWS::CloudWatch::Alarm": ("AlarmName", "alarm"), "AWS::CloudWatch::CompositeAlarm": ("AlarmName", "alarm"),
                    "AWS::Events::Rule": ("Name", "rule")}


@dataclass
class BuildResult:
    """The template (the parent when split), nested templates by file stem, and counts the CLI reports."""

    template: Template
    nested: dict[str, Template] = field(default_factory=dict)
    alarms: int = 0
    composites: int = 0
    rules: int = 0
    owners: dict[str, str] = field(default_factory=dict)  # logical ID -> the component that created it (core/cost.py)
    problems: list[Problem] = field(default_factory=list)  # names taken twice: the pipeline refuses the spec
    files: dict[str, str] = field(default_factory=dict)  # file name -> template text, written by the pipeline
    severities: dict[str, str] = field(default_factory=dict)  # metric alarm logical ID -> severity (core/incident.py)
    topics: dict[str, Any] = field(default_factory=dict)  # severity -> topic ARN expression

    @property
    def needs_bucket(self) -> bool:
        """A deploy uploads the templates to S3: nested stacks, or a body over 51,200 bytes (TemplateBody)."""
        return bool(self.nested) or any(len(text.encode("utf-8")) > INLINE_TEMPLATE_BYTES for text in self.files.values())

    @property
    def resources(self) -> int:
        return sum(len(t.resources) for t in [self.template, *self.nested.values()])


@dataclass
class _Context:
    spec: Spec
    topics: dict[str, Any]  # severity -> topic ARN expression
    template: Template
    claims: list[tuple[str, str]] = field(default_factory=list)  # (space, name) this component takes, in order
    alarms: dict[str, rollup.Pending] = field(default_factory=dict)  # every metric alarm, to route after rollup

    @property
    def topic(self) -> Any:
        return self.topics["critical"]

    def claim(self, name: str, space: str = "logical ID") -> None:
        """Record a logical ID, or an alarm or rule name, this component takes; the validation phase
        (core/validate.py `claim_problems`) refuses one taken twice."""
        self.claims.append((space, name))

    def add(self, resource: Any) -> Any:
        """Add a resource unless its logical ID is already in this component's template (two
        variants whose names differ only in punctuation): the claims report it, the build goes on."""
        if resource.title in self.template.resources:
            return resource
        return self.template.add_resource(resource)


@dataclass
class _Part:
    """One component's resources, built into their own template so they can go to any stack."""

    comp: ComponentSpec
    template: Template
    composites: dict[str, list[AlarmRef]]  # severity -> what rolls up further (rollup.Heads)
    section: Section  # what the dashboard shows of it
    claims: list[tuple[str, str]]  # (space, name) it takes, for core/validate.py


def _reserved_names(t: Template, spec: Spec) -> dict[tuple[str, str], str]:
    """Every logical ID and physical name mlmon's own resources take, read from what was built (the
    topics, key, policies, alert-path alarms) plus the solution composites added last."""
    names = {}
    for logical, resource in t.resources.items():
        names[("logical ID", logical)] = "mlmon's own resources"
        prop, space = _NAME_PROPERTIES.get(resource.resource_type, ("", ""))
        if isinstance(resource.properties.get(prop), str):
            names[(space, resource.properties[prop])] = "mlmon's own resources"
    for label in ("", *(s.capitalize() for s in SEVERITIES)):
        names[("logical ID", naming.solution_composite_id(label))] = "the solution composites"
        names[("alarm", naming.solution_composite_name(spec.solution, label))] = "the solution composites"
    return names


def build_template(spec: Spec, split: bool | None = None, nested_ext: str = "yaml") -> BuildResult:
    """Build the monitoring template(s) for a validated spec.

    `split=None` splits into nested stacks only when one template would pass a CloudFormation
    limit; `False` never does (the pipeline then refuses what passes a limit); `True` always splits. Component resources are
    built once: in a nested template, `Ref: AlertsTopic` resolves to a parameter of that name.
    Physical names start with `naming.scoped_solution` (the environment or `name_suffix` added).
    """
    environment = spec.environment or ""
    spec = replace(spec, solution=naming.scoped_solution(spec.solution, spec.environment, spec.name_suffix),
                   environment=None, name_suffix=None)
    if spec.cfn is None:
        return _incident_path(_forward_to_central(spec, _build(spec, split, nested_ext)), spec, environment)
    from .cfn_merge import (  # CloudFormation values / merged output (spec `template:`)
        DictTemplate,
        finish,
    )

    result = _build(spec, False if spec.cfn.app is not None else split, nested_ext)
    _incident_path(result, spec, environment)  # before the merge: it tags mlmon's troposphere resources
    theirs = frozenset(spec.cfn.app.resources) if spec.cfn.app is not None else frozenset()
    result.template = DictTemplate(finish(result.template.to_dict(), spec.cfn, result.owners, spec.solution), theirs)
    return _forward_to_central(spec, result)


def _forward_to_central(spec: Spec, result: BuildResult) -> BuildResult:
    """A member of an `organization:` forwards its paging alarms and job failures (core/organization.py);
    the pipeline checks the limits on the result, these resources included."""
    if spec.organization is None:
        return result
    from .organization import forward_to_central

    before = sum(len(t.resources) for t in [result.template, *result.nested.values()])
    forward_to_central(spec, result.template, result.nested, result.owners)
    result.rules += 1 if sum(len(t.resources) for t in [result.template, *result.nested.values()]) > before else 0
    return result


def _incident_path(result: BuildResult, spec: Spec, environment: str) -> BuildResult:
    """Tags, tag propagation, the all-clear and low-sample percentiles on everything built (core/incident.py)."""
    if result.problems or not result.topics:  # a spec the pipeline refuses: nothing to finish
        return result
    incident.finish([result.template, *result.nested.values()], spec, environment, result.owners, result.severities, result.topics)
    return result


def _build(spec: Spec, split: bool | None, nested_ext: str) -> BuildResult:
    t = new_template()
    result = BuildResult(t)
    topics = add_notifications(t, spec)
    add_alert_path_alarms(t, spec, topics)
    pending: dict[str, rollup.Pending] = {}
    parts = _build_parts(spec, result, topics, pending)
    result.problems = claim_problems(_reserved_names(t, spec), [(p.comp, p.claims) for p in parts])
    if result.problems:
        return result  # the pipeline refuses the spec; nothing is assembled
    parts = [p for p in parts if p.composites]
    solution_wide = rollup.solution_composites(spec)
    needs_split = split if split is not None else _over_limits(t, parts)
    if not needs_split and solution_wide:
        rollup.single_children_notify(_heads(parts), pending)
    rollup.route(pending, topics, spec)  # every alarm's actions and description, once
    if needs_split:
        by_severity = split_mod.add_nested_stacks(
            result, spec, [(p.comp.name, p.template, p.composites, p.section) for p in parts], topics, nested_ext,
            stack_composites=solution_wide,
        )
        overview = [Section(f"{spec.solution}: nested stacks", refs, []) for refs in by_severity.values() if refs]
        if overview:
            add_dashboards(t, spec.solution, overview)
    else:
        for part in parts:
            for resource in part.template.resources.values():
                t.add_resource(resource)
        by_severity = _heads(parts)
        add_dashboards(t, spec.solution, [p.section for p in parts])
    if solution_wide:
        _add_solution_composites(t, spec, topics, by_severity, pending)
    add_quiet_windows(t, spec, pending, result)
    result.severities = {logical: p.severity for logical, p in pending.items()}
    result.topics = topics
    _count(result)
    t.set_description(_description(spec, result))
    return result


def _heads(parts: list[_Part]) -> dict[str, list[AlarmRef]]:
    return {sev: [r for p in parts for r in p.composites.get(sev, [])] for sev in SEVERITIES}


def _add_solution_composites(t: Template, spec: Spec, topics: dict[str, Any], by_severity: dict[str, list[AlarmRef]],
                            pending: dict[str, rollup.Pending]) -> None:
    """One notifying composite per severity over the component heads (rollup `solution`: over every
    failure alarm), and the solution's top composite over those; built only when they notify
    (rollup `solution` or `notify_solution`): a composite nobody reads costs $0.50 a month for nothing."""
    tops = []
    for severity in SEVERITIES:
        children = by_severity.get(severity, [])
        if not children:
            continue
        if len(children) == 1 and children[0].logical_id in pending:
            continue  # a single alarm notifies itself (rollup.single_children_notify)
        label = severity.capitalize()
        # One failure, one page: under `rollup: component` every child already pages this topic (a
        # component composite, or an alarm that notifies itself), so the solution composite records its
        # state changes on the alarm-history topic instead of paging the same people a second time.
        records = spec.notifications.rollup != "solution"
        actions = [topics[rollup.HISTORY if records else severity]]
        ref = add_composite(
            t, naming.solution_composite_id(label), naming.solution_composite_name(spec.solution, label), children,
            partial(composite_text, scope="solution", solution=spec.solution, severity=severity, records=records), actions,
            ok_actions=spec.notifications.ok_notifications, suppressor=spec.notifications.deployment_alarm,
        )
        t.add_output(Output(naming.solution_composite_output(label), Description=f"ALARM while any {severity} composite is",
                            Value=Ref(ref.logical_id)))
        tops.append(ref)
    if len(tops) > 1 and spec.notifications.notify_solution:  # the top one is read through its output only
        top = add_composite(t, naming.SOLUTION_COMPOSITE_ID, naming.solution_composite_name(spec.solution), tops,
                            partial(composite_text, scope="top", solution=spec.solution), [])
        t.add_output(Output(naming.SOLUTION_COMPOSITE_NAME_OUTPUT, Description="Top composite: ALARM while any component is",
                            Value=Ref(top.logical_id)))
        t.add_output(Output(naming.SOLUTION_COMPOSITE_ARN_OUTPUT, Value=GetAtt(top.logical_id, "Arn")))


def _count(result: BuildResult) -> None:
    for tpl in [result.template, *result.nested.values()]:
        for r in tpl.resources.values():
            if r.resource_type == "AWS::CloudWatch::CompositeAlarm":
                result.composites += 1
            elif r.resource_type == "AWS::CloudWatch::Alarm":
                result.alarms += 1
            elif r.resource_type == "AWS::Events::Rule":
                result.rules += 1


def _build_parts(spec: Spec, result: BuildResult, topics: dict[str, Any], pending: dict[str, rollup.Pending]) -> list[_Part]:
    """Build every component into its own template, recording the names each takes."""
    parts = []
    for comp in spec.components:
        ctx = _Context(spec, topics, new_template(), alarms=pending)
        heads, watched, graphs = _add_component(ctx, comp)
        result.owners.update(dict.fromkeys(ctx.template.resources, comp.name))
        section = Section(f"{comp.name}: {watched}", [r for refs in heads.values() for r in refs], graphs)
        parts.append(_Part(comp, ctx.template, heads, section, ctx.claims))
    return parts


def _over_limits(parent: Template, parts: list[_Part]) -> bool:
    count = len(parent.resources) + sum(len(p.template.resources) for p in parts) + 1
    return count > MAX_RESOURCES


@dataclass(frozen=True)
class _Watch:
    """One metric alarm to build: its definition, its resolved numbers, its exact dimensions, the
    target label it is named with, and (for a state-change alarm) the rule it counts."""

    alarm: AlarmDef
    settings: AlarmSettings
    dims: dict[str, Any]
    threshold: float | int  # in the metric's own unit (settings.threshold is in the spec's)
    label: str = ""
    rule_name: str = ""
    group: str = ""  # the sub-composite of an extra alarm (e.g. ModelHealth)

    @property
    def graph(self) -> MetricGraph:
        return MetricGraph(" ".join(p for p in (self.label, self.alarm.suffix) if p), self.alarm.metric, self.dims,
                           self.settings.statistic, self.settings.period, self.threshold)


def _watches(ctx: _Context, comp: ComponentSpec, kind: Component, env: BuildEnv) -> list[_Watch]:
    """Every metric alarm of a component, in build order: the kind's table (per target; an event
    alarm's rule also gets a delivery alarm), then the extra, log-pattern and custom alarms."""
    watches = []

    def watch(alarm: AlarmDef, settings: AlarmSettings, dims: dict[str, Any], **kw: str) -> _Watch:
        assert settings.threshold is not None  # the validation phase refuses enabled alarms without one
        return _Watch(alarm, settings, dims, _number(kind.metric_threshold(comp.options, alarm, settings.threshold)), **kw)

    resolved = (ctx.spec.resolved or {}).get(comp.name) or {}  # what the validation phase resolved
    for alarm in kind.alarms:
        settings = resolved.get(alarm.key) or resolve_settings(kind, comp.options, alarm, comp.alarms.get(alarm.key, _NO_OVERRIDE),
                                                               ctx.spec.defaults)
        if not settings.enabled:
            continue
        if alarm.is_event or _single_event(alarm, settings):  # one failed run, one error: it alarms on that one
            own = comp.alarms.get(alarm.key, _NO_OVERRIDE)  # event whatever the spec's `defaults` say (its own keys do)
            settings = replace(settings, evaluation_periods=own.evaluation_periods or 1,
                               datapoints_to_alarm=own.datapoints_to_alarm or 1)
        if alarm.is_event:
            rule = naming.rule_name(ctx.spec.solution, comp.name, alarm.suffix)
            dims = {"RuleName": rule}
            # The rule's readable message is the failure's own message: the alarm notifying too
            # (`notify: true`) would page the same people a second, less readable time.
            watches.append(watch(alarm, replace(settings, notify=False), dims, rule_name=rule))
            watches.append(watch(failed_invocations(alarm), replace(settings, **_DELIVERY), dims, rule_name=rule))
        else:
            fixed = dict(alarm.metric.fixed)
            watches.extend(watch(alarm, settings, {**t.dimensions, **fixed}, label=t.label)
                           for t in kind.alarm_targets(comp.options, alarm))
    for extra in [*kind.extra_alarms(comp.options, env), *logs_mod.log_alarms(kind, comp, env), *custom_mod.custom_alarms(comp)]:
        watches.append(watch(extra.alarm, extra.settings, dict(extra.dimensions), group=extra.group))
    return watches


def _single_event(alarm: AlarmDef, settings: AlarmSettings) -> bool:
    """A count of failures judged `Sum >= 1` in 1 of 1 by its kind: one failure is the incident."""
    policy = alarm.policy
    return (not alarm.is_multi_query and settings.statistic == "Sum" and policy.comparison == ">=" and settings.threshold == 1
            and policy.evaluation_periods == 1 and policy.datapoints_to_alarm == 1)


# A rule's delivery alarm: any FailedInvocations in five minutes (the metric is emitted only when non-zero).
_DELIVERY: dict[str, Any] = {"threshold": 1, "period": 300, "evaluation_periods": 1, "datapoints_to_alarm": 1, "statistic": "Sum",
                             "treat_missing_data": "notBreaching"}


def _add_component(ctx: _Context, comp: ComponentSpec) -> tuple[dict[str, list[AlarmRef]], str, list[MetricGraph]]:
    """Add a component's alarms and rules; return its heads per severity (rollup.component), what it
    watches, and the metrics its dashboard section graphs."""
    kind = REGISTRY[comp.kind]()
    env = BuildEnv(ctx.spec.solution, comp.name, ctx.topic)
    for resource in [*kind.resources(comp.options, env), *logs_mod.log_resources(kind, comp, env)]:
        ctx.claim(resource.title)
        ctx.template.add_resource(resource)
    watches = _watches(ctx, comp, kind, env)
    children: dict[str, list[AlarmRef]] = {}
    groups: dict[tuple[str, str], list[AlarmRef]] = {}
    for watch in watches:
        if watch.alarm.is_event:  # the rule, then the alarm on its TriggeredRules
            _add_event_rule(ctx, comp, kind, watch.alarm, watch.settings)
        ref = _add_metric_alarm(ctx, comp, kind, watch)
        if watch.group:
            groups.setdefault((watch.settings.severity, watch.group), []).append(ref)
        else:
            children.setdefault(watch.settings.severity, []).append(ref)
    _add_group_composites(ctx, comp, kind, groups)

    def composite(severity: str, refs: list[AlarmRef]) -> AlarmRef:
        label = severity.capitalize()
        logical = naming.component_composite_id(comp.name, label)
        name = naming.component_composite_name(ctx.spec.solution, comp.name, label)
        ctx.claim(logical)
        ctx.claim(name, "alarm")
        describe = partial(composite_text, scope="component", solution=ctx.spec.solution, watched=kind.watched(comp.options),
                           severity=severity, runbook=comp.runbook_url or "")
        return add_composite(ctx.template, logical, name, refs, describe, [ctx.topics[severity]],
                             ok_actions=ctx.spec.notifications.ok_notifications, suppressor=ctx.spec.notifications.deployment_alarm)

    heads = rollup.component(ctx.spec, children, ctx.alarms, composite)
    return heads, kind.watched(comp.options), [w.graph for w in watches]


def _add_group_composites(ctx: _Context, comp: ComponentSpec, kind: Component,
                          groups: dict[tuple[str, str], list[AlarmRef]]) -> None:
    """A sub-composite per (severity, group) of extra alarms (e.g. ModelHealth), itself a child of the
    component's composite of that severity; rollup.group_composite decides whether it is worth one."""
    for (severity, group), refs in groups.items():
        label = severity.capitalize()
        logical = naming.component_composite_id(comp.name, label, group)
        name = naming.component_composite_name(ctx.spec.solution, comp.name, label, group)
        if not rollup.group_composite(ctx.spec, refs, ctx.alarms, name):
            continue  # rollup.group_composite routed them: each notifies itself
        ctx.claim(logical)
        ctx.claim(name, "alarm")
        describe = partial(composite_text, scope="component", solution=ctx.spec.solution, watched=kind.watched(comp.options),
                           severity=severity, group=group, runbook=comp.runbook_url or "")
        add_composite(ctx.template, logical, name, refs, describe, [ctx.topics[severity]],
                      ok_actions=ctx.spec.notifications.ok_notifications, suppressor=ctx.spec.notifications.deployment_alarm)


def _notifies(ctx: _Context, settings: AlarmSettings) -> bool:
    return settings.notify if settings.notify is not None else ctx.spec.notifications.notify_alarms


def _add_metric_alarm(ctx: _Context, comp: ComponentSpec, kind: Component, watch: _Watch) -> AlarmRef:
    alarm, settings, dims = watch.alarm, watch.settings, watch.dims
    logical = naming.alarm_id(comp.name, watch.label, alarm.suffix)
    name = naming.component_alarm_name(ctx.spec.solution, comp.name, watch.label, alarm.suffix)
    ctx.claim(logical)
    ctx.claim(name, "alarm")
    threshold = watch.threshold
    text = partial(_alarm_text, ctx, comp, kind, alarm, settings, dims, rule_name=watch.rule_name)
    metric = alarm.metric
    props: dict[str, Any] = {
        "AlarmName": name,  # AlarmDescription: rollup.route writes it once the alarm's parent is known
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Period": settings.period,
        "EvaluationPeriods": settings.evaluation_periods,
        "DatapointsToAlarm": settings.datapoints_to_alarm,
        "Threshold": threshold,
        "ComparisonOperator": COMPARISONS.get(alarm.policy.comparison, ""),
        "TreatMissingData": settings.treat_missing_data,
        "ActionsEnabled": True,
    }
    if dims:  # a log metric filter's metric has none
        props["Dimensions"] = [{"Name": k, "Value": v} for k, v in dims.items()]
    if settings.statistic in STANDARD_STATISTICS:
        props["Statistic"] = settings.statistic
    else:
        props["ExtendedStatistic"] = settings.statistic
    if alarm.is_multi_query:  # metric math or an anomaly band: a `Metrics` alarm
        for extra in metric_math.apply(props, alarm, settings.statistic, settings.period, dims, logical, threshold):
            ctx.claim(extra.title)
            ctx.add(extra)
    resource = ctx.add(quick(Alarm, logical, props))
    ctx.alarms[logical] = rollup.Pending(resource, settings.severity, rollup.long_lived(settings), text,
                                         notify=_notifies(ctx, settings), warm_up=rollup.warm_up_minutes(settings))
    return AlarmRef(logical, name)


def _add_event_rule(ctx: _Context, comp: ComponentSpec, kind: Component, alarm: AlarmDef, settings: AlarmSettings) -> None:
    """A state-change rule that sends a readable message; its TriggeredRules alarm joins the
    composites, its FailedInvocations alarm shows a broken delivery (both built as `_Watch`es)."""
    assert alarm.event is not None
    event = alarm.event
    logical = naming.event_rule_id(comp.name, alarm.suffix)
    name = naming.rule_name(ctx.spec.solution, comp.name, alarm.suffix)
    ctx.claim(logical)
    ctx.claim(name, "rule")
    message = render(f"events/{event.message_template}", solution=ctx.spec.solution, component=comp.name)
    pattern = {"source": [event.source], "detail-type": [event.detail_type], "detail": kind.event_detail(comp.options, alarm)}
    ctx.template.add_resource(quick(Rule, logical, {
        "Name": name,
        "Description": f"{kind.watched(comp.options)}: {event.detail_type} failures -> {ctx.spec.solution} alert topic"[:512],
        "EventPattern": pattern,
        "State": "ENABLED",
        "Targets": [{
            "Id": "AlertTopic",
            "Arn": ctx.topics[settings.severity],
            "InputTransformer": {"InputPathsMap": dict(event.input_paths), "InputTemplate": readable_template(message)},
        }],
    }))


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _alarm_text(ctx: _Context, comp: ComponentSpec, kind: Component, alarm: AlarmDef, s: AlarmSettings,
                dims: dict[str, Any], rule_name: str, notifies: bool, composite: str = "") -> str:
    shown = {k: (v if isinstance(v, str) else "<state machine ARN>") for k, v in dims.items()}
    metric = alarm.metric
    assert s.threshold is not None  # the validation phase refuses enabled alarms without one
    threshold = f"{_number(s.threshold)}{UNITS[metric.unit]}"
    note = kind.threshold_note(comp.options, alarm)  # e.g. the vCPU count a summed utilization is scaled by
    if metric.scale != 1 or kind.metric_threshold(comp.options, alarm, 1.0) != 1.0:
        scaled = _number(kind.metric_threshold(comp.options, alarm, s.threshold))
        threshold += f" (= {scaled} in the metric's unit{'; ' + note if note else ''})"
    elif note:
        threshold += f" ({note})"
    docs = alarm.docs
    why = docs.why if not rule_name else f"{docs.why}; rule {rule_name} also sends a readable message"
    text = _alarm_description(
        watched=kind.watched(comp.options) + (f" ({comp.description})" if comp.description else ""),
        why=why,
        statistic=s.statistic,
        namespace=metric.namespace,
        metric=metric.name,
        dimensions=", ".join(f"{k}={v}" for k, v in shown.items()) or "no dimensions",
        comparison=metric_math.comparison_text(alarm),
        threshold=threshold,
        datapoints=s.datapoints_to_alarm,
        evaluation_periods=s.evaluation_periods,
        period=s.period,
        treat_missing_data=s.treat_missing_data,
        first_step=docs.first_step,
        source=docs.source,
        caveat=kind.caveat(comp.options, alarm),
        notifies=notifies,
        composite=composite or naming.component_composite_name(ctx.spec.solution, comp.name, s.severity.capitalize()),
        severity=s.severity,
        runbook=s.runbook_url or comp.runbook_url or "",
    )
    return text if len(text) <= ALARM_DESCRIPTION_MAX else text[:ALARM_DESCRIPTION_MAX - 3] + "..."


def _alarm_description(*, severity: str, watched: str, why: str, statistic: str, namespace: str, metric: str,
                       dimensions: str, comparison: str, threshold: str, datapoints: Any, evaluation_periods: Any,
                       period: Any, treat_missing_data: str, first_step: str, runbook: str, source: str, caveat: str,
                       notifies: bool, composite: str) -> str:
    """Every metric alarm's description (its second line is what `mlmon plan` reads back). Plain
    Python, not a Jinja template: tens of thousands of alarms render it, and Jinja's per-chunk
    generator was a tenth of a 6,000-component generate."""
    runbook_text = f" Runbook: {runbook}" if runbook else ""
    note = f" Note: {caveat}" if caveat else ""
    route = (f"Notifies the {severity} route's topic directly." if notifies
             else f"Notifies through composite alarm {composite}.")
    return (f"[{severity}] {watched}: {why}.\n"
            f"Alarm: {statistic} of {namespace} {metric} ({dimensions}) {comparison} {threshold} in {datapoints} of "
            f"{evaluation_periods} periods of {period} s; missing data is {treat_missing_data}.\n"
            f"First step: {first_step}.{runbook_text}\n\n"
            f"Source: {source}.{note}\n\n"
            f"{route}").strip()


def _description(spec: Spec, r: BuildResult) -> str:
    # No counts here: adding a component must not change the parent of a split output.
    text = f"mlmon monitoring for {spec.solution}. "
    if spec.description:
        text += spec.description.strip() + " "
    if spec.notifications.emails:
        text += "Every email address must confirm its SNS subscription or it receives nothing."
    return text.strip()[:DESCRIPTION_MAX]


