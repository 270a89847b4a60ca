"""mlmon's own YAML writer must mean exactly what the data says (PyYAML reads it back equal)."""

from __future__ import annotations

import json

import pytest
import yaml

from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.core.pipeline import load_spec

from .conftest import GOLDEN, GOLDEN_SPECS, SPECS

TRICKY = [
    "", " lead", "trail ", "yes", "No", "off", "~", "null", "1.5", "0x1", "1e3", ".inf", "-x", "- x", "?x", "a: b",
    "a #b", "#c", "@x", "`x", "%x", "!x", "&x", "*x", "|", ">", "'q'", '"q"', "it's \"q\" \\ x", "{x}", "[x]",
    "2026-01-01", "=", "x,y", "multi\nline", "multi\n\nline", "tab\tx", "trail \nx", "x\n", "\nlead", "x\ny\n",
    "a\r\nb", "\x85x", "a\u2028b", "\ufeffbom", "é", "\u00a0nbsp", "ALARM(\"${A.Arn}\") OR ALARM(\"${B.Arn}\")",
]


def test_tricky_scalars_round_trip() -> None:
    data = {"values": TRICKY, "yes": {}, "no": [], "k: v": 1, "f": 1.5, "i": -3, "b": True, "z": None,
            "nested": [[1, [2]], {"a": [{"b": "c", "d": []}]}, []]}
    assert yaml.safe_load(dump(data, "yaml")) == data
    assert json.loads(dump(data, "json")) == data


@pytest.mark.parametrize("spec_path", SPECS + GOLDEN_SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_templates_round_trip(spec_path) -> None:
    data = build_template(load_spec(spec_path)).template.to_dict()
    assert yaml.safe_load(dump(data, "yaml")) == data


def test_parallel_serialization_gives_the_same_text(monkeypatch) -> None:
    from benchmarks.synthetic import spec as synthetic_spec
    from mlmon_cli import serialize
    from mlmon_cli.core.pipeline import parse_spec

    result = build_template(parse_spec(yaml.safe_dump(synthetic_spec(200)), "s.yaml"), split=True)
    templates = {"template.yaml": result.template, **{f"stacks/{k}.yaml": v for k, v in result.nested.items()}}
    assert len(templates) > 2
    sequential = {name: dump(t.to_dict(), "yaml") for name, t in templates.items()}
    monkeypatch.setattr(serialize, "PARALLEL_MIN_RESOURCES", 0)
    parallel = serialize.dump_all(templates, "yaml")
    assert list(parallel) == list(templates) and parallel == sequential


def test_an_error_in_a_writer_process_reaches_the_caller(monkeypatch) -> None:
    import os

    from benchmarks.synthetic import spec as synthetic_spec
    from mlmon_cli import serialize
    from mlmon_cli.core.pipeline import parse_spec

    result = build_template(parse_spec(yaml.safe_dump(synthetic_spec(200)), "s.yaml"), split=True)
    templates = {"template.yaml": result.template, **{f"stacks/{k}.yaml": v for k, v in result.nested.items()}}
    parent, text = os.getpid(), serialize._text

    def broken_in_children(template, fmt):
        if os.getpid() != parent:
            raise ValueError("boom")
        return text(template, fmt)

    monkeypatch.setattr(serialize, "_text", broken_in_children)
    monkeypatch.setattr(serialize, "PARALLEL_MIN_RESOURCES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(RuntimeError, match="^writing a template failed: ValueError: boom$"):
        serialize.dump_all(templates, "yaml")


def test_a_list_object_met_again_is_written_as_a_copy_would_be() -> None:
    """The writer copies the lines of a list object it met before at the same indent (the tag list a
    component's alarms share): the text is that of unshared copies, at every indent, and a list
    changed between two dumps is written as it is now."""
    tags = [{"Key": "component", "Value": "fn"}, {"Key": "severity", "Value": "critical"}]
    shared = {"A": {"Tags": tags}, "B": {"Tags": tags}, "C": {"Tags": tags, "Deeper": {"Tags": tags}}, "D": tags}
    copies = {"A": {"Tags": list(tags)}, "B": {"Tags": list(tags)}, "C": {"Tags": list(tags), "Deeper": {"Tags": list(tags)}},
              "D": list(tags)}
    assert dump(shared, "yaml") == dump(copies, "yaml")
    assert yaml.safe_load(dump(shared, "yaml")) == copies
    tags.append({"Key": "owner", "Value": "ml-platform"})
    assert yaml.safe_load(dump(shared, "yaml"))["B"]["Tags"][-1] == {"Key": "owner", "Value": "ml-platform"}
