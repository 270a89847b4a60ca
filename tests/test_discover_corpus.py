"""Acceptance: every template of ../shared/corpus/templates -> `init --from-template` -> `generate`.

For each template: every resource of a supported kind is watched by an alarm or rule that
references it, every original resource/parameter/condition/output is unchanged, and cfn-lint
reports no error the original did not already have. Prints the coverage table.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.discover import deploy_time_handlers, spec_from_template, watchable
from mlmon_cli.lint import lint_files
from mlmon_cli.core.pipeline import load_spec
from mlmon_cli.spec.app_template import load_app_template

from .conftest import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "templates"
TEMPLATES = sorted(CORPUS.glob("t*")) if CORPUS.is_dir() else []
# A knowledge base is watched through the log delivery that feeds its alarmed metric filter.
WATCHERS = ("AWS::CloudWatch::Alarm", "AWS::Events::Rule", "AWS::Logs::DeliverySource")
REST_APIS = ("AWS::ApiGateway::RestApi", "AWS::Serverless::Api")
WATCH_OR_SAY_WHY = ("AWS::Bedrock::KnowledgeBase", "AWS::Bedrock::DataSource", "AWS::Bedrock::Agent")


def _mentions(value: object, logical: str) -> bool:
    """Does a CloudFormation value reference `logical` through Ref, GetAtt or Fn::Sub?"""
    if isinstance(value, dict):
        if value.get("Ref") == logical:
            return True
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and att[0] == logical:
            return True
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) else sub
        if isinstance(text, str) and re.search(r"\$\{%s(\.[A-Za-z0-9.]+)?\}" % re.escape(logical), text):
            return True
        return any(_mentions(v, logical) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, logical) for v in value)
    return False


def _errors(jobs: list[tuple[str, str]]) -> dict[str, set[tuple[str, str]]]:
    """cfn-lint error findings per job name (one lint_files call: it lints in parallel across cores)."""
    out: dict[str, set[tuple[str, str]]] = {name: set() for name, _ in jobs}
    for f in lint_files(jobs):
        if f.is_error:
            out[f.file].add((f.rule, re.sub(r"\d+", "N", f.message)))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not TEMPLATES and os.environ.get("CI", "").lower() not in ("true", "1", "yes"),
                    reason="../shared/corpus/templates is not beside the clone")
def test_every_corpus_template_is_monitored_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(TEMPLATES) == 30
    rows, failures, jobs = [], [], []
    started = time.perf_counter()
    for path in TEMPLATES:
        app = load_app_template(path, str(path))
        spec_path = tmp_path / f"{path.stem}.spec.yaml"
        found = spec_from_template(app, os.path.relpath(path, tmp_path), "corpus", str(path))
        spec_path.write_text(found.text)
        handlers = deploy_time_handlers(app)  # custom-resource handlers: listed with the reason, not watched by default
        skipped = {logical: why for logical, _t, why in found.skipped}
        # a kind may decline a resource of its type with the reason in the spec (t08's DISABLED schedule rule)
        declined = {k for k, r in app.resources.items() if r.get("Type") in watchable() and k in skipped and k not in handlers}
        supported = [k for k, r in app.resources.items() if r.get("Type") in watchable() and k not in handlers
                     and k not in declined]
        assert found.watched == supported
        for k, r in app.resources.items():  # knowledge bases, data sources, agents: watched or listed with a reason
            if r.get("Type") in WATCH_OR_SAY_WHY and k not in found.watched and not skipped.get(k):
                failures.append(f"{path.name}: {k} ({r['Type']}) is neither watched nor listed with a reason")
        if not supported:  # init refuses (exit 1) rather than write a spec generate refuses
            if not found.refusal(app):
                failures.append(f"{path.name}: nothing watchable, but init would write a spec without components")
            rows.append([path.name, len(app.resources), 0, 0, "-"])
            continue
        merged = build_template(load_spec(spec_path)).template.to_dict()
        for section in ("Resources", "Parameters", "Conditions", "Outputs", "Mappings", "Transform", "Globals"):
            original = app.data.get(section)
            if isinstance(original, dict):
                kept = {k: merged[section][k] for k in original}
                if kept != original:
                    failures.append(f"{path.name}: {section} changed")
            elif original is not None and merged.get(section) != original:
                failures.append(f"{path.name}: {section} changed")
        watchers = [r for k, r in merged["Resources"].items() if k not in app.resources and r["Type"] in WATCHERS]
        # a REST API is named by its Name property, which no Ref or GetAtt returns: its alarms carry its component's tag
        component_of = {logical: name for name, logical in (load_spec(spec_path).cfn.resources.items())}
        tagged = {t["Value"] for r in watchers for t in r["Properties"].get("Tags") or [] if t["Key"] == "component"}
        watched = [k for k in supported if any(_mentions(r.get("Properties"), k) for r in watchers)
                   or (app.resources[k]["Type"] in REST_APIS and component_of.get(k) in tagged)]
        failures.extend(f"{path.name}: {k} is not referenced by any alarm or rule" for k in supported if k not in watched)
        jobs += [(f"{path.name}(merged)", dump(merged, "yaml")), (path.name, path.read_text())]
        rows.append([path.name, len(app.resources), len(supported), len(watched), ""])
    errors = _errors(jobs)
    for row in rows:
        if row[2]:
            new = errors[f"{row[0]}(merged)"] - errors[row[0]]
            failures.extend(f"{row[0]}: new cfn-lint error {rule}: {message}" for rule, message in sorted(new))
            row[4] = str(len(new))
    with capsys.disabled():
        print(f"\n{'template':<66} {'resources':>9} {'supported':>9} {'watched':>7} {'new lint errors':>15}")
        for row in rows:
            print(f"{row[0]:<66} {row[1]:>9} {row[2]:>9} {row[3]:>7} {row[4]:>15}")
        total_s, total_w = sum(r[2] for r in rows), sum(r[3] for r in rows)
        print(f"{'total':<66} {sum(r[1] for r in rows):>9} {total_s:>9} {total_w:>7}   ({time.perf_counter() - started:.1f} s)")
    assert failures == []
