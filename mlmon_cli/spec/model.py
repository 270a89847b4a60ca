"""The validated spec as frozen dataclasses: what the pure core consumes.

Field metadata carries the documentation (`doc`, `unit`) so the README's spec reference and
`mlmon kinds` are generated from the same source the converter validates against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..errors import Location
from .fields import SEVERITIES, TREAT_MISSING_DATA, doc
from .logs import ComponentLogs
from .quiet import parse_quiet_windows

__all__ = ["ROLLUPS", "SEVERITIES", "TREAT_MISSING_DATA", "AlarmDefaults", "AlarmOverride", "ComponentSpec", "Notifications",
           "QuietWindow", "Route", "Slack", "Spec", "doc"]

ROLLUPS = ("component", "solution", "none")


@dataclass(frozen=True)
class AlarmOverride:
    """Per-alarm settings a spec may give; None means 'use the next level of defaults'."""

    enabled: bool | None = field(default=None, metadata=doc("Create this alarm (`false` disables it)."))
    threshold: float | None = field(
        default=None, metadata=doc("Threshold in the alarm's natural unit (see the alarm table: count, ms, fraction, percent).")
    )
    period: int | None = field(default=None, metadata=doc("Seconds per datapoint: 10, 30 or a multiple of 60.", unit="s"))
    evaluation_periods: int | None = field(default=None, metadata=doc("Number of periods evaluated (N of 'M out of N')."))
    datapoints_to_alarm: int | None = field(default=None, metadata=doc("Breaching periods needed to alarm (M of 'M out of N')."))
    statistic: str | None = field(
        default=None, metadata=doc("Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p90 or p99.9.")
    )
    treat_missing_data: str | None = field(
        default=None, metadata=doc("breaching, notBreaching, ignore or missing.", choices=TREAT_MISSING_DATA)
    )
    notify: bool | None = field(
        default=None, metadata=doc("Send this alarm's own state changes to the topic (default: `notifications.notify_alarms`). "
                                   "A state-change alarm's rule already sends its own readable message, so it never "
                                   "notifies a second time; on another alarm of a component with such a rule, one "
                                   "failure may reach the same people three times (message, alarm, composite).")
    )
    severity: str | None = field(
        default=None, metadata=doc("critical or warning: which composite and route the alarm belongs to.", choices=SEVERITIES)
    )
    runbook_url: str | None = field(default=None, metadata=doc("Runbook for this alarm, written into its description."))


@dataclass(frozen=True)
class AlarmDefaults:
    """Solution-wide defaults; they override built-in defaults and are overridden per alarm."""

    period: int | None = field(default=None, metadata=doc("Default period for every alarm.", unit="s"))
    evaluation_periods: int | None = field(default=None, metadata=doc("Default evaluation periods for every alarm."))
    datapoints_to_alarm: int | None = field(default=None, metadata=doc("Default datapoints to alarm for every alarm."))
    treat_missing_data: str | None = field(
        default=None, metadata=doc("Default missing-data treatment for every alarm.", choices=TREAT_MISSING_DATA)
    )
    low_sample_percentiles: str | None = field(default=None, metadata=doc(
        "What every percentile alarm (p90, p99, ...) does while too few samples arrive for the percentile to mean "
        "anything (fewer than 10/(1-p), e.g. 1,000 for p99): `ignore` (the default: keep the state) or `evaluate`.",
        choices=("ignore", "evaluate")))


@dataclass(frozen=True)
class Slack:
    """An AWS Chatbot Slack channel subscribed to a route's topic (the workspace must be authorized in Chatbot)."""

    workspace_id: str = field(metadata=doc("Slack workspace ID (Chatbot console, e.g. T0123ABCD)."))
    channel_id: str = field(metadata=doc("Slack channel ID (e.g. C0123ABCD)."))
    iam_role_arn: str | None = field(
        default=None, metadata=doc("Role Chatbot assumes; default: a new role that may only read CloudWatch alarms.")
    )


OPSITEM_CATEGORIES = ("Availability", "Cost", "Performance", "Recovery", "Security")


@dataclass(frozen=True)
class IncidentActions:
    """AWS-native incident actions on the alarms and composites that notify a route, when they go to
    ALARM (systems-manager/latest/userguide/OpsCenter-configuring-an-existing-alarm-programmatically.html;
    AWSCloudFormation/latest/TemplateReference/aws-resource-aiops-investigationgroup.html)."""

    opsitem_severity: int | None = field(default=None, metadata=doc(
        "Create an OpsCenter OpsItem of this severity (1 critical to 4 low); the first deploy needs "
        "iam:CreateServiceLinkedRole (AWSServiceRoleForCloudWatchAlarms_ActionSSM).", minimum=1, maximum=4))
    opsitem_category: str | None = field(default=None, metadata=doc(
        "The OpsItem's category.", choices=OPSITEM_CATEGORIES))
    investigation_group_arn: str | None = field(default=None, metadata=doc(
        "Start a CloudWatch investigation in this existing investigation group; its resource policy must let "
        "aiops.alarms.cloudwatch.amazonaws.com call aiops:CreateInvestigation and aiops:CreateInvestigationEvent."))
    response_plan_arn: str | None = field(default=None, metadata=doc(
        "Start an incident from this existing Incident Manager response plan (mlmon never creates one: Incident "
        "Manager takes no new customers since 2025-11-07)."))


