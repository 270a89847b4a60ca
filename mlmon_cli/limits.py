"""AWS and input limits as data: the lowest layer (imports nothing from mlmon_cli).

A flat module of constants and small pure functions, so every rule lives in exactly one place.
Sources: CloudWatch, SNS, IAM, Step Functions, SageMaker and Chatbot API references (each
grammar names its API field); input bounds are mlmon's own.
"""

from __future__ import annotations

import math
import re

# ---------------------------------------------------------------- input bounds (mlmon's own)
MAX_SPEC_BYTES = 2_000_000  # a spec of 500 components is ~100 KB; anything near this is a mistake
MAX_NESTING_DEPTH = 64  # the deepest bundled spec nests 9 levels
MAX_EXPANDED_NODES = 200_000  # nodes after alias expansion ("billion laughs" stops here)
MAX_ASL_BYTES = 1_048_576  # Step Functions: a definition is at most 1 MiB
MAX_INT_DIGITS = 30  # larger integers are no count, period or size AWS accepts

# ---------------------------------------------------------------- YAML tags
# CloudFormation short-form intrinsic functions: a located "not supported here" error for now.
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
SUBSTITUTION = "${"  # Fn::Sub would resolve it; in literal text it is written `${!`


def has_substitution(text: str) -> bool:
    return SUBSTITUTION in text


def sub_literal(text: str) -> str:
    """`text` as a literal inside an Fn::Sub string: `${` becomes `${!` (CloudFormation's escape)."""
    return text.replace("${", "${!")


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
DIMENSION_VALUE_MAX = 1024  # CloudWatch Dimension.Value
LOG_GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")  # CloudWatch Logs logGroupName
LOG_GROUP_NAME_MAX = 512
STATE_NAME_MAX = 80  # Step Functions state names
MIN_IAM_SCOPE_PREFIX = 3  # a name prefix that scopes IAM (`training-job/<prefix>*`) is at least this long

# Names of existing resources, by the option that holds them: (pattern, max length, what the user reads).
# From each service's API reference (the Name field's pattern and length constraints).
_SFN_FORBIDDEN = r"\s<>{}\[\]?*\"#%\\^|~`$&,;:/"
NAME_GRAMMARS: dict[str, tuple[re.Pattern[str], str]] = {
    "function_name": (re.compile(r"[A-Za-z0-9_-]{1,64}"), "a Lambda function name: at most 64 letters, digits, '-' and '_'"),
    "job_name": (re.compile(r"[^\x00-\x1f\x7f]{1,255}"), "a Glue job name: at most 255 characters, no control characters"),
    "endpoint_name": (re.compile(r"[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62}"),
                      "a SageMaker endpoint name: at most 63 letters, digits and '-', starting and ending with a letter or digit"),
    "variants": (re.compile(r"[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62}"),
                 "a SageMaker variant name: at most 63 letters, digits and '-', starting and ending with a letter or digit"),
    "job_name_prefix": (re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}"),
                        "a SageMaker job name prefix: at most 63 letters, digits and '-', starting with a letter or digit"),
    "pipeline_name": (re.compile(r"[A-Za-z0-9.@_-]{1,100}"), "a pipeline name: at most 100 letters, digits, '.', '@', '-' and '_'"),
    "project_name": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}"),
                     "a CodeBuild project name: 2 to 255 letters, digits, '-' and '_', starting with a letter or digit"),
    "state_machine_name": (re.compile(rf"[^{_SFN_FORBIDDEN}\x00-\x1f\x7f-\x9f]{{1,80}}"),
                           "a state machine name: at most 80 characters, no spaces, brackets, wildcards or \" # % \\ ^ | ~ ` $ & , ; : /"),
}


def name_problem(option: str, value: str) -> str:
    """Why `value` is not a valid name for `option` (see NAME_GRAMMARS), or ''."""
    grammar = NAME_GRAMMARS.get(option)
    if grammar is None or grammar[0].fullmatch(value):
        return ""
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f"'{shown}' is not {grammar[1]}"
