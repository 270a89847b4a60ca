"""The notification path: a KMS-encrypted SNS topic that CloudWatch and EventBridge can publish to.

Why a customer-managed key: the AWS-managed `alias/aws/sns` key's policy cannot be edited to let
cloudwatch.amazonaws.com and events.amazonaws.com use it, so alarms and rules silently fail to
deliver to a topic encrypted with it. Why exactly one TopicPolicy: a TopicPolicy replaces the
topic's whole access policy, and two on one topic overwrite each other.
"""

from __future__ import annotations

from typing import Any

from troposphere import AccountId, GetAtt, Output, Ref, Sub, Template
from troposphere.awslambda import Permission
from troposphere.chatbot import SlackChannelConfiguration
from troposphere.cloudwatch import Alarm, MetricDimension
from troposphere.iam import ManagedPolicy, Policy, Role
from troposphere.kms import Alias, Key
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from .. import limits, naming
from ..components import REGISTRY
from ..components.base import AlarmDef, AlarmDocs, AlarmPolicy, Metric
from ..spec.model import Route, Spec

# SNS payload filtering: deliver only messages whose JSON body has `AlarmName` (CloudWatch alarm
# notifications); the EventBridge rules' readable texts are not JSON and never match
# (sns/latest/dg/message-filtering.html: "filter policies for the message body assume that the
# message payload is a well-formed JSON object").
ALARM_PAYLOADS_ONLY = {"AlarmName": [{"exists": True}]}
KEY_ID = naming.ALERTS_KEY_ID
TOPIC_ID = naming.ALERTS_TOPIC_ID
WARNING_TOPIC_ID = naming.WARNING_TOPIC_ID
HISTORY_TOPIC_ID = naming.HISTORY_TOPIC_ID


def add_notifications(t: Template, spec: Spec) -> dict[str, Any]:
    """Add topics (one per route), key, the one topic policy and subscriptions.

    Returns the topic ARN expression per severity: warning alarms use the warning route's topic
    when the spec gives one, else the default topic; and under "history" the alarm-history topic
    (no subscriber: the action of alarms that reach people through a composite, see core/rollup.py).
    """
    n = spec.notifications
    routes: list[tuple[str, Route, str]] = [("critical", n, TOPIC_ID)]
    if n.warning:
        routes.append(("warning", n.warning, WARNING_TOPIC_ID))
    topics: dict[str, Any] = {}
    created = []
    _add_key(t, spec)
    for severity, route, logical in routes:
        if route.topic_arn:
            topics[severity] = route.topic_arn
        else:
            suffix = naming.ROUTE_TOPIC_SUFFIX[severity]
            t.add_resource(Topic(logical, TopicName=naming.topic_name(spec.solution, suffix),
                                 DisplayName=naming.topic_display_name(spec.solution, suffix), KmsMasterKeyId=Ref(KEY_ID)))
            topics[severity] = Ref(logical)
            created.append(Ref(logical))
        _add_subscribers(t, spec, route, topics[severity], naming.ROUTE_ID_PREFIX[severity])
    t.add_resource(Topic(HISTORY_TOPIC_ID, TopicName=naming.topic_name(spec.solution, naming.HISTORY_TOPIC_SUFFIX),
                         DisplayName=naming.topic_display_name(spec.solution, "alarm history"), KmsMasterKeyId=Ref(KEY_ID)))
    topics["history"] = Ref(HISTORY_TOPIC_ID)
    created.append(Ref(HISTORY_TOPIC_ID))
    t.add_resource(TopicPolicy(naming.TOPIC_POLICY_ID, Topics=created, PolicyDocument=_topic_policy(created)))
    topics.setdefault("warning", topics["critical"])
    t.add_output(Output(naming.ALERT_TOPIC_OUTPUT, Description="SNS topic for critical alarms (and all, without a warning route)",
                        Value=topics["critical"]))
    if n.warning:
        t.add_output(Output(naming.WARNING_TOPIC_OUTPUT, Description="SNS topic for warning alarms", Value=topics["warning"]))
    emails = [*n.emails, *(n.warning.emails if n.warning else ())]
    if emails:
        t.add_output(
            Output(
                naming.CONFIRM_SUBSCRIPTIONS_OUTPUT,
                Description="Email subscriptions stay PendingConfirmation until each address confirms",
                Value=f"Each address must click the link in the 'AWS Notification - Subscription Confirmation' "
                f"email within 2 days, or it receives nothing: {', '.join(dict.fromkeys(emails))}"[:limits.OUTPUT_TEXT_MAX],
            )
        )
    return topics


