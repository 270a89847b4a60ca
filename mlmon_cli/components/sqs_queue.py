"""Amazon SQS queue alarms: a consumer falling behind (age of the oldest message, backlog) and a
dead-letter queue that receives anything.

Metrics (namespace `AWS/SQS`, the only dimension `QueueName`, standard and FIFO queues alike):
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
- `ApproximateAgeOfOldestMessage` (Seconds): the oldest unprocessed message; a message moved to a DLQ
  starts a new age there (the time it was moved), and a poison-pill message is left out until consumed.
- `ApproximateNumberOfMessagesVisible` (Count): messages available for retrieval.
- Valid statistics of both: Average, Minimum, Maximum, Sum, SampleCount. SQS sends them every minute (its
  older guide: every five minutes, no one-minute metrics); the alarms' 300 s periods hold a value either way.

Why a dead-letter queue is watched with `ApproximateNumberOfMessagesVisible > 0` and not
`NumberOfMessagesSent`: "If you send a message to a dead-letter queue manually, it is captured by the
NumberOfMessagesSent metric. However, [if] a message is sent to a dead-letter queue as a result of a
failed processing attempt, it isn't captured by this metric" (SQS Developer Guide, "Using dead-letter
queues", troubleshooting: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).

Missing data: SQS publishes metrics only for *active* queues: "CloudWatch considers a queue to be active
for up to six hours if it contains any messages or if any API action accesses it"
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-monitoring-using-cloudwatch.html;
"All metrics emit non-negative values only when the queue is active", metrics page). A queue nobody touches
goes quiet with messages still in it (a DLQ is read by nobody). So every alarm here treats missing data as
`ignore`: an alarm keeps its state while SQS is silent, so a stuck queue or a DLQ holding messages stays in
ALARM until someone drains it (the API call makes the queue active again and 0 is published). The price: a
queue that has never been active stays INSUFFICIENT_DATA, which notifies nobody.

Name grammar (CreateQueue QueueName): up to 80 characters, alphanumerics, '-' and '_'; a FIFO queue's name
ends in `.fifo` (counted in the 80): https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
CloudFormation (AWS::SQS::Queue): `Ref` is the queue URL, `GetAtt QueueName` the name, `GetAtt Arn` the ARN;
a stack's physical ID is the URL: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html

Which resources make a queue a dead-letter queue (`init` reads them): another queue's
`RedrivePolicy.deadLetterTargetArn`, a Lambda function's `DeadLetterConfig.TargetArn` (SAM:
`DeadLetterQueue.TargetArn`), an `OnFailure` destination (AWS::Lambda::EventInvokeConfig, SAM
`EventInvokeConfig`, AWS::Lambda::EventSourceMapping `DestinationConfig`), an EventBridge target's
`DeadLetterConfig.Arn` (also on SAM function events), an SNS subscription's `RedrivePolicy.deadLetterTargetArn`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.app_template import AppTemplate, mapping
from ..spec.kind_facts import ref_target
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
    NameOption,
    TemplateResource,
)

NAMESPACE = "AWS/SQS"
# Whether AWS's "Recommended alarms" page lists these metrics, and with which numbers, no stored source confirmed.
RECOMMENDED = "mlmon default ([unverified] against AWS's Best_Practice_Recommended_Alarms_AWS_Services.html#SQS)"
DEFAULT_RETENTION = 345_600  # seconds: SQS's default MessageRetentionPeriod (4 days), CreateQueue API reference
RETENTION_MIN, RETENTION_MAX = 60, 1_209_600  # MessageRetentionPeriod bounds (1 minute to 14 days), same reference
QUIET = "ignore"  # missing data: the queue is inactive (module docstring); the alarm keeps its state

QUEUE_ONLY = ("oldest_message", "backlog")  # a queue's own consumer falling behind
DEAD_LETTER_ONLY = ("dead_letters",)


@dataclass(frozen=True)
class SqsQueueOptions:
    queue_name: str = field(metadata=doc("Name of the existing queue (the QueueName dimension; a FIFO queue's ends in .fifo)."))
    dead_letter: bool = field(default=False, metadata=doc(
        "The queue is a dead-letter queue: alarm on any message in it instead of on age and backlog."))
    retention_seconds: int = field(default=DEFAULT_RETENTION, metadata=doc(
        "The queue's MessageRetentionPeriod: the oldest-message alarm fires at half of it, while there is time to "
        "act before SQS deletes the message.", unit="s", minimum=RETENTION_MIN, maximum=RETENTION_MAX))


@component("sqs_queue")
class SqsQueue(Component[SqsQueueOptions]):
    Options = SqsQueueOptions
    title = "Amazon SQS queue (or dead-letter queue)"
    docs_url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
    dimension_names = ("QueueName",)
    names: ClassVar[Mapping[str, NameOption]] = {
        "queue_name": NameOption(r"[A-Za-z0-9_-]{1,75}\.fifo|[A-Za-z0-9_-]{1,80}",
                                 "an SQS queue name: at most 80 letters, digits, '-' and '_' (a FIFO queue's ends in "
                                 "'.fifo')", "the queue name (the last part of its URL or ARN)"),
    }
    # Ref is the URL (also a stack's physical ID; the name is its last path segment, in AWS's and in LocalStack's path-style
    # URLs alike); GetAtt QueueName is the name.
    bindings: ClassVar[Mapping[str, Binding]] = {
        "AWS::SQS::Queue": Binding({"queue_name": "${%s.QueueName}"}, physical="queue_name",
                                   physical_prefix=r"^https?://.*/"),
    }
    # ListQueues returns queue URLs (the name is the last path segment; a stack's physical ID is the URL itself).
    inventory = Inventory("SQS queues", "queue_name", "sqs", "list_queues", "QueueUrls", name_after="/",
                          arn_format="arn:{partition}:sqs:{region}:{account}:{name}", physical_is_item=True)
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::SQS::QueuePolicy": "a queue's permissions: the queue is watched",
        "AWS::SQS::QueueInlinePolicy": "a queue's permissions: the queue is watched",
    }
    example = "- kind: sqs_queue\n  name: scoring-failures\n  queue_name: scoring-requests-dlq\n  dead_letter: true\n"
    alarms = (
        AlarmDef(
            "oldest_message", "OldestMessageAge",
            Metric(NAMESPACE, "ApproximateAgeOfOldestMessage", "Maximum", unit="s"),
            AlarmPolicy(">=", None, period=300, treat_missing_data=QUIET),
            AlarmDocs(
                why="the oldest message has waited half the queue's retention period; SQS deletes it, unprocessed, when "
                    "the period ends. The consumer stopped, is failing on it, or cannot keep up",
                first_step="check the consumer (its errors, throttles, concurrency; for a Lambda trigger its event source "
                           "mapping's state) and whether one message keeps failing",
                source=RECOMMENDED,
                caveat="Half of retention_seconds unless `alarms: {oldest_message: {threshold: <seconds>}}` sets a latency "
                       "objective. A message received 3 or more times and not deleted is left out until consumed."),
        ),
        AlarmDef(
            "backlog", "Backlog",
            Metric(NAMESPACE, "ApproximateNumberOfMessagesVisible", "Maximum"),
            AlarmPolicy(">", 1000, period=300, evaluation_periods=3, datapoints_to_alarm=3, severity="warning",
                        treat_missing_data=QUIET),
            AlarmDocs(
                why="more than 1,000 messages have been waiting for 15 minutes: producers outpace the consumer",
                first_step="compare the send rate with the consumer's throughput and scale the consumer",
                source=RECOMMENDED,
                caveat="Set `alarms: {backlog: {threshold: N}}` to the backlog your consumer clears in a few minutes."),
        ),
        AlarmDef(
            "dead_letters", "DeadLetters",
            Metric(NAMESPACE, "ApproximateNumberOfMessagesVisible", "Maximum"),
            AlarmPolicy(">", 0, period=300, treat_missing_data=QUIET),
            AlarmDocs(
                why="messages arrived in a dead-letter queue: each is work that failed every retry and is now waiting "
                    "for someone (it is deleted when the retention period ends)",
                first_step="read one message (aws sqs receive-message) and the sender's logs for the failure, fix it, "
                           "then redrive the messages (aws sqs start-message-move-task)",
                caveat="NumberOfMessagesSent does not count messages moved in by a redrive policy, so the alarm watches "
                       "the messages in the queue. It stays in ALARM while messages remain, until the queue is drained."),
        ),
    )

    def watched(self, o: SqsQueueOptions) -> str:
        return f"SQS {'dead-letter ' if o.dead_letter else ''}queue {o.queue_name}"

    def targets(self, o: SqsQueueOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"QueueName": o.queue_name})]

    def applies(self, o: SqsQueueOptions, alarm: AlarmDef) -> bool:
        """A dead-letter queue is not consumed: its age and backlog grow by design, any message is the signal."""
        return alarm.key in (DEAD_LETTER_ONLY if o.dead_letter else QUEUE_ONLY)

    def default_threshold(self, o: SqsQueueOptions, alarm: AlarmDef) -> float | None:
        if alarm.key == "oldest_message":
            return o.retention_seconds // 2
        return alarm.policy.threshold

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        senders = sorted(set(dead_letter_senders(resource.app, resource.logical)))
        retention = resource.properties.get("MessageRetentionPeriod")
        if senders:
            lines = [f"    dead_letter: true   # the dead-letter queue of {'; '.join(senders)}: alarm on any message"]
        elif isinstance(retention, int) and not isinstance(retention, bool) and RETENTION_MIN <= retention <= RETENTION_MAX:
            lines = [f"    retention_seconds: {retention}   # MessageRetentionPeriod: the oldest-message alarm at half of it"]
        elif retention is None:
            lines = ["    # SQS's default retention (4 days): the oldest-message alarm at 2 days"]
        else:
            lines = ["    # MessageRetentionPeriod is set by a parameter or expression: give retention_seconds "
                     "(the oldest-message alarm fires at half of it)"]
        return lines


def _at(value: Any, *path: str) -> Any:
    for key in path:
        value = mapping(value).get(key)
    return value


def _points_at(value: Any, queue: str) -> bool:
    """An ARN value that names `queue`: `!GetAtt Q.Arn` (or a Ref), or `!Sub` text holding `${Q.Arn}`."""
    if ref_target(value) == queue:
        return True
    sub = mapping(value).get("Fn::Sub")
    text = sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) and sub and isinstance(sub[0], str) else ""
    return "${" + queue + ".Arn}" in text


def dead_letter_senders(app: AppTemplate, queue: str) -> Iterator[str]:
    """`<logical ID> (<what points at the queue>)` for every resource of `app` that sends its failures to `queue`."""
    for view in app.views():
        props, who = view.properties, view.logical
        found: list[str] = []
        if view.type in ("AWS::SQS::Queue", "AWS::SNS::Subscription"):
            found += ["RedrivePolicy"] if _points_at(_at(props, "RedrivePolicy", "deadLetterTargetArn"), queue) else []
        elif view.type == "AWS::Lambda::Function":
            found += ["DeadLetterConfig"] if _points_at(_at(props, "DeadLetterConfig", "TargetArn"), queue) else []
        elif view.type in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
            if _points_at(_at(props, "DestinationConfig", "OnFailure", "Destination"), queue):
                found.append("OnFailure destination")
        elif view.type == "AWS::Events::Rule":
            targets = props.get("Targets")
            found += [f"target {_at(t, 'Id') if isinstance(_at(t, 'Id'), str) else '?'} DeadLetterConfig"
                      for t in (targets if isinstance(targets, list) else []) if _points_at(_at(t, "DeadLetterConfig", "Arn"), queue)]
        elif view.type == "AWS::Serverless::Function":
            found += ["DeadLetterQueue"] if _points_at(_at(props, "DeadLetterQueue", "TargetArn"), queue) else []
            if _points_at(_at(props, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination"), queue):
                found.append("EventInvokeConfig OnFailure")
            for name, event in mapping(props.get("Events")).items():
                eprops = _at(event, "Properties")
                if _points_at(_at(eprops, "DeadLetterConfig", "Arn"), queue):
                    found.append(f"event {name} DeadLetterConfig")
                if _points_at(_at(eprops, "DestinationConfig", "OnFailure", "Destination"), queue):
                    found.append(f"event {name} OnFailure")
        yield from (f"{who} ({what})" for what in found)
