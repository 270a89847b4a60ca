"""Turn a YAML node tree into the frozen spec model, collecting every problem with its location.

Validation is generic: a component kind's options are checked against its options dataclass
(field types and metadata), its alarm keys against its alarm table. The kinds are passed in (the
spec layer never imports the component layer), so a new kind needs no change here. All problems
are gathered and raised together as one `SpecError`. Checks that need resolved settings or names
(windows, collisions) run next, in core/validate.py, located through `ComponentSpec.locations`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from typing import Any

import yaml

from .. import limits
from ..errors import Location, Problem, SpecError, did_you_mean
from ..limits import MAX_OUS_PER_OPERATION, STATISTIC, period_problem, substitution_problem
from .cfn_values import ARN_FIELDS, is_cfn_value
from .custom import KEY as CUSTOM_KEY
from .custom import parse_custom_alarms
from .fields import threshold_problem
from .kind_facts import NameOption, name_options
from .logs import KEYS as LOG_KEYS
from .logs import log_problems, parse_component_logs
from .model import AlarmDefaults, AlarmOverride, ComponentSpec, Notifications, Route, Spec
from .nodes import node_location
from .organization import (
    ORGANIZATION_ID,
    Organization,
    StackSetTarget,
    account_problem,
    ou_problem,
    region_problem,
)

INVESTIGATION_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:aiops:[a-z0-9-]+:\d{12}:investigation-group[/:][A-Za-z0-9_-]{1,64}")
RESPONSE_PLAN_ARN = re.compile(r"arn:aws[a-z-]*:ssm-incidents::\d{12}:response-plan/[A-Za-z0-9_-]{1,200}")
SOLUTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,39}$")
COMPONENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}\Z")
LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")

TOP_KEYS = ("solution", "description", "owner", "notifications", "defaults", "components", "name_suffix", "organization")
NAME_SUFFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
COMPONENT_KEYS = ("kind", "name", "description", "owner", "enabled", "runbook_url", "alarms", *LOG_KEYS, CUSTOM_KEY)  # every kind
_constructor = yaml.constructor.SafeConstructor()
_MISSING = object()
MISSING = _MISSING  # returned by SpecReader.scalar/typed when a value was invalid (a problem was recorded)
TEXT_KEYS = ("description", "message", "why", "first_step")
_TYPE_WORDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


class SpecReader:
    """Holds the file name and the growing problem list while walking the tree."""

    def __init__(self, file: str, names: typing.Mapping[str, NameOption] | None = None):
        self.file = file
        self.problems: list[Problem] = []
        self.names = names or {}  # every kind's name options (line breaks in them are reported by cfn_values)
        self.parameters: typing.AbstractSet[str] = frozenset()  # the spec's `parameters:` names

    def error(self, node: yaml.Node, path: str, message: str) -> None:
        self.problems.append(Problem(node_location(node, self.file, path), message))

    def mapping(self, node: yaml.Node, path: str, allowed: typing.Iterable[str],
                required: typing.Iterable[str] = ()) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """Check a node is a mapping with known keys; report unknown and missing keys."""
        if self.intrinsic(node, path):
            return None
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, f"expected a mapping, got {_describe(node)}")
            return None
        allowed = list(allowed)
        pairs: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = str(key.value)
            if name not in allowed:
                self.error(key, _join(path, name), f"unknown key '{name}'{did_you_mean(name, allowed)}")
                continue
            pairs[name] = (key, value)
        for name in required:
            if name not in pairs:
                self.error(node, _join(path, name), "missing required key")
        return pairs

    def scalar(self, node: yaml.Node, path: str, expected: type) -> Any:
        """Convert a scalar node to `expected` (str, int, float, bool); report type errors."""
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, path, f"expected {_TYPE_WORDS[expected]}, got {_describe(node)}")
            return _MISSING
        try:
            value = _constructor.construct_object(node)
        except Exception:
            self.error(node, path, f"expected {_TYPE_WORDS[expected]}, got {_describe(node)}")
            return _MISSING
        if isinstance(value, float) and not limits.is_finite(value):
            self.error(node, path, f"must be a finite number, got {node.value}")
            return _MISSING
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = node.value  # a bare 123 as a name is fine as a string
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            self.error(node, path, f"expected {_TYPE_WORDS[expected]}, got {_describe(node)}")
            return _MISSING
        if isinstance(value, str) and expected is str:
            return self._text(node, path, value)
        return value

    def _text(self, node: yaml.Node, path: str, value: str) -> Any:
        """A string value: not blank, no control characters where they do not belong, no stray `${`."""
        if value.strip() == "":
            self.error(node, path, "must not be empty")
            return _MISSING
        if self.control_problem(value, path):
            self.error(node, path, f"contains a control character or line break ('{_short(value)}'); "
                                   + ("only tabs and line breaks are allowed in text" if self.text_field(path) else "write it on one line"))
            return _MISSING
        if not is_cfn_value(node) and (problem := substitution_problem(value)):
            self.error(node, path, problem)
            return _MISSING
        return value

    def control_problem(self, value: str, path: str) -> bool:
        """Control characters (any in a name; all but tabs and line breaks in text). A line break in
        a name field is reported by `cfn_values` already ("a name cannot contain a line break")."""
        if not (limits.CONTROL_IN_TEXT if self.text_field(path) else limits.CONTROL).search(value):
            return False
        key = path.rsplit(".", 1)[-1]
        if (key in self.names and self.names[key].is_name_field) or key in ARN_FIELDS:
            return bool(limits.CONTROL.search(value.replace("\n", "").replace("\r", "")))
        return True

    def intrinsic(self, node: yaml.Node, path: str) -> bool:
        """A CloudFormation tag on a mapping or list (cfn_values gives meaning to strings in name fields only)."""
        if isinstance(node, yaml.ScalarNode) or node.tag not in limits.CFN_SHORT_TAGS:
            return False
        self.error(node, path, f"CloudFormation intrinsic functions ({node.tag}) are not supported here; write the literal value")
        return True

    @staticmethod
    def text_field(path: str) -> bool:
        """Free text (descriptions) may span lines; every other string is a name, value or address."""
        return path.rsplit(".", 1)[-1] in TEXT_KEYS

    def dataclass(self, cls: type, pairs: dict[str, tuple[yaml.Node, yaml.Node]], path: str) -> dict[str, Any]:
        """Convert the given pairs into keyword arguments for dataclass `cls`, checking types and metadata."""
        hints, fields = _fields(cls)
        values: dict[str, Any] = {}
        for f in fields:
            if f.name not in pairs:
                continue
            _, node = pairs[f.name]
            if "parse" in f.metadata:  # a kind's own nested structure (e.g. workflow steps)
                value = f.metadata["parse"](self, node, _join(path, f.name))
                if value is not _MISSING and value is not None:
                    values[f.name] = value
                continue
            value = self.typed(node, _join(path, f.name), hints[f.name])
            if value is _MISSING:
                continue
            if value is not None and not self._meta_ok(node, _join(path, f.name), value, f.metadata):  # null: the default
                continue
            values[f.name] = value
        return values

    def typed(self, node: yaml.Node, path: str, hint: Any) -> Any:
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(hint) if a is not type(None)]
            if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
                return None
            return self.typed(node, path, inner[0])
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            fields = dataclasses.fields(hint)
            required = [f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
            pairs = self.mapping(node, path, [f.name for f in fields], required=required)
            if pairs is None or any(name not in pairs for name in required):
                return _MISSING
            before = len(self.problems)
            values = self.dataclass(hint, pairs, path)
            return hint(**values) if len(self.problems) == before else _MISSING
        if origin is tuple:
            if self.intrinsic(node, path):
                return _MISSING
            if not isinstance(node, yaml.SequenceNode):
                self.error(node, path, f"expected a list, got {_describe(node)}")
                return _MISSING
            items = [self.scalar(item, f"{path}[{i}]", typing.get_args(hint)[0]) for i, item in enumerate(node.value)]
            return _MISSING if _MISSING in items else tuple(items)
        return self.scalar(node, path, hint)

    def _meta_ok(self, node: yaml.Node, path: str, value: Any, meta: typing.Mapping[str, Any]) -> bool:
        if "choices" in meta and value not in meta["choices"]:
            self.error(node, path, f"'{value}' is not one of {', '.join(meta['choices'])}{did_you_mean(str(value), meta['choices'])}")
            return False
        if "minimum" in meta and value < meta["minimum"]:
            self.error(node, path, f"must be at least {meta['minimum']}, got {value}")
            return False
        if "maximum" in meta and value > meta["maximum"]:
            self.error(node, path, f"must be at most {meta['maximum']}{meta.get('why', '')}, got {value}")
            return False
        return True


ROOT = "(root)"


def _join(path: str, key: str) -> str:
    if not key:
        return path
    return f"{path}.{key}" if path and path != ROOT else key


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = node.tag.rsplit(":", 1)[-1]
    words = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean", "null": "nothing"}
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"{words.get(kind, kind)} '{shown}'" if kind != "null" else "nothing (null)"


def _short(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return shown


@functools.cache
def _fields(cls: type) -> tuple[dict[str, Any], tuple[dataclasses.Field, ...]]:
    """A dataclass's resolved type hints and fields, once per class (resolving them per component
    was a measurable share of loading a large spec)."""
    return typing.get_type_hints(cls), dataclasses.fields(cls)


def convert_spec(root: yaml.Node, file: str, kinds: typing.Mapping[str, Any], env: str | None = None,
                 parameters: typing.AbstractSet[str] = frozenset()) -> Spec:
    """Validate a composed spec tree against `kinds` (kind name -> component class) and build the
    model; `parameters` are the names the spec's `parameters:` declares (StackSet overrides must
    name one). Raises SpecError listing every problem."""
    r = SpecReader(file, name_options(kinds[k] for k in sorted(kinds)))
    r.parameters = parameters
    top = r.mapping(root, ROOT, TOP_KEYS, required=("solution", "notifications", "components"))
    if top is None:
        raise SpecError(r.problems)
    solution = _solution_name(r, top)
    description = r.scalar(top["description"][1], "description", str) if "description" in top else ""
    owner = r.scalar(top["owner"][1], "owner", str) if "owner" in top else None
    notifications = _notifications(r, top)
    defaults = _defaults(r, top)
    components = _components(r, top, kinds)
    organization = _organization(r, top["organization"][1]) if "organization" in top else None
    name_suffix = None
    if "name_suffix" in top:
        name_suffix = r.scalar(top["name_suffix"][1], "name_suffix", str)
        if name_suffix is not _MISSING and not NAME_SUFFIX.match(name_suffix):
            r.error(top["name_suffix"][1], "name_suffix", "use 1-20 letters, digits and '-' (it is added to every physical name)")
    if env is not None and name_suffix is None and not NAME_SUFFIX.match(env):
        r.error(root, "environments", f"environment name '{env}' cannot be part of resource names: use 1-20 letters, digits "
                                      "and '-', or give the environment a 'name_suffix'")
    if r.problems:
        raise SpecError(r.problems)
    return Spec(
        solution=solution,
        description=description,
        notifications=notifications,
        defaults=defaults,
        components=tuple(c for c in components if c is not None and c.enabled),
        source=file,
        environment=env,
        name_suffix=name_suffix,
        owner=owner if isinstance(owner, str) else None,
        organization=organization,
    )


def _organization(r: SpecReader, node: yaml.Node) -> Organization | None:
    """`organization:` (spec/organization.py): every account, Region and ID checked where it is written."""
    path = "organization"
    fields = [f.name for f in dataclasses.fields(Organization)]
    pairs = r.mapping(node, path, fields, required=("central_account", "central_region"))
    if pairs is None or "central_account" not in pairs or "central_region" not in pairs:
        return None
    before = len(r.problems)
    values = r.dataclass(Organization, {k: v for k, v in pairs.items() if k not in ("notifications", "targets")}, path)
    checks = (("central_account", account_problem), ("central_region", region_problem))
    for key, problem in checks:
        if key in values and problem(values[key]):
            r.error(pairs[key][1], f"{path}.{key}", problem(values[key]))
    for index, account in enumerate(values.get("member_accounts", ())):
        if account_problem(account):
            r.error(pairs["member_accounts"][1].value[index], f"{path}.member_accounts[{index}]", account_problem(account))
    org_id = values.get("organization_id")
    if org_id is not None and not ORGANIZATION_ID.fullmatch(org_id):
        r.error(pairs["organization_id"][1], f"{path}.organization_id",
                f"'{_short(org_id)}' is not an organization ID (o- and 10-32 letters or digits)")
    if "member_accounts" not in pairs and "organization_id" not in pairs:
        r.error(node, path, "give 'member_accounts' (the accounts the central event bus admits) or 'organization_id' (the whole organization)")
    if "notifications" in pairs:
        route = _route(r, pairs["notifications"][1], f"{path}.notifications", Route)
        values["notifications"] = Route(**route) if route is not None else None
    else:
        r.error(node, f"{path}.notifications",
                "missing required key: the central recipients (emails, https_endpoints, lambda_arns, slack or topic_arn)")
    if "targets" in pairs:
        values["targets"] = _targets(r, pairs["targets"][1], f"{path}.targets")
    if len(r.problems) != before:
        return None
    return Organization(**values)


def _targets(r: SpecReader, node: yaml.Node, path: str) -> tuple[StackSetTarget, ...]:
    if r.intrinsic(node, path):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        r.error(node, path, f"expected a list, got {_describe(node)}")
        return ()
    targets = []
    kinds_seen: set[str] = set()
    for index, item in enumerate(node.value):
        at = f"{path}[{index}]"
        pairs = r.mapping(item, at, [f.name for f in dataclasses.fields(StackSetTarget)], required=("regions",))
        if pairs is None or "regions" not in pairs:
            continue
        before = len(r.problems)
        values = r.dataclass(StackSetTarget, {k: v for k, v in pairs.items() if k != "parameters"}, at)
        for key, problem in (("accounts", account_problem), ("regions", region_problem), ("organizational_units", ou_problem)):
            for i, value in enumerate(values.get(key, ())):
                if problem(value):
                    r.error(pairs[key][1].value[i], f"{at}.{key}[{i}]", problem(value))
        if bool(values.get("accounts")) == bool(values.get("organizational_units")):
            r.error(item, at, "give either 'accounts' (self-managed permissions) or 'organizational_units' (service-managed), not both or neither")
        if len(values.get("organizational_units", ())) > MAX_OUS_PER_OPERATION:
            r.error(pairs["organizational_units"][1], f"{at}.organizational_units",
                    f"at most {MAX_OUS_PER_OPERATION} OUs per target (CreateStackInstances)")
        if not values.get("regions") and "regions" in values:
            r.error(pairs["regions"][1], f"{at}.regions", "list at least one Region")
        kinds_seen.add("ou" if values.get("organizational_units") else "accounts")
        if "parameters" in pairs:
            values["parameters"] = _parameter_overrides(r, pairs["parameters"][1], f"{at}.parameters")
        if len(r.problems) == before:
            targets.append(StackSetTarget(**values))
    if len(kinds_seen) > 1:
        r.error(node, path, "one StackSet has one permission model: use 'accounts' in every target or 'organizational_units' in every target")
    return tuple(targets)


def _parameter_overrides(r: SpecReader, node: yaml.Node, path: str) -> tuple[tuple[str, str], ...]:
    """name -> value of the spec's `parameters:` (checked against them in core/validate.py)."""
    if r.intrinsic(node, path):
        return ()
    if not isinstance(node, yaml.MappingNode):
        r.error(node, path, f"expected a mapping of parameter names to values, got {_describe(node)}")
        return ()
    pairs = []
    for key, value in node.value:
        if str(key.value) not in r.parameters:
            known = ", ".join(sorted(r.parameters)) or "none declared"
            hint = did_you_mean(str(key.value), sorted(r.parameters))
            r.error(key, f"{path}.{key.value}", f"'{key.value}' is not one of the spec's parameters{hint} "
                                                f"(declare it under 'parameters:'; known: {known})")
            continue
        if not isinstance(value, yaml.ScalarNode) or value.tag.endswith(":null"):
            r.error(value, f"{path}.{key.value}", f"expected a value (a string or number), got {_describe(value)}")
            continue
        pairs.append((str(key.value), str(value.value)))
    return tuple(pairs)


