"""CloudFormation values in the built template, and merged output into the user's own template.

Pure (dict in, dict out). Kinds write names as Fn::Sub text (`${MyFunction}`,
`${Endpoint.EndpointName}`, `${Param}`): every string holding a known token becomes `Ref` /
`Fn::GetAtt` when it is the whole value, else `Fn::Sub` (other `${` escaped as `${!`). With a
spec `template:`, mlmon's resources and outputs are added to the user's template, whose own
entries stay exactly as they were. A component of a conditional resource gets the same
Condition; composites and dashboards that name its alarms use Fn::If so they deploy with the
condition true or false.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import LimitError, Problem, SpecError
from ..limits import MAX_OUTPUTS, MAX_PARAMETERS, MAX_RESOURCES

TOKEN = re.compile(r"\$\{([^}!][^}]*)\}")
_WHOLE = re.compile(r"^\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}$")
_ESCAPED = re.compile(r"\$\{!([^}]*)\}")
_CHILD = re.compile(r'ALARM\("\$\{([A-Za-z0-9]+)\.Arn\}"\)')
ANY_CONDITION = "MlmonAnyMonitored"


class DictTemplate:
    """A finished template as plain data, with the little of troposphere's Template the callers use."""

    def __init__(self, data: dict[str, Any], theirs: frozenset[str] = frozenset()):
        self.data = data
        self.theirs = theirs  # logical IDs of the user's own resources (merged output): not mlmon's to price

    def to_dict(self) -> dict[str, Any]:
        return self.data

    @property
    def resources(self) -> dict[str, Any]:
        return self.data.get("Resources", {})

    @property
    def outputs(self) -> dict[str, Any]:
        return self.data.get("Outputs", {})


def finish(data: dict[str, Any], cfn: Any, owners: dict[str, str], solution: str | None = None) -> dict[str, Any]:
    """Resolve tokens, add the spec's parameters, and merge into the app template when there is one.

    `cfn` is the spec's CfnValues; `owners` maps each mlmon logical ID to its component's name;
    `solution` is the prefix of mlmon's physical names, which merged output derives from the stack.
    Raises SpecError when the app template already uses a logical ID or output name mlmon needs.
    """
    known = set(cfn.known_tokens)
    if cfn.app is not None and solution:
        data, rules = stack_scoped(data, solution)
        known |= rules
    data = _resolve(data, known, cfn.imports)
    if cfn.parameters:
        data.setdefault("Parameters", {}).update({k: dict(v) for k, v in cfn.parameters.items()})
    if cfn.app is None:
        return data
    conditions = {rid: cfn.condition_of(owner) for rid, owner in owners.items() if cfn.condition_of(owner)}
    conditions.update({rid: r["Condition"] for rid, r in cfn.app.resources.items()
                       if isinstance(r, dict) and isinstance(r.get("Condition"), str)})
    merged = _merge(cfn.app, data, conditions)
    check_merged_limits(merged, cfn.app)
    return merged


def check_merged_limits(merged: dict[str, Any], app: Any) -> None:
    """Raise LimitError (exit 4) when the merged template passes a per-template count CloudFormation
    refuses: never a merged output that cannot deploy. (The 1 MB size is checked on the written text.)"""
    for section, limit in (("Resources", MAX_RESOURCES), ("Outputs", MAX_OUTPUTS), ("Parameters", MAX_PARAMETERS)):
        total, theirs = len(merged.get(section) or {}), len(app.data.get(section) or {})
        if total > limit:
            raise LimitError(
                f"mlmon: the merged template would have {total} {section.lower()} ({theirs} of {app.file} + {total - theirs} "
                f"of mlmon); CloudFormation allows {limit} per template. Nothing written. Watch fewer resources "
                "(list logical IDs under 'exclude:'), or monitor from a separate stack: "
                "mlmon init --from-stack STACK_NAME (its output splits into nested stacks)")


