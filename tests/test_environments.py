"""`--env`: one spec, per-environment thresholds, severities, recipients and enablement."""

from __future__ import annotations

import pytest

from mlmon_cli.cli import EXIT_INPUT, main
from mlmon_cli.core.build import build_template
from mlmon_cli.errors import SpecError
from mlmon_cli.core.pipeline import parse_spec

SPEC = """\
solution: churn
notifications: {emails: [oncall@example.com]}
components:
  - {kind: lambda, name: fn, function_name: f, timeout_seconds: 30}
  - {kind: glue_job, name: etl, job_name: j}
environments:
  dev:
    notifications: {emails: [dev@example.com]}
    components:
      fn: {alarms: {errors: {threshold: 5, severity: warning}, throttles: false}}
      etl: {enabled: false}
  prod: {}
"""


def resources(env: str | None) -> dict:
    return build_template(parse_spec(SPEC, "spec.yaml", env)).template.to_dict()["Resources"]


def _physical_names(resources: dict) -> list[str]:
    keys = ("AlarmName", "Name", "TopicName", "AliasName", "DashboardName", "FilterName", "ConfigurationName")
    return sorted(str(r["Properties"][k]) for r in resources.values() for k in keys if k in r.get("Properties", {}))


def test_prod_is_the_spec_as_written_with_prod_in_every_physical_name() -> None:
    base, prod = resources(None), resources("prod")
    assert sorted(base) == sorted(prod)  # same logical IDs: an environment never renames a resource
    assert "EtlCriticalComposite" in base
    base_names, prod_names = _physical_names(base), _physical_names(prod)
    assert len(base_names) == len(prod_names) >= 20
    assert all("churn-prod" in name for name in prod_names), [n for n in prod_names if "churn-prod" not in n]
    assert not any("prod" in name for name in base_names)
    assert prod["AlertsTopic"]["Properties"]["TopicName"] == "churn-prod-alerts"
    assert prod["AlertsKeyAlias"]["Properties"]["AliasName"] == "alias/churn-prod-alerts"


def test_environments_of_one_spec_share_no_physical_name() -> None:
    dev, prod = _physical_names(resources("dev")), _physical_names(resources("prod"))
    assert not set(dev) & set(prod)


def test_name_suffix_replaces_the_environment_name() -> None:
    spec = SPEC.replace("  prod: {}", "  prod: {name_suffix: p1}")
    tpl = build_template(parse_spec(spec, "spec.yaml", "prod")).template.to_dict()["Resources"]
    assert tpl["FnErrorsAlarm"]["Properties"]["AlarmName"] == "churn-p1-fn-Errors"
    base = build_template(parse_spec("name_suffix: blue\n" + SPEC, "spec.yaml")).template.to_dict()["Resources"]
    assert base["FnErrorsAlarm"]["Properties"]["AlarmName"] == "churn-blue-fn-Errors"


def test_bad_name_suffix_is_located() -> None:
    with pytest.raises(SpecError) as exc:
        parse_spec(SPEC.replace("  prod: {}", "  prod: {name_suffix: 'p 1'}"), "spec.yaml", "prod")
    assert [str(p) for p in exc.value.problems] == [
        "spec.yaml:12:23: name_suffix: use 1-20 letters, digits and '-' (it is added to every physical name)"]


def test_dev_overrides_recipients_thresholds_severity_and_enablement() -> None:
    dev = resources("dev")
    subscriptions = [r["Properties"]["Endpoint"] for r in dev.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscriptions == ["dev@example.com"]
    assert dev["FnErrorsAlarm"]["Properties"]["Threshold"] == 5
    assert dev["FnErrorsAlarm"]["Properties"]["AlarmDescription"].startswith("[warning]")
    assert "FnThrottlesAlarm" not in dev
    assert not any(name.startswith("Etl") for name in dev)


def test_overlay_problems_are_located_in_the_overlay() -> None:
    bad = SPEC.replace("threshold: 5", "threshold: lots")
    with pytest.raises(SpecError) as exc:
        parse_spec(bad, "spec.yaml", "dev")
    assert [str(p) for p in exc.value.problems] == [
        "spec.yaml:10:41: components[0].alarms.errors.threshold: expected a number, got a string 'lots'"]


def test_unknown_environment_and_component(runner, tmp_path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("      etl: {enabled: false}", "      elt: {enabled: false}"))
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr == f"{path}:11:7: environments.dev.components.elt: no component named 'elt' (did you mean 'etl'?)\n"
    path.write_text(SPEC)
    result = runner.invoke(main, ["generate", str(path), "--env", "prd"])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr == f"{path}:7:3: environments: unknown environment 'prd' (did you mean 'prod'?); known: dev, prod\n"


def test_validate_checks_every_environment(runner, tmp_path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"{path}: ok (2 components)", f"{path} [env dev]: ok (1 components)",
                                          f"{path} [env prod]: ok (2 components)"]
