"""'No success in N hours': a scheduled job that silently stopped succeeding is a failure too.

`expect_success_within_hours: N` (1 to 168) adds one alarm per component, built with Period
3600 and N evaluation periods of which all N must breach: Sum of successes < 1 in each hour,
missing data breaching (an hour without a datapoint is an hour without a success). 168 hours is
CloudWatch's longest window (Period x EvaluationPeriods <= 604,800 s).

- Kinds with a success metric alarm on it: Step Functions `AWS/States ExecutionsSucceeded`
  (StateMachineArn), SageMaker Pipelines `AWS/Sagemaker/ModelBuildingPipeline ExecutionSucceeded`
  (PipelineName).
- Event-only kinds (Glue jobs, SageMaker jobs, CodePipeline) get an EventBridge rule on their
  success status (Glue `SUCCEEDED`, SageMaker `Completed`, CodePipeline `SUCCEEDED`) with no
  target, and the alarm watches its `AWS/Events TriggeredRules`. [unverified] whether
  EventBridge publishes TriggeredRules for a rule without targets: if it does not, the alarm
  fires although runs succeed (loud, not silent); `aws cloudwatch list-metrics --namespace
  AWS/Events --dimensions Name=RuleName,Value=<rule>` after a success settles it.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from .. import naming
from ..limits import SEVEN_DAYS
from ..spec.model import doc
from .base import AlarmDef, AlarmDocs, AlarmPolicy, BuildEnv, ExtraAlarm, Metric

MAX_HOURS = SEVEN_DAYS // 3600  # 168 hours: CloudWatch's maximum evaluation window
HOUR = 3600
SUFFIX = "NoRecentSuccess"
RULE_SUFFIX = "Succeeded"
NO_TARGET = ("[unverified] that EventBridge publishes TriggeredRules for a rule without targets (this one only counts "
             "successes). If list-metrics shows none for {rule} after a success, this alarm fires although runs succeed.")


def option(noun: str) -> Any:
    """The `expect_success_within_hours` option field of a kind whose `noun` runs on a schedule."""
    return field(default=None, metadata=doc(
        f"Alarm when no {noun} succeeded within this many hours (1 to 168: CloudWatch evaluates at most 7 days).",
        unit="h", minimum=1, maximum=MAX_HOURS,
        why=" (7 days of hourly periods: CloudWatch evaluates at most 604,800 s)"))


def _alarm(hours: int, metric: str, namespace: str, noun: str, first_step: str, caveat: str = "") -> AlarmDef:
    return AlarmDef(
        "no_recent_success", SUFFIX,
        Metric(namespace, metric, "Sum"),
        AlarmPolicy("<", 1, period=HOUR, evaluation_periods=hours, datapoints_to_alarm=hours, treat_missing_data="breaching"),
        AlarmDocs(why=f"no {noun} succeeded in the last {hours} hours: the scheduled work stopped running or keeps failing",
                  first_step=first_step, caveat=caveat),
    )


def metric_alarm(hours: int, metric: str, namespace: str, dimensions: dict[str, Any], noun: str, first_step: str) -> ExtraAlarm:
    """Staleness on a success-count metric the service publishes."""
    return ExtraAlarm(_alarm(hours, metric, namespace, noun, first_step), dimensions)


def rule_name(env: BuildEnv) -> str:
    return naming.rule_name(env.solution, env.component, RULE_SUFFIX)


def success_rule(env: BuildEnv, source: str, detail_type: str, detail: dict[str, Any], watched: str) -> Any:
    """The target-less rule whose TriggeredRules counts successes."""
    from troposphere.events import Rule

    return Rule(
        env.logical_id(RULE_SUFFIX, "Rule"),
        Name=rule_name(env),
        Description=f"{watched}: counts successful runs ({detail_type}) for the no-recent-success alarm; no target"[:512],
        EventPattern={"source": [source], "detail-type": [detail_type], "detail": detail},
        State="ENABLED",
    )


def rule_alarm(env: BuildEnv, hours: int, noun: str, first_step: str) -> ExtraAlarm:
    """Staleness on the TriggeredRules of `success_rule`."""
    name = rule_name(env)
    alarm = _alarm(hours, "TriggeredRules", "AWS/Events", noun, first_step, caveat=NO_TARGET.format(rule=name))
    return ExtraAlarm(alarm, {"RuleName": name})
