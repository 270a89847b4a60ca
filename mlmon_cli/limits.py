"""Every CloudWatch, CloudFormation, EventBridge and SNS limit and rule mlmon relies on, in one place.

The lowest layer: constants and small pure checks, imported by the spec validation, the
component kinds, the builder and lint alike, so a rule cannot be written twice and disagree.
Sources: ../shared/reference/aws-monitoring-facts.md and the service quotas pages of each service;
name grammars from each service's API reference (the Name field's pattern); input bounds are mlmon's own.
"""

from __future__ import annotations

import math
import re

# --- CloudFormation -------------------------------------------------------------------------
MAX_RESOURCES = 500  # resources per template
MAX_OUTPUTS = 200  # outputs per template
MAX_PARAMETERS = 200  # parameters per template
MAX_TEMPLATE_BYTES = 1_000_000  # template body via S3
INLINE_TEMPLATE_BYTES = 51_200  # template body passed inline (TemplateBody)
LOGICAL_ID_MAX = 255
DESCRIPTION_MAX = 1024  # template Description (bytes; also an output's Description)
OUTPUT_TEXT_MAX = 1024  # mlmon's own bound on an output's text Value: an output description's length

# --- CloudWatch alarms ----------------------------------------------------------------------
ALARM_NAME_MAX = 255
ALARM_DESCRIPTION_MAX = 1024
MAX_ALARM_ACTIONS = 5  # per action list (AlarmActions, OKActions, InsufficientDataActions)
MAX_DIMENSIONS = 30
DIMENSION_VALUE_MAX = 1024
ONE_DAY = 86_400  # evaluation window limit for periods under an hour
SEVEN_DAYS = 604_800  # evaluation window limit for any alarm
HIGH_RESOLUTION_PERIODS = (10, 30)
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
STANDARD_STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
STATISTIC = re.compile(r"^(Sum|Average|Maximum|Minimum|SampleCount|(p|tm|wm|tc|ts)(100|\d{1,2}(\.\d{1,2})?))$")
COMPARISONS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}

MAX_METRIC_MATH_METRICS = 10  # metrics in one metric-math alarm (hard limit)
GET_METRIC_DATA_MAX_DATAPOINTS = 100_800  # data points one GetMetricData call returns
GET_METRIC_DATA_MAX_QUERIES = 500  # MetricDataQueries in one GetMetricData call
METRIC_QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]{0,254}$")  # MetricDataQuery Id
ANOMALY_OPERATORS = {  # anomaly-band alarms: ThresholdMetricId, no Threshold
    "above": "GreaterThanUpperThreshold",
    "below": "LessThanLowerThreshold",
    "both": "LessThanLowerOrGreaterThanUpperThreshold",
}

# --- CloudWatch composite alarms ------------------------------------------------------------
MAX_COMPOSITE_CHILDREN = 100
MAX_COMPOSITE_RULE_CHARS = 10_240

# --- CloudWatch dashboards and logs ---------------------------------------------------------
MAX_DASHBOARD_COMPONENTS = 75  # mlmon's own choice: keeps a dashboard body well under 1 MB and readable
MAX_ALARMS_PER_WIDGET = 100
MAX_FILTER_PATTERN = 1024
DASHBOARD_NAME_MAX = 255
FILTER_NAME_MAX = 512  # metric filter name
QUERY_NAME_MAX = 255  # Logs Insights query definition name
MUTE_RULE_NAME_MAX = 255  # AlarmMuteRule Name

# --- SNS and AWS Chatbot ---------------------------------------------------------------------
TOPIC_NAME_MAX = 256
TOPIC_DISPLAY_NAME_MAX = 100
CHATBOT_CONFIGURATION_NAME_MAX = 128

# --- EventBridge ----------------------------------------------------------------------------
EVENT_BUS_NAME_MAX = 256
RULE_NAME_MAX = 64
TARGET_ID_MAX = 64
MAX_RULE_TARGETS = 5

# --- CloudFormation StackSets ---------------------------------------------------------------
MAX_OUS_PER_OPERATION = 50  # CreateStackInstances: at most 50 OUs (aws-ml-facts-3 §4)

# --- Step Functions -------------------------------------------------------------------------
STATE_MACHINE_NAME_MAX = 80
EXPRESS_MAX_SECONDS = 300


def period_problem(period: int) -> str:
    """CloudWatch accepts 10, 30 (high resolution) or a multiple of 60 seconds."""
    if period in HIGH_RESOLUTION_PERIODS or (period > 0 and period % 60 == 0):
        return ""
    return f"must be 10, 30 or a multiple of 60 seconds, got {period}"


def alarm_window_problems(period: int, evaluation_periods: int, datapoints_to_alarm: int) -> list[str]:
    """Cross-field rules CloudWatch enforces at PutMetricAlarm time (cfn-lint does not check them)."""
    problems = []
    if datapoints_to_alarm > evaluation_periods:
        problems.append(f"datapoints_to_alarm ({datapoints_to_alarm}) must not exceed evaluation_periods ({evaluation_periods})")
    limit = ONE_DAY if period < 3600 else SEVEN_DAYS
    if period * evaluation_periods > limit:
        problems.append(f"period x evaluation_periods = {period * evaluation_periods} s exceeds CloudWatch's "
                        f"{limit} s limit for {'periods under an hour' if limit == ONE_DAY else 'any alarm'}")
    return problems


