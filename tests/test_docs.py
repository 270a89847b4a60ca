"""The README's reference section is generated from the code, and the example specs use every option."""

from __future__ import annotations

import dataclasses
import re
import textwrap

import pytest
import yaml

from mlmon_cli.components import builtin_kinds, load_all
from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import parse_spec
from mlmon_cli.docs import kinds_markdown, spec_reference_markdown
from mlmon_cli.spec.model import AlarmDefaults, AlarmOverride, Notifications

from .conftest import GOLDEN_SPECS, ROOT, SPECS

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


def _kinds_in(docs: list) -> set[str]:
    return {c["kind"] for d in docs for c in d.get("components", [])}


def test_example_specs_show_every_shared_option() -> None:
    keys: set[str] = set()
    _keys([yaml.safe_load(p.read_text()) for p in SPECS], keys)
    wanted = {f.name for cls in (Notifications, AlarmDefaults, AlarmOverride) for f in dataclasses.fields(cls)}
    assert wanted - keys == set()
    # The `false` shorthand for disabling an alarm is shown too.
    assert any(re.search(r"^\s+\w+: false", p.read_text(), re.MULTILINE) for p in SPECS)


def test_every_option_of_every_kind_is_shown_by_an_example_or_its_golden_cases() -> None:
    """Checked from each kind's own option list, so a new kind is covered by its golden case alone."""
    specs = [yaml.safe_load(p.read_text()) for p in [*SPECS, *GOLDEN_SPECS]]
    missing = {}
    for name, kind in load_all().items():
        keys: set[str] = set()
        _keys([c for d in specs for c in d.get("components", []) if c.get("kind") == name], keys)
        options = {f.name for f in dataclasses.fields(kind.Options)}
        if options - keys or name not in _kinds_in(specs):
            missing[name] = sorted(options - keys)
    assert missing == {}


def test_builtin_kinds_are_in_the_bundled_examples() -> None:
    """Users start from specs/: every kind shipped in the package appears there (or declares its own `example`)."""
    shown = _kinds_in([yaml.safe_load(p.read_text()) for p in SPECS])
    assert {name for name, kind in builtin_kinds().items() if not kind.example} <= shown


def _bundled_example(name: str) -> str:
    """The first component of kind `name` in specs/, as a YAML list item."""
    for path in SPECS:
        for component in yaml.safe_load(path.read_text()).get("components", []):
            if component.get("kind") == name:
                return yaml.safe_dump([component], sort_keys=False)
    return ""


@pytest.mark.parametrize("name", sorted(load_all()))
def test_every_kind_has_an_example_that_works_alone(name: str) -> None:
    """A kind's `example` (shown in its reference), else its first component in specs/, validates and generates
    as the spec's only component (a plugin kind's example is checked by tests/test_new_kind.py)."""
    example = textwrap.indent(load_all()[name].example or _bundled_example(name), "  ")
    spec = parse_spec(f"solution: example\nnotifications: {{emails: [oncall@example.com]}}\ncomponents:\n{example}", "example.yaml")
    assert [c.kind for c in spec.components] == [name]
    assert build_template(spec).template.to_dict()["Resources"]
