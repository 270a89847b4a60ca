"""What a component kind is: a table of alarm definitions plus a few small hooks.

A kind module declares its options dataclass, its namespace, its `alarms` table and how to
build dimensions (and, for job-like kinds, EventBridge patterns). Everything else (naming,
thresholds, composites, notifications, spec validation) is generic and lives in the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from .. import naming
from ..alarm_model import (
    AWS_RECOMMENDED,
    MLMON_DEFAULT,
    AlarmDef,
    AlarmDocs,
    AlarmPolicy,
    AnomalyBand,
    EventDef,
    Measured,
    Metric,
    MetricMath,
    tiers,
)
from ..limits import COMPARISONS  # comparison symbols used in tables -> CloudWatch ComparisonOperator
from ..spec.kind_facts import Binding, NameOption, TemplateResource

__all__ = ["AWS_RECOMMENDED", "COMPARISONS", "MLMON_DEFAULT", "UNITS", "AlarmDef", "AlarmDocs", "AlarmPolicy", "AlarmSettings",
           "AlarmTarget", "AnomalyBand", "Binding", "BuildEnv", "Component", "EventDef", "ExtraAlarm", "Inventory", "Measured", "Metric",
           "MetricMath", "NameOption", "TemplateResource", "event_alarm", "tiers"]

# Spec unit -> how it is validated and written in descriptions.
UNITS = {
    "count": "",
    "ms": " ms",
    "fraction": " (fraction, 0.01 = 1%)",
    "percent": " %",
    "ratio": " (0-1)",
    "s": " s",
    "sd": " standard deviations",
}


@dataclass(frozen=True)
class Inventory:
    """How `mlmon coverage` lists an account's resources of a kind: one paginated list call.

    Declared on the kind (data only; the AWS call is made at the edge, aws/coverage.py), so a new
    kind is listed without a table elsewhere. Fields of a listed item: `name` ("" when the item is
    the name itself, or a URL whose name follows the last `name_after`), `arn`, or `arn_format` over
    the item's fields and {partition}, {region}, {account}, {name}; `physical` when a stack's
    PhysicalResourceId is neither the name nor the ARN (a REST API's ID).
    """

    label: str  # plural, for reports: "Lambda functions"
    option: str  # the spec option naming the resource
    service: str  # boto3 client
    operation: str  # paginated list operation
    key: str  # result key holding the items
    name: str = ""
    arn: str = ""
    arn_format: str = ""
    physical: str = ""
    name_after: str = ""
    option_value: str = "name"  # name | arn: what the spec option takes
    arguments: tuple[tuple[str, Any], ...] = field(default=())  # fixed arguments of the list call
    where: tuple[tuple[str, str], ...] = field(default=())  # (field, value) every listed item of the kind has
    physical_is_item: bool = False  # the listed item itself is a stack's physical ID (an SQS queue URL)

    def pairs(self, items: list[Any], partition: str, region: str, account: str) -> list[tuple[str, str, str]]:
        """(name, ARN, physical ID) of each listed item."""
        out = []
        for item in items:
            fields = item if isinstance(item, Mapping) else {}
            if any(fields.get(key) != value for key, value in self.where):
                continue
            name = str(fields.get(self.name, "")) if self.name else str(item)
            if self.name_after:
                name = name.rpartition(self.name_after)[2]
            values = {**{k: v for k, v in fields.items() if isinstance(v, str)},
                      "partition": partition, "region": region, "account": account, "name": name}
            arn = str(fields.get(self.arn, "")) if self.arn else self.arn_format.format(**values)
            physical = str(item) if self.physical_is_item else str(fields.get(self.physical, "")) if self.physical else ""
            out.append((name, arn, physical))
        return out


def event_alarm(key: str, suffix: str, event: EventDef, why: str, first_step: str, *, source: str = MLMON_DEFAULT,
                caveat: str = "", **policy: Any) -> AlarmDef:
    """An alarm on `AWS/Events TriggeredRules` of the component's state-change rule (any match breaches)."""
    return AlarmDef(key, suffix, Metric("AWS/Events", "TriggeredRules", "Sum", dimensions=()),
                    AlarmPolicy(">=", 1, **policy), AlarmDocs(why, first_step, source, caveat), event=event)


@dataclass(frozen=True)
class AlarmSettings:
    """The numbers an alarm is built with; `threshold` is in the spec's natural unit."""

    enabled: bool
    threshold: float | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    statistic: str
    treat_missing_data: str
    notify: bool | None
    severity: str = "critical"
    runbook_url: str | None = None


@dataclass(frozen=True)
class AlarmTarget:
    """One set of dimensions alarms are created for (a SageMaker variant, or the whole resource)."""

    dimensions: dict[str, Any]
    label: str = ""


@dataclass(frozen=True)
class ExtraAlarm:
    """An alarm a component derives from its options, beyond its fixed `alarms` table.

    Returned by `Component.extra_alarms` (Model Monitor drift and quality, "no success in N
    hours") and by the generic log-pattern alarms (core/logs.py); build.py turns every one into an
    `AWS::CloudWatch::Alarm` exactly like a table alarm (same naming, description, routing):

    - `alarm` is the whole definition, numbers included: its threshold (in the metric's unit),
      period, M of N, statistic, missing-data treatment and severity are final. The spec's
      `defaults` and `alarms:` overrides do not apply (those alarms are configured where their
      options are, and their periods follow how often the metric is published);
    - `dimensions` is the exact dimension set (empty: a metric without dimensions);
    - `group`, when given, names a sub-composite (`<solution>-<component>-<Severity>-<group>`,
      e.g. ModelHealth) that rolls these alarms up and is itself a child of the component's
      composite of that severity; without it the alarm is a direct child of that composite.
    """

    alarm: AlarmDef
    dimensions: dict[str, Any]
    group: str = ""

    @property
    def settings(self) -> AlarmSettings:
        """The alarm's numbers as the builder uses them."""
        p = self.alarm.policy
        return AlarmSettings(enabled=True, threshold=p.threshold, period=p.period, evaluation_periods=p.evaluation_periods,
                             datapoints_to_alarm=p.datapoints_to_alarm, statistic=self.alarm.metric.statistic,
                             treat_missing_data=p.treat_missing_data, notify=None, severity=p.severity)


@dataclass(frozen=True)
class BuildEnv:
    """What a kind's extra resources may use: names, the alert topic, and a logical-ID helper."""

    solution: str
    component: str
    topic: Any

    def logical_id(self, *parts: str) -> str:
        return naming.logical_id(self.component, *parts)

    def rule_name(self, *parts: str) -> str:
        """An EventBridge rule name `solution-component-...` within the 64-character limit."""
        return naming.rule_name(self.solution, self.component, *parts)


OptionsT = TypeVar("OptionsT")


class Component(Generic[OptionsT]):
    """Base for a component kind. Subclasses are registered with `@component`."""

    kind: ClassVar[str]
    Options: ClassVar[type]
    title: ClassVar[str]
    docs_url: ClassVar[str]
    dimension_names: ClassVar[tuple[str, ...]]  # documented dimension set of per-target alarms
    alarms: ClassVar[tuple[AlarmDef, ...]]
    log_group_shared: ClassVar[bool] = False  # `log_group` is shared by every resource of the service
    log_groups_use_alert_key: ClassVar[bool] = False  # its `resources` create log groups encrypted with the alerts key

    # --- What the kind knows of CloudFormation and of the names it is given (CONTRIBUTING.md) ---
    # Options holding physical names: their grammar (checked on literal names) and what to give
    # instead of an ARN. Read by the spec layer through the registry (spec/kind_facts.py).
    names: ClassVar[Mapping[str, NameOption]] = {}
    # CloudFormation type -> the options `resource: <LogicalId>` fills from its Ref/GetAtt; the keys
    # are the types `mlmon init --from-template` (and `--from-stack`) gives a component of this kind.
    bindings: ClassVar[Mapping[str, Binding]] = {}
    # Related CloudFormation types the kind does not watch -> why (a comment in `init`'s starter spec).
    not_watched: ClassVar[Mapping[str, str]] = {}
    # Message templates of the kind's events shipped in the module itself: `EventDef.message_template`
    # name -> Jinja2 text (built-in kinds keep theirs as files in templates/events/).
    messages: ClassVar[Mapping[str, str]] = {}
    # One component of this kind as spec YAML (a list item), for the reference; a test validates it.
    example: ClassVar[str] = ""
    # How `mlmon coverage` lists the account's resources of this kind; None: a kind of runs or jobs
    # (nothing standing to list) or one coverage cannot list yet.
    inventory: ClassVar[Inventory | None] = None

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        """Why a resource of a bound type still gets no component in `init` (shown as a comment), or None."""
        return None

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        """Spec lines `init` writes under the component (indented 4): options and alarm switches the
        resource's properties tell, each with its reason as a comment."""
        return []

    @classmethod
    def cfn_types(cls) -> tuple[str, ...]:
        """The CloudFormation types this kind watches."""
        return tuple(cls.bindings)

    def watched(self, o: OptionsT) -> str:
        """Human name of the watched resource, for descriptions."""
        raise NotImplementedError

    def targets(self, o: OptionsT) -> list[AlarmTarget]:
        """Dimension sets the per-target alarms are created for."""
        raise NotImplementedError

    def alarm_targets(self, o: OptionsT, alarm: AlarmDef) -> list[AlarmTarget]:
        """Dimension sets one table alarm is created for: `targets`, narrowed to the alarm's own
        `dimensions` when it has them (one alarm per distinct narrowed set)."""
        targets = self.targets(o)
        names = alarm.metric.dimensions
        if names is None:
            return targets
        narrowed: dict[str, AlarmTarget] = {}
        for t in targets:
            dims = {k: v for k, v in t.dimensions.items() if k in names}
            label = t.label if set(dims) == set(t.dimensions) else ""
            narrowed.setdefault(repr(sorted(dims.items(), key=lambda kv: kv[0])), AlarmTarget(dims, label))
        return list(narrowed.values())

    def event_detail(self, o: OptionsT, alarm: AlarmDef) -> dict[str, Any]:
        """The `detail` part of an EventBridge pattern for an event alarm."""
        raise NotImplementedError(f"{self.kind} has no event alarms")

    def default_threshold(self, o: OptionsT, alarm: AlarmDef) -> float | None:
        """Threshold (spec units) when the spec gives none; a hook for derived defaults."""
        return alarm.policy.threshold

    def metric_threshold(self, o: OptionsT, alarm: AlarmDef, value: float) -> float:
        """Convert a spec-unit threshold to the metric's unit (e.g. ms -> µs)."""
        return value * alarm.metric.scale

    def caveat(self, o: OptionsT, alarm: AlarmDef) -> str:
        """The alarm's caveat for these options (e.g. one that holds for asynchronous endpoints only)."""
        return alarm.docs.caveat

    def threshold_note(self, o: OptionsT, alarm: AlarmDef) -> str:
        """What the threshold's scale rests on, shown next to it (e.g. the vCPU count assumed for a
        summed utilization), so descriptions and `mlmon plan` show the assumption; '' for none."""
        return ""

    def default_enabled(self, o: OptionsT, alarm: AlarmDef) -> bool:
        """Whether the alarm is on when the spec does not say (e.g. GPU utilization on GPU instances)."""
        return alarm.policy.enabled

    def applies(self, o: OptionsT, alarm: AlarmDef) -> bool:
        """Whether an alarm exists at all for these options (e.g. not OverheadLatency on async endpoints)."""
        return True

    def resources(self, o: OptionsT, env: BuildEnv) -> list[Any]:
        """Extra troposphere resources a kind creates (e.g. a generated state machine and its role)."""
        return []

    def extra_alarms(self, o: OptionsT, env: BuildEnv) -> list[ExtraAlarm]:
        """Alarms derived from the options (e.g. one per Model Monitor feature); see `ExtraAlarm`.
        Called after `resources`, so they may watch a resource it created (e.g. a rule)."""
        return []

    def log_group(self, o: OptionsT) -> str | None:
        """The CloudWatch Logs group the watched resource writes to, if it has a known one. The
        component-level `log_group` key overrides it; it feeds saved Logs Insights queries and
        `log_patterns` metric filters (core/logs.py)."""
        return None

    def log_stream_prefix(self, o: OptionsT) -> str | None:
        """In a log group shared by many resources (e.g. /aws/sagemaker/TrainingJobs), the prefix of
        this component's log streams; the saved queries filter on it."""
        return None

    def log_queries(self, o: OptionsT) -> dict[str, str]:
        """Kind-specific saved Logs Insights queries (title -> query), added to the generic ones."""
        return {}

    def check(self, o: OptionsT) -> list[tuple[Any, str]]:
        """Cross-field checks on the options: (option path, message) pairs; the path may also be
        a `Location` kept by a `parse` hook, for a problem inside a nested structure."""
        return []

    @classmethod
    def alarm(cls, key: str) -> AlarmDef:
        return next(a for a in cls.alarms if a.key == key)
