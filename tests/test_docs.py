"""The README's reference section is generated from the code, and the example specs use every option."""

from __future__ import annotations

import dataclasses
import re

import yaml

from mlmon_cli.components import load_all
from mlmon_cli.docs import kinds_markdown, spec_reference_markdown
from mlmon_cli.spec.model import AlarmDefaults, AlarmOverride, Notifications

from .conftest import ROOT, SPECS

BEGIN = "<!-- BEGIN GENERATED REFERENCE (pytest --update-goldens rewrites this section) -->\n"
END = "<!-- END GENERATED REFERENCE -->"


def test_readme_reference_is_current(request) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    expected = "\n### Spec reference\n\n" + spec_reference_markdown() + "\n## Component kinds and their alarms\n\n" + kinds_markdown() + "\n"
    if request.config.getoption("--update-goldens"):
        readme.write_text(text[:start] + expected + text[end:], encoding="utf-8")
        return
    assert text[start:end] == expected, "README reference is stale: run pytest --update-goldens"


def _keys(node, found: set[str]) -> None:
    if isinstance(node, dict):
        found.update(node)
        for value in node.values():
            _keys(value, found)
    elif isinstance(node, list):
        for item in node:
            _keys(item, found)


def test_example_specs_use_every_kind_and_option() -> None:
    docs = [yaml.safe_load(p.read_text()) for p in SPECS]
    keys: set[str] = set()
    _keys(docs, keys)
    kinds = {c["kind"] for d in docs for c in d["components"]}
    registry = load_all()
    assert kinds == set(registry)
    wanted = {f.name for cls in (Notifications, AlarmDefaults, AlarmOverride) for f in dataclasses.fields(cls)}
    for kind in registry.values():
        wanted |= {f.name for f in dataclasses.fields(kind.Options)}
    assert wanted - keys == set()
    # The `false` shorthand for disabling an alarm is shown too.
    assert any(re.search(r"^\s+\w+: false", p.read_text(), re.M) for p in SPECS)