def _add_subscribers(t: Template, spec: Spec, route: Route, topic: Any, prefix: str) -> None:
    """Email, HTTPS (PagerDuty, a webhook), Lambda and AWS Chatbot Slack subscribers of one route."""
    for email in route.emails:
        t.add_resource(SubscriptionResource(naming.subscription_id(prefix, "Email", email), TopicArn=topic, Protocol="email", Endpoint=email))
    for url in route.https_endpoints:  # a pager parses alarm-state payloads only: the readable event texts go to people
        t.add_resource(SubscriptionResource(naming.subscription_id(prefix, "Https", url), TopicArn=topic, Protocol="https", Endpoint=url,
                                            FilterPolicyScope="MessageBody", FilterPolicy=ALARM_PAYLOADS_ONLY))
    for arn in route.lambda_arns:
        t.add_resource(SubscriptionResource(naming.subscription_id(prefix, "Lambda", arn), TopicArn=topic, Protocol="lambda", Endpoint=arn))
        t.add_resource(Permission(naming.lambda_permission_id(prefix, arn), Action="lambda:InvokeFunction", FunctionName=arn,
                                  Principal="sns.amazonaws.com", SourceArn=topic))
    if route.slack:
        role = route.slack.iam_role_arn
        guardrail = naming.slack_guardrail_id(prefix)
        t.add_resource(ManagedPolicy(  # without GuardrailPolicies Chatbot applies AdministratorAccess to the channel
            guardrail, Description=f"{spec.solution}: the most any role may do from the Slack channel (alarm notifications)",
            PolicyDocument=_chatbot_notifications_policy(),
        ))
        if role is None:
            t.add_resource(Role(
                naming.slack_role_id(prefix),
                Description="AWS Chatbot channel role: render CloudWatch alarm notifications only. [unverified] that Chatbot "
                            "sets aws:SourceAccount when assuming it; settle with: mlmon deploy, then mlmon fire and check Slack",
                AssumeRolePolicyDocument={"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": AccountId}}}]},
                Policies=[Policy(PolicyName="chatbot-notifications", PolicyDocument=_chatbot_notifications_policy())],
            ))
            role = GetAtt(naming.slack_role_id(prefix), "Arn")
        t.add_resource(SlackChannelConfiguration(
            naming.slack_channel_id(prefix), ConfigurationName=naming.chatbot_configuration_name(spec.solution, prefix), IamRoleArn=role,
            SlackWorkspaceId=route.slack.workspace_id, SlackChannelId=route.slack.channel_id, SnsTopicArns=[topic],
            LoggingLevel="ERROR", GuardrailPolicies=[Ref(guardrail)],
        ))


