"""`mlmon suggest`: read a stack's alarms, their metric history (GetMetricData) and 30 days of
alarm history (DescribeAlarmHistory).

GetMetricData returns at most 100,800 datapoints and 500 queries per call (aws-ml-facts-3 §2),
so queries are batched by datapoint count; each query asks for the alarm's own statistic and
period. CloudWatch keeps 60-second datapoints 15 days, 300-second ones 63 days and hourly ones
455 days: a longer `--days` is cut to what the alarm's period keeps, and the report says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from ..errors import AwsUsageError
from ..limits import GET_METRIC_DATA_MAX_DATAPOINTS, GET_METRIC_DATA_MAX_QUERIES
from ..suggest.noise import HISTORY_DAYS
from ..suggest.propose import AlarmConfig, Series, alarm_config
from .fire import _describe, stack_alarms
from .session import Aws, Target, aws_errors, error_code, error_message

MAX_DATAPOINTS = GET_METRIC_DATA_MAX_DATAPOINTS
MAX_QUERIES = GET_METRIC_DATA_MAX_QUERIES
RETENTION_DAYS = ((60, 15), (300, 63), (3600, 455))  # period at least (s) -> days kept

Log = Callable[[str], None]


@dataclass(frozen=True)
class HistoryRequest:
    stack_name: str
    target: Target = Target()
    days: float = 14.0
    patterns: tuple[str, ...] = ()  # globs on alarm names; default every metric alarm
    now: datetime | None = None  # tests pin the clock


@dataclass
class History:
    configs: list[AlarmConfig]
    series: dict[str, Series]
    alarms: dict[str, dict[str, Any]]  # every alarm of the stack, metric and composite (DescribeAlarms)
    alarm_history: dict[str, list[dict[str, Any]]] | None  # None: DescribeAlarmHistory unavailable
    notes: list[str] = field(default_factory=list)


def retention_days(period: int) -> float:
    """How many days CloudWatch keeps datapoints of this period (under a minute: 3 hours)."""
    kept = 3 / 24
    for at_least, days in RETENTION_DAYS:
        if period >= at_least:
            kept = days
    return kept


def read_history(request: HistoryRequest, log: Log) -> History:
    aws = Aws(request.target)
    cfn, cw = aws.client("cloudformation"), aws.client("cloudwatch")
    now = (request.now or datetime.now(UTC)).replace(second=0, microsecond=0)
    names = stack_alarms(cfn, request.stack_name)
    alarms = _describe(cw, [n for n, _ in names])
    configs = [alarm_config(a) for n, a in sorted(alarms.items()) if a["_kind"] == "metric"]
    if request.patterns:
        configs = [c for c in configs if any(fnmatchcase(c.name, p) for p in request.patterns)]
        if not configs:
            raise AwsUsageError(f"mlmon: --alarm {', '.join(request.patterns)}: no metric alarm of the stack matches")
    notes: list[str] = []
    with aws_errors("read metric history (GetMetricData)"):
        series = _metric_history(cw, [c for c in configs if not c.skip], now, request.days, notes)
    log(f"mlmon: read {sum(len(s.present) for s in series.values())} datapoints of {len(series)} alarm metric(s)")
    return History(configs, series, alarms, _alarm_history(cw, sorted(alarms), now, notes), notes)


def _metric_history(cw: Any, configs: list[AlarmConfig], now: datetime, days: float, notes: list[str]) -> dict[str, Series]:
    plans = []
    for config in configs:
        kept = retention_days(config.period)
        span = min(days, kept)
        if span < days:
            notes.append(f"{config.name}: CloudWatch keeps {config.period}-second datapoints {kept:g} days; backtested over {kept:g}")
        end = _align(now, config.period)
        start = end - timedelta(days=span)
        start = _align(start, config.period)
        plans.append((config, start, end, int((end - start).total_seconds()) // config.period))
    out: dict[str, Series] = {}
    batch: list[tuple[AlarmConfig, datetime, datetime, int]] = []
    for plan in plans:
        if batch and (sum(p[3] for p in batch) + plan[3] > MAX_DATAPOINTS or len(batch) == MAX_QUERIES
                      or (batch[0][1], batch[0][2]) != (plan[1], plan[2])):
            out.update(_query(cw, batch, notes))
            batch = []
        batch.append(plan)
    if batch:
        out.update(_query(cw, batch, notes))
    return out


def _query(cw: Any, batch: list[tuple[AlarmConfig, datetime, datetime, int]], notes: list[str]) -> dict[str, Series]:
    """One GetMetricData call for the batch; when it is refused, each alarm alone, so one query the
    endpoint refuses (LocalStack has no percentiles) costs only its own alarm's history."""
    from botocore.exceptions import ClientError

    try:
        return _query_batch(cw, batch)
    except ClientError as exc:
        if len(batch) == 1:
            notes.append(f"{batch[0][0].name}: metric history not read: GetMetricData: {error_code(exc)}: {error_message(exc)}")
            return {}
    out: dict[str, Series] = {}
    for plan in batch:
        out.update(_query(cw, [plan], notes))
    return out


def _align(t: datetime, period: int) -> datetime:
    epoch = int(t.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period, UTC)


def _query_batch(cw: Any, batch: list[tuple[AlarmConfig, datetime, datetime, int]]) -> dict[str, Series]:
    """One GetMetricData call (all pages) for alarms sharing a time range."""
    _, start, end, _ = batch[0]
    queries = []
    for i, (c, _, _, _) in enumerate(batch):
        metric = {"Namespace": c.namespace, "MetricName": c.metric_name,
                  "Dimensions": [{"Name": k, "Value": v} for k, v in c.dimensions]}
        queries.append({"Id": f"m{i}", "MetricStat": {"Metric": metric, "Period": c.period, "Stat": c.statistic},
                        "ReturnData": True})
    points: dict[str, dict[datetime, float]] = {}
    kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
    while True:
        page = cw.get_metric_data(**kwargs)
        for result in page.get("MetricDataResults") or []:
            found = points.setdefault(result["Id"], {})
            for ts, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=True):
                found[ts.astimezone(UTC)] = float(value)
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    out = {}
    for i, (c, start, _, count) in enumerate(batch):
        found = points.get(f"m{i}", {})
        values: list[float | None] = [None] * count
        for ts, value in found.items():
            index = int((ts - start).total_seconds()) // c.period
            if 0 <= index < count:
                values[index] = value
        out[c.name] = Series(start, c.period, tuple(values))
    return out


def _alarm_history(cw: Any, names: list[str], now: datetime, notes: list[str]) -> dict[str, list[dict[str, Any]]] | None:
    """StateUpdate items of the last 30 days per alarm; None (and a note) when the API is unavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    out: dict[str, list[dict[str, Any]]] = {}
    start = now - timedelta(days=HISTORY_DAYS)
    try:
        for name in names:
            items: list[dict[str, Any]] = []
            pages = cw.get_paginator("describe_alarm_history").paginate(
                AlarmName=name, AlarmTypes=["MetricAlarm", "CompositeAlarm"], HistoryItemType="StateUpdate",
                StartDate=start, EndDate=now, ScanBy="TimestampAscending")
            for page in pages:
                items += page.get("AlarmHistoryItems") or []
            out[name] = items
    except ClientError as exc:
        notes.append(f"alarm history not read: DescribeAlarmHistory: {error_code(exc)}: {error_message(exc)}")
        return None
    except BotoCoreError as exc:
        notes.append(f"alarm history not read: DescribeAlarmHistory: {exc}")
        return None
    return out