def _solution_name(r: SpecReader, top: dict) -> Any:
    if "solution" not in top:
        return _MISSING
    node = top["solution"][1]
    name = r.scalar(node, "solution", str)
    if name is not _MISSING and not SOLUTION_NAME.match(name):
        r.error(node, "solution", "must start with a letter and use only letters, digits and '-' (at most 40 characters)")
    return name


def _notifications(r: SpecReader, top: dict) -> Notifications:
    if "notifications" not in top:
        return Notifications()
    node = top["notifications"][1]
    values = _route(r, node, "notifications", Notifications)
    return Notifications(**values) if values is not None else Notifications()


def _check_incident_actions(r: SpecReader, values: dict[str, Any], pairs: dict[str, Any], path: str) -> None:
    """An OpsItem needs both its severity and category; the ARNs must be of an existing group or plan."""
    actions = values.get("incident_actions")
    if actions is None:
        return
    at = pairs["incident_actions"][1]
    if (actions.opsitem_severity is None) != (actions.opsitem_category is None):
        r.error(at, path, "an OpsItem needs both 'opsitem_severity' and 'opsitem_category'")
    for key, pattern, what in (("investigation_group_arn", INVESTIGATION_GROUP_ARN, "arn:aws:aiops:<region>:<account>:investigation-group/<id>"),
                               ("response_plan_arn", RESPONSE_PLAN_ARN, "arn:aws:ssm-incidents::<account>:response-plan/<name>")):
        value = getattr(actions, key)
        if value is not None and not pattern.fullmatch(value):
            r.error(_child(at, key), f"{path}.{key}", f"expected an ARN '{what}'")