def _chatbot_notifications_policy() -> dict[str, Any]:
    """AWS Chatbot's "Notification permissions" template: read the alarms it renders, nothing else
    (no logs, no Logs Insights, no live tail)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"], "Resource": "*"}]}


ALERT_PATH_SUFFIXES = {TOPIC_ID: "NotificationsFailed", WARNING_TOPIC_ID: "WarningNotificationsFailed"}


def add_alert_path_alarms(t: Template, spec: Spec, topics: dict[str, Any]) -> None:
    """Watch the topics mlmon created: deliveries that failed (e.g. a broken HTTPS endpoint or key policy).

    Shaped to fire on ONE failed delivery (aws-ml-facts-2.md §10): SNS counts an email, SQS or
    Lambda delivery once when it gives up, so AWS's recommended 5-of-5-minutes shape never
    fires for a single failure. Sum >= 1 in 1 of 1 periods of 60 s, notBreaching (sparse).
    Each alarm notifies the other route's topic when there is one (a broken topic cannot report
    itself), else its own (its other subscribers still hear it).
    """
    for logical, suffix in ALERT_PATH_SUFFIXES.items():
        if logical not in t.resources:
            continue
        alarm_logical = naming.alert_path_alarm_id(suffix)
        watched = Ref(logical)
        other = next((topic for topic in (topics["critical"], topics["warning"]) if topic != watched), watched)
        name = naming.alert_path_alarm_name(spec.solution, suffix)
        t.add_resource(Alarm(
            alarm_logical, AlarmName=name,
            AlarmDescription=(f"[critical] SNS topic {spec.solution} {suffix}: a delivery to a subscriber failed (SNS "
                              "counts an email, SQS or Lambda message once when it stops retrying, up to 6 hours after "
                              "the publish; an HTTPS message once per failed attempt), so someone did not hear an alarm. "
                              "First step: check the topic's delivery status logs and each subscription (HTTPS endpoint "
                              "up, Lambda permission, confirmed email). Alarm: Sum >= 1 in 1 of 1 periods of 60 s, "
                              "missing data notBreaching. Source: mlmon default; AWS's recommended 5-of-5-minutes shape "
                              "cannot fire on a single failure."),
            Namespace="AWS/SNS", MetricName="NumberOfNotificationsFailed",
            Dimensions=[MetricDimension(Name="TopicName", Value=GetAtt(logical, "TopicName"))],
            Statistic="Sum", Period=60, EvaluationPeriods=1, DatapointsToAlarm=1, Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching", ActionsEnabled=True,
            AlarmActions=[other],
            **({"OKActions": [other]} if spec.notifications.ok_notifications else {}),
            **({"InsufficientDataActions": [topics["history"]]} if spec.notifications.insufficient_data_actions else {}),
        ))


FAILED_INVOCATIONS = Metric("AWS/Events", "FailedInvocations", "Sum", dimensions=())


def failed_invocations(alarm: AlarmDef) -> AlarmDef:
    """The delivery-failure twin of an event alarm: its rule's FailedInvocations (emitted only when non-zero)."""
    return AlarmDef(
        f"{alarm.key}_delivery", f"{alarm.suffix}Delivery",
        FAILED_INVOCATIONS,
        AlarmPolicy(">=", 1, severity=alarm.policy.severity),
        AlarmDocs(why="the rule matched a failure but could not deliver its message to the topic (topic policy or KMS key "
                      "policy broken), so nobody read it",
                  first_step="check the topic policy allows events.amazonaws.com and the key policy lets it use the key"),
    )


def _add_key(t: Template, spec: Spec) -> None:
    """The customer-managed key of the topics (and of generated workflows' log groups).

    Passes AWS Control Tower CT.KMS.PR.3: the administrators' `kms:*` includes CreateGrant, so a
    Deny statement limits grants to AWS services (BoolIfExists GrantIsForAWSResource and
    PrincipalIsAWSService both false). EventBridge's statement has no condition: SNS does not
    support aws:SourceAccount/SourceArn/SourceOrgID for EventBridge-to-encrypted-topic delivery
    (aws-ml-facts-2.md §9.2); an encryption-context condition is [unverified] for it.
    """
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
                    *_logs_statement(spec),
                    {
                        "Sid": "GrantsOnlyForAWSResources",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "kms:CreateGrant",
                        "Resource": "*",
                        "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
                    },
                ],
            },
        )
    )
    t.add_resource(Alias(naming.ALERTS_KEY_ALIAS_ID, AliasName=naming.key_alias(spec.solution), TargetKeyId=Ref(KEY_ID)))
    t.add_output(Output(naming.ALERTS_KEY_OUTPUT, Description="KMS key encrypting the alert topic", Value=GetAtt(KEY_ID, "Arn")))


def _logs_statement(spec: Spec) -> list[dict[str, Any]]:
    """CloudWatch Logs may use the key for the log groups a kind creates (generated workflows; CT.CLOUDWATCH.PR.3)."""
    if not any(REGISTRY[c.kind].log_groups_use_alert_key for c in spec.components):
        return []
    return [{
        "Sid": "CloudWatchLogsEncrypt",
        "Effect": "Allow",
        "Principal": {"Service": Sub("logs.${AWS::Region}.amazonaws.com")},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                  Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")}},
    }]


def _topic_policy(topics: list[Any]) -> dict[str, Any]:
    topic: Any = topics[0] if len(topics) == 1 else topics
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
                # No Condition: "You can't use Condition blocks in Amazon SNS topic policies for
                # EventBridge" (EventBridge UG, aws-ml-facts-2.md §9.1).
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


