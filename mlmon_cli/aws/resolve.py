"""Template values as the deployed stack made them, and a comparison that skips what cannot be known.

`mlmon diff` compares the generated template with live resources. Template values hold
intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...); they are resolved here from the deployed
stack's physical IDs, parameters and nested-stack outputs, the way CloudFormation resolved them.
A value that cannot be resolved offline (`Fn::If`, an attribute of an unknown type) becomes
`UNKNOWN`, and the comparison skips it rather than report a difference it cannot prove.
Pure: no AWS calls (nested-stack outputs come through a callback).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class _Unknown:
    def __repr__(self) -> str:
        return "<unresolved>"


class _NoValue:
    def __repr__(self) -> str:
        return "<AWS::NoValue>"


UNKNOWN: Any = _Unknown()
NO_VALUE: Any = _NoValue()


class Resolver:
    """Resolves intrinsics of one (nested) stack's template.

    `resources`: logical ID -> (resource type, physical ID) as ListStackResources gives them;
    `outputs_of(stack_id)`: the outputs of a nested stack, for `Fn::GetAtt [Child, Outputs.X]`.
    """

    def __init__(self, partition: str, region: str, account: str, parameters: dict[str, str],
                 resources: dict[str, tuple[str, str]], stack_name: str = "", stack_id: str = "",
                 outputs_of: Callable[[str], dict[str, str]] | None = None):
        self.partition, self.region, self.account = partition, region, account
        self.parameters, self.resources = parameters, resources
        self.outputs_of = outputs_of or (lambda _stack: {})
        self.pseudo = {"AWS::Partition": partition, "AWS::Region": region, "AWS::AccountId": account,
                       "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
                       "AWS::StackName": stack_name, "AWS::StackId": stack_id}

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1:
                (key, arg), = node.items()
                if key == "Ref":
                    return self.ref(str(arg))
                if key == "Fn::GetAtt":
                    logical, attr = (arg.split(".", 1) if isinstance(arg, str) else [*arg, ""][:2])
                    return self.getatt(str(logical), str(attr))
                if key == "Fn::Sub":
                    return self.sub(arg)
                if key == "Fn::Join":
                    return self.join(arg)
                if key == "Fn::Select":
                    return self.select(arg)
                if key.startswith("Fn::") or key == "Condition":
                    return UNKNOWN
            out = {k: self.value(v) for k, v in node.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not NO_VALUE]
        return node

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name] or UNKNOWN
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name][1] or UNKNOWN
        return UNKNOWN

    def getatt(self, logical: str, attr: str) -> Any:
        if logical not in self.resources:
            return UNKNOWN
        kind, physical = self.resources[logical]
        if not physical:
            return UNKNOWN
        p, r, a = self.partition, self.region, self.account
        if kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm") and attr == "Arn":
            return f"arn:{p}:cloudwatch:{r}:{a}:alarm:{physical}"
        if kind == "AWS::SNS::Topic":
            return {"TopicArn": physical, "Arn": physical, "TopicName": physical.rsplit(":", 1)[-1]}.get(attr, UNKNOWN)
        if kind == "AWS::Events::Rule" and attr == "Arn":
            bus, _, name = physical.rpartition("|")
            return f"arn:{p}:events:{r}:{a}:rule/{bus + '/' if bus else ''}{name}"
        if kind == "AWS::KMS::Key":
            return {"Arn": f"arn:{p}:kms:{r}:{a}:key/{physical}", "KeyId": physical}.get(attr, UNKNOWN)
        if kind == "AWS::Lambda::Function" and attr == "Arn":
            return f"arn:{p}:lambda:{r}:{a}:function:{physical}"
        if kind == "AWS::StepFunctions::StateMachine":
            return {"Arn": physical, "Name": physical.rsplit(":", 1)[-1]}.get(attr, UNKNOWN)
        if kind == "AWS::SQS::Queue":
            name = physical.rstrip("/").rsplit("/", 1)[-1]
            return {"Arn": f"arn:{p}:sqs:{r}:{a}:{name}", "QueueName": name, "QueueUrl": physical}.get(attr, UNKNOWN)
        if kind == "AWS::CloudFormation::Stack" and attr.startswith("Outputs."):
            return self.outputs_of(physical).get(attr.split(".", 1)[1], UNKNOWN)
        return UNKNOWN

    def sub(self, arg: Any) -> Any:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
        unknown = False

        def one(match: re.Match[str]) -> str:
            nonlocal unknown
            name = match.group(1).strip()
            if name in variables:
                value = self.value(variables[name])
            elif "." in name and name.split(".", 1)[0] in self.resources:
                value = self.getatt(*name.split(".", 1))
            else:
                value = self.ref(name)
            if value is UNKNOWN or not isinstance(value, (str, int, float)):
                unknown = True
                return ""
            return str(value)

        out = _SUB_VAR.sub(one, str(text)).replace("${!", "${")
        return UNKNOWN if unknown else out

    def join(self, arg: Any) -> Any:
        separator, items = arg[0], self.value(arg[1])
        if not isinstance(items, list) or any(not isinstance(i, (str, int, float)) for i in items):
            return UNKNOWN
        return str(separator).join(str(i) for i in items)

    def select(self, arg: Any) -> Any:
        index, items = self.value(arg[0]), self.value(arg[1])
        try:
            return items[int(index)]
        except (TypeError, ValueError, IndexError, KeyError):
            return UNKNOWN


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def differences(expected: Any, live: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, expected, live) of every leaf the template sets that the live resource does not have.

    Only keys the template (`expected`) sets are compared (a live resource has read-only extras);
    lists of different lengths are compared whole; numbers compare as numbers ("1" == 1.0) and
    booleans as booleans ("true" == True); unresolvable values are skipped.
    """
    if has_unknown(expected) and not isinstance(expected, (dict, list)):
        return []
    if isinstance(expected, dict):
        if not isinstance(live, dict):
            return [] if has_unknown(expected) else [(path, expected, live)]
        out = []
        for key in sorted(expected, key=str):
            out += differences(expected[key], live.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(expected, list):
        if not isinstance(live, list) or len(live) != len(expected):
            return [] if has_unknown(expected) else [(path, expected, live)]
        return [d for i, (e, x) in enumerate(zip(expected, live, strict=True)) for d in differences(e, x, f"{path}[{i}]")]
    return [] if same_scalar(expected, live) else [(path, expected, live)]


def same_scalar(expected: Any, live: Any) -> bool:
    if expected == live:
        return True
    if isinstance(expected, bool) or isinstance(live, bool):
        return str(expected).lower() == str(live).lower()
    try:
        return float(expected) == float(live)
    except (TypeError, ValueError):
        return False


def show(value: Any, limit: int = 120) -> str:
    """A value on one line, JSON-ish, cut at `limit` characters."""
    if value is None:
        text = "(none)"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit - 3] + "..."