def _route(r: SpecReader, node: yaml.Node, path: str, cls: type) -> dict[str, Any] | None:
    """Convert and check one route (the default `notifications`, or its `warning` route)."""
    problems_before = len(r.problems)
    pairs = r.mapping(node, path, [f.name for f in dataclasses.fields(cls)])
    if pairs is None:
        return None
    values = r.dataclass(cls, {k: v for k, v in pairs.items() if k != "warning"}, path)
    if "warning" in pairs:
        warning = _route(r, pairs["warning"][1], f"{path}.warning", Route)
        if warning is not None:
            values["warning"] = Route(**warning)
    for key in ("emails", "https_endpoints", "lambda_arns"):
        for index, value in enumerate(values.get(key, ())):
            problem = _subscriber_problem(key, value)
            if problem:
                r.error(pairs[key][1].value[index], f"{path}.{key}[{index}]", problem)
        if len(set(values.get(key, ()))) != len(values.get(key, ())):
            r.error(pairs[key][1], f"{path}.{key}", "a value is listed twice")
    slack = values.get("slack")
    if slack is not None:
        slack_node = pairs["slack"][1]
        for key, pattern, what in (("workspace_id", limits.SLACK_WORKSPACE_ID,
                                    "a Slack workspace ID (upper-case letters and digits, e.g. T0123ABCD)"),
                                   ("channel_id", limits.SLACK_CHANNEL_ID, "a Slack channel ID (letters and digits, e.g. C0123ABCD)")):
            if not pattern.fullmatch(getattr(slack, key)):
                r.error(_child(slack_node, key), f"{path}.slack.{key}", f"'{_short(getattr(slack, key))}' is not {what}")
        if slack.iam_role_arn is not None and not ROLE_ARN.fullmatch(slack.iam_role_arn):
            r.error(_child(slack_node, "iam_role_arn"), f"{path}.slack.iam_role_arn", "expected an IAM role ARN 'arn:aws:iam::<account>:role/<name>'")
    _check_incident_actions(r, values, pairs, f"{path}.incident_actions")
    arn = values.get("topic_arn")
    if arn is not None and not TOPIC_ARN.match(arn):
        r.error(pairs["topic_arn"][1], f"{path}.topic_arn", "expected an SNS topic ARN 'arn:aws:sns:<region>:<account>:<name>'")
    subscriber_keys = ("emails", "https_endpoints", "lambda_arns", "slack", "topic_arn")
    given = [k for k in subscriber_keys if k in pairs]
    if not given:
        r.error(node, path, "give 'emails', 'https_endpoints', 'lambda_arns' or 'slack' (a new topic is created), "
                            "or 'topic_arn' (an existing topic), or several")
    elif not any(values.get(k) for k in subscriber_keys) and len(r.problems) == problems_before:
        r.error(pairs[given[0]][1], f"{path}.{given[0]}", "list at least one subscriber, or give 'topic_arn'")
    return values