def substitution_problem(text: str) -> str:
    """`${...}` in a CloudFormation string is read as a substitution (in Fn::Sub) or flagged by cfn-lint
    (E1029) elsewhere; mlmon writes user text into both, so it refuses the sequence outright."""
    if "${" in text:
        return "contains '${', which CloudFormation would read as a substitution; write '$ {' or remove it"
    return ""


# ---------------------------------------------------------------- input bounds (mlmon's own)
MAX_SPEC_BYTES = 2_000_000  # a spec of 500 components is ~100 KB; anything near this is a mistake
MAX_NESTING_DEPTH = 64  # the deepest bundled spec nests 9 levels
MAX_EXPANDED_NODES = 200_000  # nodes after alias expansion ("billion laughs" stops here)
MAX_ASL_BYTES = 1_048_576  # Step Functions: a definition is at most 1 MiB
MAX_ASL_NESTING_DEPTH = 100  # Step Functions definitions are a few levels deep; JSON parsers recurse
MAX_INT_DIGITS = 30  # larger integers are no count, period or size AWS accepts

# ---------------------------------------------------------------- YAML tags
# CloudFormation short-form intrinsic functions: spec.cfn_values gives them a meaning in name fields
# and reports them anywhere else; every other tag is refused by spec.nodes.
CFN_SHORT_TAGS = frozenset(
    "!" + name for name in (
        "Ref", "Sub", "GetAtt", "ImportValue", "Join", "Select", "Split", "If", "Equals", "And", "Or", "Not",
        "FindInMap", "Base64", "Cidr", "GetAZs", "Condition", "Transform", "ToJsonString", "Length",
    )
)
CORE_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
MAP_TAG, SEQ_TAG, MERGE_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge"

# ---------------------------------------------------------------- text
# No control characters in any value AWS reads as a name, ARN, address or URL (C0, DEL, C1,
# NEL, line/paragraph separators, BOM, bidi overrides).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]")
CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]")  # \t \n allowed
SUBSTITUTION = "${"  # Fn::Sub would resolve it (see substitution_problem)


def has_substitution(text: str) -> bool:
    return SUBSTITUTION in text


def is_finite(value: float) -> bool:
    return math.isfinite(value)


# ---------------------------------------------------------------- addresses and endpoints
EMAIL_MAX = 254  # RFC 5321 path limit
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")
HTTPS_URL_MAX = 2048
HTTPS_URL = re.compile(rf"https://(?:{_LABEL}\.)*{_LABEL}(?::\d{{1,5}})?(?:[/?#][!-~]*)?")  # no userinfo, no spaces
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*@", re.I)

# ---------------------------------------------------------------- names (per service)
SLACK_WORKSPACE_ID = re.compile(r"[0-9A-Z]{1,255}")  # Chatbot SlackWorkspaceId
SLACK_CHANNEL_ID = re.compile(r"[A-Za-z0-9]{1,255}")  # Chatbot SlackChannelId
LOG_GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")  # CloudWatch Logs logGroupName
LOG_GROUP_NAME_MAX = 512
STATE_NAME_MAX = 80  # Step Functions state names
MIN_IAM_SCOPE_PREFIX = 3  # a name prefix that scopes IAM (`training-job/<prefix>*`) is at least this long

# CloudFormation parameter (and logical ID) names: alphanumeric, at most 255 characters.
CFN_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9]{1,255}$")

# --- 2026 CloudWatch features (aws-ml-facts-2.md §8) -------------------------------------
# WarmUpConfiguration (Alarm, LogAlarm): 1 to 2,880 minutes; the API requires the duration.
WARM_UP_MINUTES_MIN = 1
WARM_UP_MINUTES_MAX = 2_880

# AWS::CloudWatch::AlarmMuteRule: the API takes at most 100 alarm names per rule (the CFN schema
# allows 500, so 101 to 500 pass cfn-lint and fail at deploy). Expression cron(...) or at(...),
# 1 to 256 characters; Duration ISO 8601 from PT1M to P15D.
MUTE_RULE_MAX_ALARMS = 100
MUTE_EXPRESSION_MAX = 256
MUTE_DURATION_MIN_MINUTES = 1
MUTE_DURATION_MAX_MINUTES = 15 * 24 * 60
MUTE_DESCRIPTION_MAX = 1_024
_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
_MUTE_SCHEDULE = re.compile(r"^(cron|at)\(.+\)$")

# CompositeAlarm ActionsSuppressor: wait and extension periods in seconds (both required with it).
SUPPRESSOR_WAIT_SECONDS = 120
SUPPRESSOR_EXTENSION_SECONDS = 300


def duration_minutes(text: str) -> int | None:
    """Minutes of an ISO 8601 duration of days, hours and minutes (P1D, PT2H, PT90M), or None."""
    m = _ISO_DURATION.match(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    return days * 1440 + hours * 60 + minutes


def mute_schedule_problem(expression: str) -> str:
    """Why a mute rule's schedule expression is refused ('' when fine)."""
    if not _MUTE_SCHEDULE.match(expression):
        return "expected cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or at(<yyyy-mm-ddThh:mm:ss>)"
    if len(expression) > MUTE_EXPRESSION_MAX:
        return f"at most {MUTE_EXPRESSION_MAX} characters"
    return ""


def mute_duration_problem(text: str) -> str:
    """Why a mute rule's duration is refused ('' when fine)."""
    minutes = duration_minutes(text)
    if minutes is None:
        return "expected an ISO 8601 duration such as PT2H, PT90M or P1D"
    if not MUTE_DURATION_MIN_MINUTES <= minutes <= MUTE_DURATION_MAX_MINUTES:
        return "must be from PT1M to P15D"
    return ""
