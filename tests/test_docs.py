"""docs/ (spec reference, kinds, rules) is generated from the code, README and docs/ link each other
correctly, and the example specs use every option."""

from __future__ import annotations

import dataclasses
import re
import textwrap

import pytest
import yaml

from mlmon_cli.components import builtin_kinds, load_all
from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import parse_spec
from mlmon_cli.docs import GENERATED_BEGIN, documents, kinds_markdown, spec_reference_markdown
from mlmon_cli.spec.model import AlarmDefaults, AlarmOverride, Notifications

from .conftest import GOLDEN_SPECS, ROOT, SPECS


def _read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


@pytest.mark.parametrize("relative", sorted(documents(_read)))
def test_generated_document_is_current(relative: str, request) -> None:
    expected = documents(_read)[relative]
    if request.config.getoption("--update-goldens"):
        (ROOT / relative).write_text(expected, encoding="utf-8")
        return
    assert _read(relative) == expected, f"{relative} is stale: run pytest --update-goldens"


def test_spec_reference_and_kinds_are_generated_in_their_documents() -> None:
    spec, kinds = _read("docs/spec.md"), _read("docs/kinds.md")
    assert GENERATED_BEGIN + "\n## Spec reference\n\n" + spec_reference_markdown() in spec
    assert kinds_markdown().replace("\n### ", "\n## ")[4:] in kinds


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -."""
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", markdown, re.M):
        out.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return out


@pytest.mark.parametrize("relative", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))])
def test_relative_links_and_anchors_resolve(relative: str) -> None:
    """README and docs/ link each other after the split: every relative link names a file, and its #anchor a heading."""
    page = ROOT / relative
    broken = []
    for target in _LINK.findall(re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)):
        if "://" in target or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text(encoding="utf-8"))):
            broken.append(target)
    assert broken == []


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"```bash\n{command}\n```" in _read("README.md")
    assert "ruff check mlmon_cli" in command and "&& mypy &&" in command


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
    assert any(re.search(r"^\s+\w+: false", p.read_text(), re.M) for p in SPECS)


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