STACK_NAME = "${AWS::StackName}"
# mlmon's physical names by resource type (property paths; `[]` is every item of a list).
_PHYSICAL_NAMES = {
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::CloudWatch::CompositeAlarm": ("AlarmName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::Logs::QueryDefinition": ("Name",),
    "AWS::Logs::MetricFilter": ("FilterName", "MetricTransformations[].MetricNamespace"),
    "AWS::Chatbot::SlackChannelConfiguration": ("ConfigurationName",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
}


def _names_at(props: dict[str, Any], path: str) -> list[str]:
    head, _, rest = path.partition("[].")
    value = props.get(head)
    if rest:
        return [n for item in value or [] if isinstance(item, dict) for n in _names_at(item, rest)]
    return [value] if isinstance(value, str) else []


def stack_scoped(data: dict[str, Any], solution: str) -> tuple[dict[str, Any], set[str]]:
    """Every physical name mlmon creates, derived from the stack instead of the spec's solution, so
    one merged template deploys as several stacks (staging, prod) in one account and Region: a
    name that starts with `solution` starts with `${AWS::StackName}`; EventBridge rule names (64
    characters, too few for a stack name of up to 128) are left to CloudFormation and reached by
    `Ref`. Mentions of a renamed resource in mlmon's resources and outputs (descriptions,
    dashboards, ARNs, the RuleName dimension, the log metrics' namespace) follow.

    Returns the rewritten data and the rule logical IDs now written as `${Rule}` tokens."""
    data = {**data, "Resources": {k: {**v, "Properties": dict(v.get("Properties") or {})} for k, v in (data.get("Resources") or {}).items()}}
    renamed, rules = _stack_names(data["Resources"], solution)
    swaps = _swaps(solution, renamed, rules)
    for section in ("Resources", "Outputs"):
        if section in data:
            data[section] = _swap(data[section], swaps, rules)
    return data, {token[2:-1] for token in rules.values()}


def _stack_names(resources: dict[str, Any], solution: str) -> tuple[dict[str, str], dict[str, str]]:
    """(old physical name -> the same from the stack name, old rule name -> `${RuleLogicalId}`); rule
    names are dropped from their rules, a dashboard named the solution alone is renamed in place."""
    renamed: dict[str, str] = {}
    rules: dict[str, str] = {}
    for rid, res in resources.items():
        props = res["Properties"]
        if res.get("Type") == "AWS::Events::Rule" and isinstance(props.get("Name"), str):
            rules[props.pop("Name")] = f"${{{rid}}}"
            continue
        for path in _PHYSICAL_NAMES.get(res.get("Type", ""), ()):
            for name in _names_at(props, path):
                for prefix in ("", "alias/", "mlmon/"):
                    if name.startswith(prefix + solution) and name[len(prefix + solution):][:1] in ("", "-", "/"):
                        renamed[name] = prefix + STACK_NAME + name[len(prefix + solution):]
    # the solution alone (a dashboard's name) is renamed where it is a name only, never inside text
    bare = renamed.pop(solution, None)
    if bare:
        for res in resources.values():
            if res.get("Type") == "AWS::CloudWatch::Dashboard" and res["Properties"].get("DashboardName") == solution:
                res["Properties"]["DashboardName"] = bare
    return renamed, rules


def _swaps(solution: str, renamed: dict[str, str], rules: dict[str, str]) -> list[tuple[re.Pattern[str], Any]]:
    """The text substitutions that make mentions of renamed resources follow them."""
    swaps: list[tuple[re.Pattern[str], Any]] = [
        (re.compile(r"\[" + re.escape(solution) + r"\]"), lambda m: f"[{STACK_NAME}]"),
        (re.compile(r"\A" + re.escape(solution) + r": "), lambda m: f"{STACK_NAME}: "),  # a readable message's first words
    ]
    if rules:  # rule names (which may equal an alarm's) where they name the rule: the dimension, dashboards, text
        alternatives = "|".join(re.escape(n) for n in sorted(rules, key=len, reverse=True))
        swaps.append((re.compile(r'(RuleName=|"RuleName","|\brule )(' + alternatives + r")(?![A-Za-z0-9_-])"),
                      lambda m: m.group(1) + rules[m.group(2)]))
    if renamed:  # names as whole values or inside text (descriptions, dashboard bodies, ARNs): longest first
        alternatives = "|".join(re.escape(n) for n in sorted(renamed, key=len, reverse=True))
        swaps.append((re.compile(r"(?<![A-Za-z0-9_.-])(" + alternatives + r")(?![A-Za-z0-9_-])"), lambda m: renamed[m.group(1)]))
    return swaps


def _swap(value: Any, swaps: list[tuple[re.Pattern[str], Any]], rules: dict[str, str]) -> Any:
    if isinstance(value, str):
        for pattern, to in swaps:
            value = pattern.sub(to, value)
        return value
    if isinstance(value, dict):
        if value.get("Name") == "RuleName" and value.get("Value") in rules:
            return {**value, "Value": rules[value["Value"]]}
        return {k: _swap(v, swaps, rules) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, swaps, rules) for v in value]
    return value


def _resolve(value: Any, known: set[str], imports: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::Sub" in value:
            inner = value["Fn::Sub"]
            if isinstance(inner, str):  # kinds escape `${` of inlined names (dashboards): tokens we know resolve
                inner = _ESCAPED.sub(lambda m: f"${{{m.group(1)}}}" if m.group(1).split(".", 1)[0] in known else m.group(0), inner)
                return _sub(inner, imports, known)
            return value
        return {k: _resolve(v, known, imports) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, known, imports) for v in value]
    if isinstance(value, str) and "${" in value:
        tokens = TOKEN.findall(value)
        if any(t.split(".", 1)[0] in known for t in tokens):
            whole = _WHOLE.match(value)
            if whole and whole.group(1) not in imports and "::" not in value:
                return {"Ref": whole.group(1)} if not whole.group(2) else {"Fn::GetAtt": [whole.group(1), whole.group(2)]}
            escaped = TOKEN.sub(lambda m: m.group(0) if m.group(1).split(".", 1)[0] in known else "${!" + m.group(1) + "}", value)
            return _sub(escaped, imports, known)
    return value