@dataclass(frozen=True)
class Route:
    """Who hears alarms of one severity: a new topic with these subscribers, or an existing topic."""

    emails: tuple[str, ...] = field(default=(), metadata=doc("Email addresses (each must confirm its subscription)."))
    https_endpoints: tuple[str, ...] = field(
        default=(), metadata=doc("HTTPS endpoints, e.g. a PagerDuty CloudWatch integration URL or your own webhook (they "
                                 "confirm automatically); they receive alarm payloads only.")
    )
    lambda_arns: tuple[str, ...] = field(default=(), metadata=doc("Lambda functions invoked with each notification."))
    slack: Slack | None = field(default=None, metadata=doc("An AWS Chatbot Slack channel: `workspace_id`, `channel_id`, `iam_role_arn`."))
    topic_arn: str | None = field(
        default=None,
        metadata=doc("Use this existing SNS topic instead of creating one (its policy and key must allow CloudWatch and EventBridge)."),
    )
    incident_actions: IncidentActions | None = field(default=None, metadata=doc(
        "AWS incident actions for this route's alarms: `opsitem_severity` (1-4) and `opsitem_category`, "
        "`investigation_group_arn`, `response_plan_arn` (existing only)."))
    ok_notifications: bool = field(default=True, metadata=doc(
        "Send the all-clear: every alarm or composite that notifies this route also notifies it when it returns to OK "
        "(pagers resolve their incident). `false` opts this route out."))


@dataclass(frozen=True)
class QuietWindow:
    """A maintenance window: alarms keep evaluating, their notifications are muted (AWS::CloudWatch::AlarmMuteRule)."""

    name: str = field(metadata=doc("Names the mute rule: `<solution>-<name>`."))
    schedule: str = field(metadata=doc("When the window opens: cron(...) or at(...), as for EventBridge schedules."))
    duration: str = field(metadata=doc("How long it stays open: ISO 8601, PT1M to P15D (e.g. PT2H)."))
    timezone: str | None = field(default=None, metadata=doc("IANA time zone of the schedule (default UTC)."))


_parse_quiet_windows = partial(parse_quiet_windows, QuietWindow)


@dataclass(frozen=True)
class Notifications(Route):
    """Where alarms and events go: the default route (every severity) plus an optional warning route."""

    warning: Route | None = field(
        default=None, metadata=doc("A separate route for warning-severity alarms (same keys as `notifications`).")
    )
    notify_alarms: bool = field(default=False, metadata=doc("Child alarms notify too, not only composites."))
    notify_solution: bool = field(
        default=False, metadata=doc("Build the solution-wide composites (a status per severity and a top one); under "
                                    "`rollup: component` they record on the alarm-history topic, so one failure never "
                                    "pages the same people twice.")
    )
    rollup: str = field(default="component", metadata=doc(
        "How failure alarms roll up: `component` (one notifying composite per component and severity with 2+ alarms), "
        "`solution` (one per severity for the whole solution: cheapest with composites, but a second failure while "
        "the first is still in ALARM sends nothing) or `none` (every alarm notifies itself, no composite).",
        choices=ROLLUPS))
    insufficient_data_actions: bool = field(default=False, metadata=doc(
        "Give every metric alarm an INSUFFICIENT_DATA action to the alarm-history topic (nobody is paged), for "
        "organizations enforcing AWS Config's CLOUDWATCH_ALARM_ACTION_CHECK with its defaults."))
    quiet_windows: tuple[QuietWindow, ...] = field(default=(), metadata=doc(
        "Maintenance windows (`name`, `schedule`, `duration`, `timezone`): every notification of the solution is muted "
        "while one is open (e.g. a nightly retrain); set them per environment.", parse=_parse_quiet_windows,
        type="list of windows"))
    deployment_alarm: str | None = field(default=None, metadata=doc(
        "Name of an existing alarm that is in ALARM while a deployment runs: every composite's notifications are "
        "suppressed meanwhile (ActionsSuppressor), plus 5 minutes after."))

    def route(self, severity: str) -> Route:
        return self.warning if severity == "warning" and self.warning else self


@dataclass(frozen=True)
class ComponentSpec:
    """One watched AWS resource: its kind, name, kind-specific options and alarm overrides."""

    kind: str
    name: str
    options: Any
    alarms: dict[str, AlarmOverride]
    description: str
    location: Location
    runbook_url: str | None = None
    owner: str | None = None  # the team that owns it: the `owner` tag of its alarms, composites and rules
    enabled: bool = True
    logs: ComponentLogs = field(default_factory=ComponentLogs)  # log group, log patterns, saved queries
    # Where each key of the component was written ("name", "alarms.errors", an option name), so the
    # checks after conversion (core/validate.py) still report `file:line:col`.
    locations: dict[str, Location] = field(default_factory=dict, compare=False, hash=False)
    custom_alarms: tuple[Any, ...] = ()  # spec.custom.CustomAlarm: alarms on any metric, expression or anomaly band

    def locate(self, key: str) -> Location:
        """The location of `key` in this component, or of the component itself."""
        return self.locations.get(key, self.location)


@dataclass(frozen=True)
class Spec:
    """A whole validated spec."""

    solution: str
    description: str
    notifications: Notifications
    defaults: AlarmDefaults
    components: tuple[ComponentSpec, ...]
    source: str
    environment: str | None = None
    name_suffix: str | None = None  # added to every physical name (default: the environment's name)
    owner: str | None = None  # the default `owner` tag of every component
    organization: Any = None  # spec.organization.Organization: central account and StackSet targets, or None
    cfn: Any = None  # spec.cfn_values.CfnValues: parameters, imports, the user's template (merged output), or None
    # Each component's alarm settings as the validation phase resolved them (component name -> alarm
    # key -> components.settings.AlarmSettings), carried to the build so it does not resolve them again.
    resolved: Any = field(default=None, compare=False, repr=False)