def _subscriber_problem(key: str, value: str) -> str:
    """Why an email address, HTTPS endpoint or Lambda ARN would be refused (or leak), or ''."""
    shown = _short(value)
    if key == "emails":
        if value.lower().startswith("mailto:"):
            return f"'{shown}' is not an email address (write it without 'mailto:')"
        if len(value) > limits.EMAIL_MAX or not limits.EMAIL.fullmatch(value):
            return f"'{shown}' is not an email address"
        return ""
    if key == "https_endpoints":
        if limits.URL_CREDENTIALS.match(value):
            return ("the URL contains credentials (user:password@): they would be stored in the template; "
                    "use a token the endpoint accepts in its path or query")
        if len(value) > limits.HTTPS_URL_MAX or not limits.HTTPS_URL.fullmatch(value):
            return f"'{shown}' is not an https:// URL"
        return ""
    return "" if LAMBDA_ARN.fullmatch(value) else f"'{shown}' is not a Lambda function ARN"


def _defaults(r: SpecReader, top: dict) -> AlarmDefaults:
    if "defaults" not in top:
        return AlarmDefaults()
    node = top["defaults"][1]
    pairs = r.mapping(node, "defaults", [f.name for f in dataclasses.fields(AlarmDefaults)])
    if pairs is None:
        return AlarmDefaults()
    values = r.dataclass(AlarmDefaults, pairs, "defaults")
    _check_settings(r, node, "defaults", values, pairs)
    return AlarmDefaults(**values)