def _sub(text: str, imports: dict[str, Any], known: set[str]) -> dict[str, Any]:
    used = {k: v for k, v in imports.items() if f"${{{k}}}" in text}
    return {"Fn::Sub": [text, used]} if used else {"Fn::Sub": text}


def _merge(app: Any, mine: dict[str, Any], conditions: dict[str, str]) -> dict[str, Any]:
    merged = dict(app.data)
    problems = []
    # Resources and Parameters share one namespace of logical IDs (E3007): each is checked against both
    shared = {"Resources": ("Resources", "Parameters"), "Parameters": ("Parameters", "Resources")}
    for section in ("Resources", "Outputs", "Parameters", "Conditions"):
        for key in mine.get(section) or {}:
            for where in shared.get(section, (section,)):
                if key in (app.data.get(where) or {}):
                    problems.append(Problem(app.location(where, key), f"mlmon needs the name '{key}' for its own "
                                                                      f"{section[:-1].lower()}; rename it in your template"))
    if problems:
        raise SpecError(problems)
    resources = {k: dict(v) for k, v in (mine.get("Resources") or {}).items()}
    for rid, condition in conditions.items():
        if rid in resources:
            resources[rid]["Condition"] = condition
    if conditions:
        _conditional_references(resources, conditions, merged)
    for section in ("Resources", "Outputs", "Parameters", "Conditions"):
        extra = resources if section == "Resources" else mine.get(section) or {}
        if extra or section in merged:
            merged[section] = {**(app.data.get(section) or {}), **extra} if extra else merged.get(section)
    if merged.get("Conditions") is None:
        merged.pop("Conditions", None)
    merged.setdefault("AWSTemplateFormatVersion", mine.get("AWSTemplateFormatVersion", "2010-09-09"))
    return merged


def _conditional_references(resources: dict[str, Any], conditions: dict[str, str], merged: dict[str, Any]) -> None:
    """Unconditional composites and dashboards that name a conditional alarm: Fn::If around each mention."""
    for rid, resource in resources.items():
        if rid in conditions:
            continue
        props = resource.get("Properties") or {}
        rule = props.get("AlarmRule")
        if isinstance(rule, dict) and isinstance(rule.get("Fn::Sub"), str):
            props["AlarmRule"] = _conditional_rule(rule["Fn::Sub"], conditions, resource, merged)
        body = props.get("DashboardBody")
        if isinstance(body, dict) and isinstance(body.get("Fn::Sub"), str) and any(c in body["Fn::Sub"] for c in conditions):
            props["DashboardBody"] = _conditional_sub(body["Fn::Sub"], conditions)


def _conditional_rule(rule: str, conditions: dict[str, str], resource: dict[str, Any], merged: dict[str, Any]) -> Any:
    """`ALARM(a) OR ALARM(b)` with b conditional -> Join of `ALARM(a)` and If(cond, ` OR ALARM(b)`, "")."""
    parts = rule.split(" OR ")
    child = [found.group(1) if (found := _CHILD.fullmatch(p)) else None for p in parts]
    optional = [(p, conditions[c]) for p, c in zip(parts, child, strict=True) if c in conditions]
    if not optional:
        return {"Fn::Sub": rule}
    fixed = [p for p, c in zip(parts, child, strict=True) if c not in conditions]
    pieces: list[Any] = [{"Fn::Sub": " OR ".join(fixed)}] if fixed else ["FALSE"]
    if not fixed:  # every child is conditional: the composite exists only when one of them does
        names = sorted({cond for _, cond in optional})
        resource["Condition"] = names[0] if len(names) == 1 else _any_condition(names, merged)
    pieces.extend({"Fn::If": [cond, {"Fn::Sub": " OR " + part}, ""]} for part, cond in optional)
    return {"Fn::Join": ["", pieces]}


def _any_condition(names: list[str], merged: dict[str, Any]) -> str:
    conds = merged.setdefault("Conditions", dict(merged.get("Conditions") or {}))
    entries: list[dict[str, Any]] = [{"Condition": n} for n in names]
    # Fn::Or takes 2 to 10 conditions: nest when there are more
    while len(entries) > 10:
        entries = [{"Fn::Or": entries[i:i + 10]} if len(entries[i:i + 10]) > 1 else entries[i] for i in range(0, len(entries), 10)]
    conds[ANY_CONDITION] = {"Fn::Or": entries}
    return ANY_CONDITION


def _conditional_sub(text: str, conditions: dict[str, str]) -> dict[str, Any]:
    variables: dict[str, Any] = {}

    def swap(match: re.Match) -> str:
        token = match.group(1)
        head, _, attr = token.partition(".")
        if head not in conditions:
            return match.group(0)
        name = "MlmonIf" + head + attr.replace(".", "")
        value = {"Fn::GetAtt": [head, attr]} if attr else {"Ref": head}
        variables[name] = {"Fn::If": [conditions[head], value, "not-deployed"]}
        return f"${{{name}}}"

    return {"Fn::Sub": [TOKEN.sub(swap, text), variables]}
