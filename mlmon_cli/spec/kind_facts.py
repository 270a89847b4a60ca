"""What a component kind tells the spec layer about the resources it watches.

The spec layer never imports the kinds (tests/test_layers.py): a kind declares these facts on its
class (`names`, `bindings`; components/base.Component), and whoever parses a spec passes the kind
registry in. So `resource:` bindings, the checks of literal names and `init` discovery read them
from the kind, and a new kind needs no table here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .app_template import AppTemplate, Resource, mapping

__all__ = ["Binding", "Bound", "NameOption", "TemplateResource", "bindings_by_type", "name_options", "property_text", "ref_target",
           "yaml_scalar"]


@dataclass(frozen=True)
class NameOption:
    """An option that holds the physical name (or names) of an existing resource.

    `pattern` and `described`: the service's name grammar (its API reference's pattern and length),
    checked on literal names; `instead_of_arn`: what to give when the user writes an ARN ('' when the
    option is not one name, e.g. a list of variants); `holds_arn`: the option takes an ARN, checked
    for line breaks and quoted intrinsics like a name."""

    pattern: str = ""
    described: str = ""
    instead_of_arn: str = ""
    holds_arn: bool = False

    @property
    def is_name_field(self) -> bool:
        """Checked as one name: an ARN, a line break or a quoted `!Ref` is a located problem."""
        return bool(self.instead_of_arn) or self.holds_arn

    def problem(self, value: str) -> str:
        """Why `value` is not a valid name here, or ''."""
        if not self.pattern or _compiled(self.pattern).fullmatch(value):
            return ""
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"'{shown}' is not {self.described}"


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


@dataclass(frozen=True)
class Binding:
    """What `resource: <LogicalId>` of one CloudFormation type fills, from its `Ref`/`GetAtt` return values
    (the type's "Return values" in the CloudFormation resource reference).

    `options`: option -> Fn::Sub text, `%s` standing for the logical ID (`${%s}` is its Ref,
    `${%s.Attr}` a GetAtt), or `@Property` for a property's own literal, !Ref or !Sub value;
    `name_in_arn`: (GetAtt ARN attribute, the ARN part before the name) when no return value is the
    name: `${MlmonName%s}` then stands for the name cut from that ARN;
    `physical`: the option a deployed stack's physical ID (`init --from-stack`) fills, after removing
    `physical_prefix` (a regular expression), '' when the type is not read from stacks;
    `resolve`: when the values depend on the resource's properties (a REST API's name is its `Name`,
    else its OpenAPI body's title; a rule on a custom bus is named by both), a function of the
    `TemplateResource` returning a `Bound` (option -> Fn::Sub text, and any extra Fn::Sub
    variables) or why the template does not tell; `options` then lists the options it may fill
    (their values only document where they come from)."""

    options: Mapping[str, str]
    name_in_arn: tuple[str, str] | None = None
    physical: str = ""
    physical_prefix: str = ""
    resolve: Callable[[TemplateResource], Bound | str] | None = None

    def physical_value(self, physical_id: str) -> str:
        return re.sub(self.physical_prefix, "", physical_id) if self.physical_prefix else physical_id


@dataclass(frozen=True)
class Bound:
    """What a `Binding.resolve` read from one resource: option -> Fn::Sub text (`%s` is not
    substituted: write the logical ID), and Fn::Sub variables the texts use (name -> CloudFormation value)."""

    options: Mapping[str, str]
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateResource:
    """One resource of the user's template, as a kind's `init` hooks read it."""

    logical: str
    type: str
    properties: Mapping[str, Any]
    app: AppTemplate = field(repr=False)

    def text(self, name: str) -> str | None:
        """A property as Fn::Sub text (see `property_text`)."""
        return property_text({"Properties": self.properties}, name)

    def resource(self, logical: Any) -> Resource | None:
        """The typed view of another resource of the template by logical ID (None when absent)."""
        return self.app.resource(logical)

    def unresolved(self, text: str) -> list[str]:
        """The `${...}` of Fn::Sub text the template cannot resolve (see AppTemplate.unresolved)."""
        return self.app.unresolved(text)


def property_text(resource: Any, name: str) -> str | None:
    """A resource property as Fn::Sub text: a literal string, `{Ref: P}` -> `${P}`, `{Fn::Sub: s}` -> s; else None."""
    value = mapping(mapping(resource).get("Properties")).get(name)
    if isinstance(value, str) and "${" not in value:
        return value
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return "${" + value["Ref"] + "}"
        if isinstance(value.get("Fn::Sub"), str):
            return value["Fn::Sub"]
    return None


def ref_target(value: Any) -> str | None:
    """The logical ID a `Ref` or `Fn::GetAtt` value points at."""
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return value["Ref"]
    att = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if isinstance(att, list) and att and isinstance(att[0], str):
        return att[0]
    if isinstance(att, str):
        return att.split(".", 1)[0]
    return None


def yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar for the starter spec: plain when safe, else single-quoted."""
    return text if re.fullmatch(r"[A-Za-z0-9._/@-]+", text) else "'" + text.replace("'", "''") + "'"


def bindings_by_type(kinds: Mapping[str, Any]) -> dict[str, tuple[str, Binding]]:
    """CloudFormation type -> (the kind that watches it, its binding), from every kind's `bindings`."""
    found: dict[str, tuple[str, Binding]] = {}
    for name in sorted(kinds):
        for rtype, binding in (getattr(kinds[name], "bindings", None) or {}).items():
            if rtype in found:
                raise RuntimeError(f"{rtype} is bound by kinds {found[rtype][0]!r} and {name!r}")
            found[rtype] = (name, binding)
    return found


def name_options(kinds: Iterable[Any]) -> dict[str, NameOption]:
    """Option name -> its NameOption, over the given kinds (the first kind's wins for a shared option name)."""
    found: dict[str, NameOption] = {}
    for cls in kinds:
        for option, spec in (getattr(cls, "names", None) or {}).items():
            found.setdefault(option, spec)
    return found
