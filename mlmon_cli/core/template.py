"""The troposphere Template every built template starts from (single, parent or nested)."""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn, AWSObject, BaseAWSObject, Template

_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


class UncappedTemplate(Template):
    """A Template that lets us count past 500 resources, so the limit error can name the count,
    and turns itself into plain data faster than troposphere's generic encoder (same result)."""

    def add_resource(self, resource: Any) -> Any:
        return self._update(self.resources, resource)

    def to_dict(self) -> dict[str, Any]:
        return plain(self.template_data())

    def template_data(self) -> dict[str, Any]:
        """The template's sections as troposphere's `to_dict` lays them out, still holding the
        resource objects: the writer (serialize.dump) unwraps them as it goes (`unwrap`)."""
        t: dict[str, Any] = {}
        for key, value in (("Description", self.description), ("Metadata", self.metadata), ("Conditions", self.conditions),
                           ("Mappings", self.mappings), ("Outputs", self.outputs), ("Parameters", self.parameters),
                           ("AWSTemplateFormatVersion", self.version), ("Transform", self.transform), ("Rules", self.rules),
                           ("Globals", self.globals)):
            if value:
                t[key] = value
        t["Resources"] = self.resources
        return t

    @staticmethod
    def unwrap(value: Any) -> Any:
        return unwrap(value)


def plain(value: Any) -> Any:
    """`troposphere.encode_to_dict` for what templates hold, without its per-value `hasattr` probes:
    resources and properties are validated as troposphere validates them, then encoded."""
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return value
    if kind is dict:  # most values are strings: test them here rather than in a call each
        return {k: v if type(v) in _SCALAR_TYPES else plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALAR_TYPES else plain(v) for v in value]
    if isinstance(value, _SCALARS):  # subclasses (e.g. str enums)
        return value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, BaseAWSObject) and type(value).to_dict is BaseAWSObject.to_dict:
        if value.do_validation:
            value._validate_props()
            value.validate()
        if value.properties:
            return plain(value.resource)
        if getattr(value, "resource_type", None) is not None:
            return {k: plain(v) for k, v in value.resource.items() if k != "Properties"}
        return {}
    if isinstance(value, AWSHelperFn) and type(value).to_dict is AWSHelperFn.to_dict:
        return plain(value.data)
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if hasattr(value, "JSONrepr"):
        return plain(value.JSONrepr())
    return value


_ATTRIBUTES = ("Condition", "CreationPolicy", "DeletionPolicy", "DependsOn", "Metadata", "UpdatePolicy", "UpdateReplacePolicy")


def quick(cls: type[AWSObject], title: str, props: dict[str, Any]) -> Any:
    """The troposphere resource `cls(title, **props)` would make, with `props` taken as they are
    instead of type-checked one by one: for the tens of thousands of alarms, composites and rules
    mlmon builds from values whose types it controls (its logical IDs are alphanumeric by
    construction). Required properties are still checked when the template is encoded."""
    resource = object.__new__(cls)  # nothing of __init__: its work is done below
    state = resource.__dict__
    state.update(title=title, template=None, do_validation=True, propnames=_propnames(cls), attributes=list(_ATTRIBUTES),
                 properties=props, resource={"Properties": props, "Type": cls.resource_type})
    state["_BaseAWSObject__initialized"] = True
    return resource


_PROPNAMES: dict[type[AWSObject], set[str]] = {}


def _propnames(cls: type[AWSObject]) -> set[str]:
    names = _PROPNAMES.get(cls)
    if names is None:
        names = _PROPNAMES[cls] = set(cls.props)
    return names


def unwrap(value: Any) -> Any:
    """One level of `plain`: what a troposphere object stands for in the template, as troposphere
    encodes it (resources validated first); nested objects are left for the writer to unwrap."""
    if isinstance(value, BaseAWSObject) and type(value).to_dict is BaseAWSObject.to_dict:
        if value.do_validation:
            value._validate_props()
            value.validate()
        if value.properties:
            return value.resource
        if getattr(value, "resource_type", None) is not None:
            return {k: v for k, v in value.resource.items() if k != "Properties"}
        return {}
    if isinstance(value, AWSHelperFn) and type(value).to_dict is AWSHelperFn.to_dict:
        return value.data
    return plain(value)


def new_template() -> Template:
    t = UncappedTemplate()
    t.set_version("2010-09-09")
    return t
