"""The notification path: a KMS-encrypted SNS topic that CloudWatch and EventBridge can publish to.

Why a customer-managed key: the AWS-managed `alias/aws/sns` key's policy cannot be edited to let
cloudwatch.amazonaws.com and events.amazonaws.com use it, so alarms and rules silently fail to
deliver to a topic encrypted with it. Why exactly one TopicPolicy: a TopicPolicy replaces the
topic's whole access policy, and two on one topic overwrite each other.
"""

from __future__ import annotations

from typing import Any

from troposphere import AccountId, GetAtt, Output, Ref, Sub, Template
from troposphere.kms import Alias, Key
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from ..spec.model import Spec
from .naming import stable_hash

KEY_ID = "AlertsKey"
TOPIC_ID = "AlertsTopic"


def add_notifications(t: Template, spec: Spec) -> Any:
    """Add topic, key, policy and subscriptions; return what alarm actions should point at."""
    if spec.notifications.topic_arn:
        topic: Any = spec.notifications.topic_arn
    else:
        _add_key(t, spec)
        t.add_resource(
            Topic(
                TOPIC_ID,
                TopicName=f"{spec.solution}-alerts",
                DisplayName=f"{spec.solution} alerts"[:100],
                KmsMasterKeyId=Ref(KEY_ID),
            )
        )
        topic = Ref(TOPIC_ID)
        t.add_resource(TopicPolicy("AlertsTopicPolicy", Topics=[topic], PolicyDocument=_topic_policy(topic)))
    for email in spec.notifications.emails:
        t.add_resource(
            SubscriptionResource(f"AlertsEmail{stable_hash(email)}", TopicArn=topic, Protocol="email", Endpoint=email)
        )
    t.add_output(Output("AlertTopicArn", Description="SNS topic every alarm and rule notifies", Value=topic))
    if spec.notifications.emails:
        addresses = ", ".join(spec.notifications.emails)
        t.add_output(
            Output(
                "ConfirmSubscriptions",
                Description="Email subscriptions stay PendingConfirmation until each address confirms",
                Value=f"Each address must click the link in the 'AWS Notification - Subscription Confirmation' "
                f"email within 2 days, or it receives nothing: {addresses}"[:1024],
            )
        )
    return topic


def _add_key(t: Template, spec: Spec) -> None:
    use = ["kms:Decrypt", "kms:GenerateDataKey*"]
    t.add_resource(
        Key(
            KEY_ID,
            Description=f"Encrypts the {spec.solution} alert topic; lets CloudWatch alarms and EventBridge rules publish",
            EnableKeyRotation=True,
            KeyPolicy={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AccountAdministersKey",
                        "Effect": "Allow",
                        "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "CloudWatchAlarmsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": use,
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": AccountId}},
                    },
                    {
                        # No SourceAccount/SourceArn condition: SNS does not support them for
                        # EventBridge-to-encrypted-topic delivery.
                        "Sid": "EventBridgeRulesPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": use,
                        "Resource": "*",
                    },
                ],
            },
        )
    )
    t.add_resource(Alias("AlertsKeyAlias", AliasName=f"alias/{spec.solution}-alerts", TargetKeyId=Ref(KEY_ID)))
    t.add_output(Output("AlertKeyArn", Description="KMS key encrypting the alert topic", Value=GetAtt(KEY_ID, "Arn")))


def _topic_policy(topic: Any) -> dict[str, Any]:
    alarm_arns = Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {"ArnLike": {"aws:SourceArn": alarm_arns}, "StringEquals": {"aws:SourceAccount": AccountId}},
            },
            {
                # AWS documents no Condition for EventBridge on SNS topic policies.
                "Sid": "EventBridgeRulesPublish",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
            },
            {
                "Sid": "AccountManagesTopic",
                "Effect": "Allow",
                "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"],
                "Resource": topic,
            },
        ],
    }