def _check_settings(r: SpecReader, node: yaml.Node, path: str, values: dict[str, Any], pairs: dict) -> None:
    """Per-value checks shared by `defaults` and alarm overrides (period, counts, statistic)."""
    period = values.get("period")
    if period is not None and (problem := period_problem(period)):
        r.error(pairs["period"][1], f"{path}.period", problem)
        values.pop("period")
    for key in ("evaluation_periods", "datapoints_to_alarm"):
        if values.get(key) is not None and values[key] < 1:
            r.error(pairs[key][1], f"{path}.{key}", f"must be at least 1, got {values[key]}")
            values.pop(key)
    stat = values.get("statistic")
    if stat is not None and not STATISTIC.match(stat):
        choices = ["Sum", "Average", "Maximum", "Minimum", "SampleCount", "p90", "p99"]
        r.error(pairs["statistic"][1], f"{path}.statistic",
                f"'{stat}' is not a statistic: use Sum, Average, Maximum, Minimum, SampleCount or a percentile like p99{did_you_mean(stat, choices)}")
        values.pop("statistic")


def _components(r: SpecReader, top: dict, kinds: typing.Mapping[str, Any]) -> list[ComponentSpec]:
    if "components" not in top:
        return []
    node = top["components"][1]
    if r.intrinsic(node, "components"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        r.error(node, "components", f"expected a list, got {_describe(node)}")
        return []
    if not node.value:
        r.error(node, "components", "list at least one component")
    result: list[ComponentSpec] = []
    names: dict[str, str] = {}
    for index, item in enumerate(node.value):
        path = f"components[{index}]"
        spec = _component(r, item, path, kinds)
        if spec is None:
            continue
        if spec.name in names:
            r.error(_child(item, "name"), f"{path}.name", f"duplicate component name '{spec.name}' (also {names[spec.name]})")
            continue
        names[spec.name] = path
        result.append(spec)
    return result


def _child(node: yaml.Node, key: str) -> yaml.Node:
    """The value node of `key` in a mapping node; the node itself when there is none (to locate a problem there)."""
    if not isinstance(node, yaml.MappingNode):
        return node
    return next((v for k, v in node.value if k.value == key), node)


def _kind_of(r: SpecReader, node: yaml.Node, path: str, kinds: typing.Mapping[str, Any]) -> tuple[str, Any] | None:
    """A component's `kind` and its class, or None after reporting why there is none."""
    if r.intrinsic(node, path):
        return None
    if not isinstance(node, yaml.MappingNode):
        r.error(node, path, f"expected a mapping, got {_describe(node)}")
        return None
    kind_node = _child(node, "kind")
    if kind_node is node:
        r.error(node, f"{path}.kind", "missing required key")
        return None
    kind = r.scalar(kind_node, f"{path}.kind", str)
    if not isinstance(kind, str):
        return None
    if kind not in kinds:
        r.error(kind_node, f"{path}.kind", f"unknown kind '{kind}'{did_you_mean(kind, kinds)}; `mlmon kinds` lists the known kinds")
        return None
    return kind, kinds[kind]


def _component(r: SpecReader, node: yaml.Node, path: str, kinds: typing.Mapping[str, Any]) -> ComponentSpec | None:
    found = _kind_of(r, node, path, kinds)
    if found is None:
        return None
    kind, cls = found
    option_fields = list(dataclasses.fields(cls.Options))
    required = ["name"] + [f.name for f in option_fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    before = len(r.problems)
    pairs = r.mapping(node, path, [*COMPONENT_KEYS, *(f.name for f in option_fields)], required=())
    if pairs is None:  # not reached: the node is a mapping (checked above)
        return None
    for key in required:
        if key not in pairs:
            r.error(node, f"{path}.{key}", f"missing required key for kind '{kind}'")
    name = r.scalar(pairs["name"][1], f"{path}.name", str) if "name" in pairs else _MISSING
    if isinstance(name, str) and not COMPONENT_NAME.match(name):
        r.error(pairs["name"][1], f"{path}.name", "must start with a letter and use only letters, digits, '-' and '_' (at most 64 characters)")
    description = r.scalar(pairs["description"][1], f"{path}.description", str) if "description" in pairs else ""
    runbook = r.scalar(pairs["runbook_url"][1], f"{path}.runbook_url", str) if "runbook_url" in pairs else None
    owner = r.scalar(pairs["owner"][1], f"{path}.owner", str) if "owner" in pairs else None
    enabled = r.scalar(pairs["enabled"][1], f"{path}.enabled", bool) if "enabled" in pairs else True
    option_pairs = {k: v for k, v in pairs.items() if k not in COMPONENT_KEYS}
    logs = parse_component_logs(r, pairs, path)
    custom = parse_custom_alarms(r, pairs, path)
    values = r.dataclass(cls.Options, option_pairs, path)
    if len(r.problems) > before:
        _alarm_overrides(r, cls, pairs.get("alarms"), path)  # still report alarm problems
        return None
    options = cls.Options(**values)
    component = cls()
    own = component.check(options)
    reported = {sub for sub, _ in own if isinstance(sub, str)}
    _check_names(r, getattr(cls, "names", None) or {}, values, option_pairs, path, reported)
    for sub, message in own:
        if isinstance(sub, Location):  # inside a nested structure, located by its parse hook
            r.problems.append(Problem(sub, message))
            continue
        target = option_pairs[sub][1] if sub in option_pairs else node
        r.error(target, _join(path, sub), message)
    r.problems.extend(Problem(at, message) for at, message in log_problems(component, options, logs))
    alarms = _alarm_overrides(r, cls, pairs.get("alarms"), path)
    if len(r.problems) > before:
        return None
    location = node_location(node, r.file, path)
    locations = _locations(r, path, pairs, cls, alarms)
    assert isinstance(name, str)  # a missing or wrong name is a problem reported above
    return ComponentSpec(kind=kind, name=name, options=options, alarms=alarms, description=description, location=location,
                         runbook_url=runbook if runbook is not _MISSING else None, enabled=enabled is not False, logs=logs,
                         owner=owner if owner is not _MISSING else None, locations=locations, custom_alarms=custom)


def _locations(r: SpecReader, path: str, pairs: dict[str, tuple[yaml.Node, yaml.Node]], cls: Any,
               alarms: dict[str, AlarmOverride]) -> dict[str, Location]:
    """Where the name, each option and each alarm override are, for the checks after conversion."""
    locations = {"name": node_location(pairs["name"][1], r.file, f"{path}.name")}
    if "alarms" in pairs:  # where later checks of each alarm's resolved settings point
        alarms_node = pairs["alarms"][1]
        locations["alarms"] = node_location(alarms_node, r.file, f"{path}.alarms")
        for alarm in cls.alarms:
            if alarm.key in alarms:
                locations[f"alarms.{alarm.key}"] = node_location(_child(alarms_node, alarm.key), r.file, f"{path}.alarms.{alarm.key}")
    for key, (_, value) in pairs.items():
        if key not in COMPONENT_KEYS:
            locations[key] = node_location(value, r.file, f"{path}.{key}")
    return locations


def _check_names(r: SpecReader, names: typing.Mapping[str, NameOption], values: dict[str, Any],
                 option_pairs: dict[str, tuple[yaml.Node, yaml.Node]], path: str, reported: set[str]) -> None:
    """Every literal name against its kind's grammar for it (`Component.names`); options the kind's own
    `check` reported, ARNs and quoted intrinsics (cfn_values reports those) are skipped."""
    for key, value in values.items():
        grammar = names.get(key)
        if grammar is None or key in reported:
            continue
        at = option_pairs[key][1]
        for index, item in enumerate(value if isinstance(value, tuple) else (value,)):
            literal = isinstance(item, str) and not is_cfn_value(at) and not (
                grammar.is_name_field and (item.startswith("arn:") or item.lstrip().startswith("!") or "\n" in item or "\r" in item))
            problem = grammar.problem(item) if literal else ""
            if problem:
                indexed = isinstance(value, tuple) and isinstance(at, yaml.SequenceNode)
                r.error(at.value[index] if indexed else at, f"{path}.{key}[{index}]" if indexed else f"{path}.{key}", problem)


def _alarm_overrides(r: SpecReader, cls: Any, entry: tuple[yaml.Node, yaml.Node] | None, path: str) -> dict[str, AlarmOverride]:
    if entry is None:
        return {}
    node = entry[1]
    keys = [a.key for a in cls.alarms]
    pairs = r.mapping(node, f"{path}.alarms", keys)
    if pairs is None:
        return {}
    result: dict[str, AlarmOverride] = {}
    fields = [f.name for f in dataclasses.fields(AlarmOverride)]
    for key, (_, value) in pairs.items():
        alarm_path = f"{path}.alarms.{key}"
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":bool"):
            result[key] = AlarmOverride(enabled=_constructor.construct_object(value))  # `errors: false` shorthand
            continue
        inner = r.mapping(value, alarm_path, fields)
        if inner is None:
            continue
        values = r.dataclass(AlarmOverride, inner, alarm_path)
        _check_settings(r, value, alarm_path, values, inner)
        threshold = values.get("threshold")
        alarm = cls.alarm(key)
        if threshold is not None:
            problem = threshold_problem(alarm.metric.unit, threshold)
            if problem:
                r.error(inner["threshold"][1], f"{alarm_path}.threshold", problem)
        result[key] = AlarmOverride(**values)
    return result
