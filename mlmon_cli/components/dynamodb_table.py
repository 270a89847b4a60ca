"""Amazon DynamoDB table alarms: throttled reads and writes, and DynamoDB's own errors (HTTP 500).

Metrics (namespace `AWS/DynamoDB`): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
- `ReadThrottleEvents` / `WriteThrottleEvents` (Count; Sum, SampleCount): dimensions `TableName` (the table,
  not its global secondary indexes) or `TableName, GlobalSecondaryIndexName` (the indexes listed under
  `indexes`, which `init` reads from GlobalSecondaryIndexes, get one alarm each). One request may count several
  events (a BatchGetItem of ten items is ten events); a throttled event inside a batch is counted here
  even when `ThrottledRequests` is not (that one only counts a batch whose every item was throttled).
- `SystemErrors` (Count; Sum, SampleCount): dimensions `TableName, Operation` only. So is `ThrottledRequests`.
  An alarm on `TableName` alone would watch a series DynamoDB never publishes and could never fire (the
  same page: "You must specify all the required dimensions when creating your CloudWatch alarm, since
  CloudWatch will not aggregate metrics for a missing dimension"; Creating CloudWatch alarms in DynamoDB).
  So `system_errors` is metric math, the SUM over one series per Operation. An alarm reads at most 10
  metrics (PutMetricAlarm: "as many as 10 structures that contain a MetricStat"), and the Operation
  dimension has 13 table operations plus Streams' GetRecords; the 10 of the key-value and batch API are
  summed (`OPERATIONS`), PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) and
  GetRecords are not watched by it.
- DynamoDB sends these metrics only when they are non-zero, so missing data is the normal, healthy case
  (`notBreaching`). [unverified] that SUM over an array adds whichever operations have a value at a
  timestamp (CloudWatch metric math, "SUM"): settle with `aws cloudwatch get-metric-data` on an expression
  `SUM([m1, m2])` where only m1 has data.

On-demand and provisioned tables get the same alarms: both throttle (a provisioned table past its capacity
or auto scaling; an on-demand one past a partition's limit, its maximum on-demand throughput or the account's
per-table quota; API `ThrottlingReason`: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ThrottlingReason.html).
`init` notes the billing mode next to the component. Consumed-versus-provisioned capacity alarms (provisioned
tables only, and moot under auto scaling) are left out: throttling is the failure an ML caller sees.

Global tables (AWS::DynamoDB::GlobalTable): every metric is published per Region, by the replica in that
Region, under the same table name. The alarms watch the replica in the Region the monitoring stack is
deployed to; deploy it in each replica's Region to watch the others. `ReplicationLatency` (dimensions
`TableName, ReceivingRegion`) is not alarmed: it needs one alarm per other Region, which a template deployed
to any Region cannot list without knowing where it runs.

Name grammar: 3 to 255 characters of `[a-zA-Z0-9_.-]` (API reference, TableName / GlobalTableName).
CloudFormation: `Ref` of AWS::DynamoDB::Table and AWS::DynamoDB::GlobalTable is the table name (also a
stack's physical ID); SAM's AWS::Serverless::SimpleTable becomes an AWS::DynamoDB::Table of the same
logical ID (SAM "Generated resources: SimpleTable"), so its `Ref` is the table name too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.app_template import mapping
from ..spec.kind_facts import yaml_scalar
from ..spec.model import doc
from . import component
from .base import (
    AlarmDef,
    AlarmDocs,
    AlarmPolicy,
    AlarmTarget,
    Binding,
    Component,
    Inventory,
    Metric,
    MetricMath,
    NameOption,
    TemplateResource,
)

NAMESPACE = "AWS/DynamoDB"
# Whether AWS's "Recommended alarms" page lists these metrics, and with which numbers, no stored source confirmed.
RECOMMENDED = "mlmon default ([unverified] against AWS's Best_Practice_Recommended_Alarms_AWS_Services.html#DynamoDB)"
# The Operation values of the table API that SystemErrors is summed over (10: an alarm's MetricStat limit).
OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
              "TransactGetItems", "TransactWriteItems")
SYSTEM_ERRORS = MetricMath(
    "SUM([" + ", ".join(f"m{i}" for i in range(1, len(OPERATIONS) + 1)) + "])",
    tuple((f"m{i}", Metric(NAMESPACE, "SystemErrors", "Sum", fixed=(("Operation", op),))) for i, op in enumerate(OPERATIONS, 1)),
    name="SystemErrors (sum over operations)", namespace=NAMESPACE, statistic="Sum", label="SystemErrors, all operations",
    dimensions=("TableName",))  # per table only, never per index
SUSTAINED = AlarmPolicy(">", 0, period=60, evaluation_periods=5, datapoints_to_alarm=5, severity="warning")


@dataclass(frozen=True)
class DynamoDbTableOptions:
    table_name: str = field(metadata=doc("Name of the existing table (the TableName dimension); for a global table, "
                                         "the replica in the stack's Region."))
    indexes: tuple[str, ...] = field(default=(), metadata=doc(
        "Global secondary indexes whose read and write throttling is watched too (GlobalSecondaryIndexName dimension): "
        "the table's own throttle metrics leave them out."))


@component("dynamodb_table")
class DynamoDbTable(Component[DynamoDbTableOptions]):
    Options = DynamoDbTableOptions
    title = "Amazon DynamoDB table (or a global table's replica)"
    docs_url = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html"
    dimension_names = ("TableName",)
    names: ClassVar[Mapping[str, NameOption]] = {
        "table_name": NameOption(r"[a-zA-Z0-9_.-]{3,255}", "a DynamoDB table name: 3 to 255 letters, digits, '_', '-' "
                                 "and '.'", "the table name (the part after ':table/')"),
        "indexes": NameOption(r"[a-zA-Z0-9_.-]{3,255}", "a DynamoDB index name: 3 to 255 letters, digits, '_', '-' and '.'"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {  # Ref of each is the table name; a stack's physical ID is the name
        "AWS::DynamoDB::Table": Binding({"table_name": "${%s}"}, physical="table_name"),
        "AWS::DynamoDB::GlobalTable": Binding({"table_name": "${%s}"}, physical="table_name"),
        "AWS::Serverless::SimpleTable": Binding({"table_name": "${%s}"}),
    }
    inventory = Inventory("DynamoDB tables", "table_name", "dynamodb", "list_tables", "TableNames",
                          arn_format="arn:{partition}:dynamodb:{region}:{account}:table/{name}")
    example = "- kind: dynamodb_table\n  name: feature-store\n  table_name: online-features\n"
    alarms = (  # SystemErrors first: the dashboard draws a component's first 4 graphs
        AlarmDef(
            "system_errors", "SystemErrors",
            SYSTEM_ERRORS,
            AlarmPolicy(">", 0, period=60, evaluation_periods=5, datapoints_to_alarm=3),
            AlarmDocs(
                why="DynamoDB answered requests to the table with HTTP 500 in 3 of the last 5 minutes (an internal "
                    "service error; the SDK retries it, so one stray error does not page, a lasting one fails callers)",
                first_step="check the AWS Health Dashboard for DynamoDB in the Region and the callers' error rates",
                source=RECOMMENDED,
                caveat="SystemErrors exists per TableName and Operation only: the alarm sums the 10 key-value and batch "
                       "operations (an alarm reads at most 10 metrics); PartiQL and Streams errors are not counted."),
        ),
        AlarmDef(
            "read_throttles", "ReadThrottles",
            Metric(NAMESPACE, "ReadThrottleEvents", "Sum", dimensions=("TableName",)),
            SUSTAINED,
            AlarmDocs(
                why="reads of the table have been throttled for 5 minutes in a row: callers retry, slow down, and fail "
                    "once the SDK's retries run out",
                first_step="read the throttling reason in the callers' errors (ProvisionedThroughputExceeded, "
                           "KeyRangeThroughputExceeded, ...) and compare ConsumedReadCapacityUnits with the capacity",
                source=RECOMMENDED,
                caveat="The table's metric leaves its global secondary indexes out: list them under `indexes` for "
                       "one alarm each (TableName, GlobalSecondaryIndexName)."),
        ),
        AlarmDef(
            "write_throttles", "WriteThrottles",
            Metric(NAMESPACE, "WriteThrottleEvents", "Sum", dimensions=("TableName",)),
            SUSTAINED,
            AlarmDocs(
                why="writes to the table have been throttled for 5 minutes in a row: callers retry, slow down, and "
                    "fail (or drop records) once the SDK's retries run out",
                first_step="read the throttling reason in the callers' errors and compare ConsumedWriteCapacityUnits "
                           "with the capacity; a hot partition key shows as KeyRangeThroughputExceeded",
                source=RECOMMENDED,
                caveat="A global secondary index short of write capacity throttles the table's writes but is counted "
                       "under TableName, GlobalSecondaryIndexName: list it under `indexes` for its own alarm."),
        ),
        *(AlarmDef(
            f"index_{key}", suffix,
            Metric(NAMESPACE, metric, "Sum", dimensions=("TableName", "GlobalSecondaryIndexName")),
            SUSTAINED,
            AlarmDocs(
                why=f"{what} of this global secondary index have been throttled for 5 minutes in a row" + (
                    ": an index short of write capacity also throttles the table's writes" if key == "write_throttles" else ""),
                first_step=f"compare the index's Consumed{'Read' if key == 'read_throttles' else 'Write'}CapacityUnits "
                           "with its capacity; a hot index key shows as KeyRangeThroughputExceeded in the callers' errors",
                source=RECOMMENDED),
        ) for key, suffix, metric, what in (("read_throttles", "ReadThrottles", "ReadThrottleEvents", "reads"),
                                            ("write_throttles", "WriteThrottles", "WriteThrottleEvents", "writes"))),
    )

    def watched(self, o: DynamoDbTableOptions) -> str:
        return f"DynamoDB table {o.table_name}"

    def targets(self, o: DynamoDbTableOptions) -> list[AlarmTarget]:
        """The table, then each listed index (throttle alarms per target; SystemErrors narrows to the table)."""
        return [AlarmTarget({"TableName": o.table_name}),
                *(AlarmTarget({"TableName": o.table_name, "GlobalSecondaryIndexName": i}, label=i) for i in o.indexes)]

    def alarm_targets(self, o: DynamoDbTableOptions, alarm: AlarmDef) -> list[AlarmTarget]:
        """An index alarm per listed index; the table's alarms once, on the table."""
        if alarm.key.startswith("index_"):
            return self.targets(o)[1:]
        return super().alarm_targets(o, alarm)

    def check(self, o: DynamoDbTableOptions) -> list[tuple[Any, str]]:
        seen: set[str] = set()
        problems: list[tuple[Any, str]] = []
        for n, index in enumerate(o.indexes):
            if index in seen:
                problems.append((f"indexes[{n}]", f"duplicate index '{index}'"))
            seen.add(index)
        return problems

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        props = resource.properties
        if resource.type == "AWS::Serverless::SimpleTable":
            mode = "provisioned" if props.get("ProvisionedThroughput") is not None else "on-demand"
            note = f"SAM SimpleTable, {mode}"
        else:
            billing = props.get("BillingMode")  # PROVISIONED when absent, for both types
            mode = "on-demand" if billing == "PAY_PER_REQUEST" else "provisioned" if billing in (None, "PROVISIONED") else ""
            note = f"{mode or 'BillingMode set by an expression'}: throttling alarms either way"
        lines = [f"    # {note}"]
        gsis = props.get("GlobalSecondaryIndexes")
        names = [mapping(g).get("IndexName") for g in gsis] if isinstance(gsis, list) else []
        literal = [n for n in names if isinstance(n, str)]
        if names and literal == names:
            lines.append(f"    indexes: [{', '.join(yaml_scalar(n) for n in literal)}]   # GlobalSecondaryIndexes: throttling "
                         "per index")
        elif names:
            lines.append("    # GlobalSecondaryIndexes named by a parameter or expression: list them under `indexes`")
        if resource.type == "AWS::DynamoDB::GlobalTable":
            replicas = props.get("Replicas")
            regions = [r for r in (mapping(x).get("Region") for x in replicas) if isinstance(r, str)] if isinstance(replicas, list) else []
            where = f" ({', '.join(regions)})" if regions else ""
            lines.append(f"    # global table{where}: watches the replica in the stack's Region; deploy in each Region to "
                         "watch the others")
        return lines
