"""Hostile input (issue 11): never crash, never hang, never write a template that fails, never grant more than needed.

Spec-level defects with exact messages are data in `invalid/hostile_*.yaml`; this file holds the
property-based tests (Hypothesis, derandomized and bounded), the write-path fault injection, and
the regressions that need more than one command's stderr (harden, lint, IAM, timing, output bytes).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from random import Random

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz import run_one, seeds
from benchmarks.fuzz import mutate as fuzz_mutate
from mlmon_cli.cli import EXIT_INPUT, main
from mlmon_cli.lint import lint_template

ROOT = Path(__file__).resolve().parent.parent
CHURN = ROOT / "specs" / "churn-model.yaml"
LOCATED = re.compile(r"^[^\n]*?:\d+:\d+: \S")
SEEDS = seeds()
PROPERTY = settings(derandomize=True, deadline=None, max_examples=40, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

LAMBDA_SPEC = """solution: s
notifications: {{emails: [oncall@example.com]}}
components:
  - kind: lambda
    name: f
    function_name: {name}
    timeout_seconds: 30
    description: {description}
"""


def _mlmon(*args: str, cwd: Path | None = None, preexec=None, stdout=subprocess.PIPE, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlmon_cli", *args], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, preexec_fn=preexec, timeout=120, **kwargs)


# ------------------------------------------------------------------ property-based (Hypothesis)
@PROPERTY
@given(index=st.integers(0, len(SEEDS) - 1), rng=st.randoms(use_true_random=False))
def test_mutated_specs_never_exit_70_and_every_message_is_located(index: int, rng, tmp_path_factory) -> None:
    """Every bundled and golden spec, mutated: no internal error, no hang, located lines only,
    the previous -o file untouched and no temp file on failure, validate never stricter than generate."""
    work = tmp_path_factory.mktemp("fuzz")
    outcome = run_one(fuzz_mutate(SEEDS[index][1], Random(rng.random())), work)
    assert outcome.problems == []


@settings(derandomize=True, deadline=None, max_examples=12, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=70), description=st.text(max_size=80))
def test_any_accepted_name_and_description_gives_a_lint_clean_template(name: str, description: str, tmp_path_factory) -> None:
    """Arbitrary text (control characters, `${`, quotes, emoji) as a name and a description: either
    located errors, or a template cfn-lint passes with zero errors."""
    work = tmp_path_factory.mktemp("text")
    outcome = run_one(LAMBDA_SPEC.format(name=json.dumps(name), description=json.dumps(description)), work)
    assert outcome.problems == []
    if outcome.template is not None:
        assert [f for f in lint_template(outcome.template, "t.yaml") if f.is_error] == []


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
_json_value = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                           max_leaves=20)


@PROPERTY
@given(states=st.dictionaries(st.text(min_size=1, max_size=10), _json_value, min_size=1, max_size=4))
def test_harden_never_exits_70_on_arbitrary_states(states: dict, tmp_path_factory) -> None:
    from click.testing import CliRunner

    work = tmp_path_factory.mktemp("harden")
    path = work / "def.json"
    path.write_text(json.dumps({"StartAt": next(iter(states)), "States": states}), encoding="utf-8")
    result = CliRunner().invoke(main, ["harden", str(path)])
    assert result.exit_code in (0, 1), result.stderr
    if result.exit_code == 0:
        json.loads(result.stdout)  # valid JSON (no NaN)
    else:
        assert all(LOCATED.match(line) for line in result.stderr.splitlines())


# ------------------------------------------------------------------ YAML features
def test_merge_keys_are_supported(runner, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("""x-lambda: &fn {kind: lambda, timeout_seconds: 30}
solution: s
notifications: {emails: [oncall@example.com]}
components:
  - <<: *fn
    name: a
    function_name: a
  - <<: [*fn]
    name: b
    function_name: b
    timeout_seconds: 60
""".replace("x-lambda", "description: merged\nx"), encoding="utf-8")
    result = runner.invoke(main, ["validate", str(spec)])
    # the anchor's holder is an unknown top-level key: reported, but the merges themselves work
    assert result.stderr == f"{spec}:2:1: x: unknown key 'x'\n"
    spec.write_text(spec.read_text().replace("description: merged\nx: &fn", "defaults: &fn").replace(
        "{kind: lambda, timeout_seconds: 30}", "{period: 300}"), encoding="utf-8")
    text = spec.read_text()
    text = text.replace("  - <<: *fn\n", "  - <<: {kind: lambda, timeout_seconds: 30}\n").replace("  - <<: [*fn]\n", "  - <<: [{kind: lambda}]\n")
    spec.write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["validate", str(spec)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"{spec}: ok (2 components)\n"


def test_alias_bomb_is_refused_within_a_second(runner, tmp_path) -> None:
    """8 levels of 9 aliases (43 million values) used to run past 30 s."""
    lines = ["x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    spec = tmp_path / "spec.yaml"
    spec.write_text("\n".join(lines) + "\n" + CHURN.read_text(), encoding="utf-8")
    started = time.perf_counter()
    result = runner.invoke(main, ["validate", str(spec)])
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == EXIT_INPUT
    assert "aliases expand this spec to more than 200000 values" in result.stderr


def test_a_problem_inside_an_alias_bomb_is_reported_once(runner, tmp_path) -> None:
    """The fuzz run found it: a tag error in the bombed value was reported once per expansion
    (200,000 lines, 10 s, then an internal error)."""
    lines = ["x0: &a0 [!custom a, 1, 1, 1, 1, 1, 1, 1, 1]"] + [f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    spec = tmp_path / "spec.yaml"
    spec.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = runner.invoke(main, ["validate", str(spec)])
    assert time.perf_counter() - started < 1.0
    assert result.stderr == (
        f"{spec}:1:10: x0[0]: YAML tag '!custom' is not supported here; mlmon specs use plain YAML values\n"
        f"{spec}:6:5: x5: aliases expand this spec to more than 200000 values; use fewer nested aliases\n")


def test_nesting_through_a_chain_of_aliases_is_bounded(runner, tmp_path) -> None:
    """Each alias adds 60 levels: 20 of them would nest 1,200 deep (a RecursionError later on)."""
    chain = ["y0: &b0 " + "[" * 60 + "1" + "]" * 60] + [f"y{n}: &b{n} " + "[" * 60 + f"*b{n - 1}" + "]" * 60 for n in range(1, 20)]
    spec = tmp_path / "spec.yaml"
    spec.write_text("\n".join(chain) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(spec)])
    assert result.stderr == f"{spec}:1:5: y1: nested more than 64 levels deep (through aliases)\n"


def test_yaml_reader_error_has_no_unicode_string_line(runner, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("solution: s\ndescription: a\x07b\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(spec)])
    assert result.stderr == f"{spec}:2:15: (file): YAML does not allow the character U+0007 here (a control character); remove it\n"


def test_oversized_spec_is_refused_before_parsing(runner, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("# " + "x" * 2_000_001 + "\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(spec)])
    assert result.stderr == f"{spec}:1:1: (file): the file has 2000004 characters; a spec may have at most 2000000\n"


# ------------------------------------------------------------------ output text
def test_emoji_step_name_is_valid_yaml_and_start_at_matches(runner, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("""solution: s
notifications: {emails: [oncall@example.com]}
components:
  - kind: workflow
    name: flow
    steps:
      - name: "\U0001F600 prepare"
        lambda_invoke: {function_name: prep}
""", encoding="utf-8")
    out = tmp_path / "t.yaml"
    result = runner.invoke(main, ["generate", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    definition = yaml.safe_load(text)["Resources"]["FlowStateMachine"]["Properties"]["Definition"]
    assert definition["StartAt"] == "\U0001F600 prepare" and "\U0001F600 prepare" in definition["States"]
    assert [f for f in lint_template(text, "t.yaml") if f.is_error] == []


def test_json_output_is_json_for_every_bundled_spec(runner, tmp_path) -> None:
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        result = runner.invoke(main, ["generate", str(path), "--format", "json"])
        assert result.exit_code == 0, result.stderr
        json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"{path.name}: {c} in JSON output"))


# ------------------------------------------------------------------ write paths (fault injection)
def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_file_size_limit_keeps_the_previous_template(tmp_path) -> None:
    out = tmp_path / "template.yaml"
    out.write_text("previous\n", encoding="utf-8")
    result = _mlmon("generate", str(CHURN), "-o", str(out), preexec=_limit_file_size(20_000))
    assert result.returncode == 1
    assert result.stderr == f"{out}: cannot write: File too large; the previous file (if any) is unchanged\n"
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["template.yaml"]


def test_file_size_limit_keeps_the_previous_split_output(tmp_path) -> None:
    out = tmp_path / "out"
    first = _mlmon("generate", str(CHURN), "--split", "-o", str(out))
    assert first.returncode == 0, first.stderr
    before = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    (out / "mine.txt").write_text("user file\n")
    result = _mlmon("generate", str(CHURN), "--split", "--format", "json", "-o", str(out), preexec=_limit_file_size(20_000))
    assert result.returncode == 1
    assert result.stderr == f"{out}: cannot write: File too large; the previous output is unchanged\n"
    after = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != "mine.txt"}
    assert after == before
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt", "stacks", "template.yaml"]


def test_split_output_replaces_stale_stacks_whole(tmp_path) -> None:
    out = tmp_path / "out"
    (out / "stacks").mkdir(parents=True)
    (out / "stacks" / "monitoring-old.yaml").write_text("stale\n")
    result = _mlmon("generate", str(CHURN), "--split", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "stacks").iterdir()) == ["monitoring-all.yaml"]
    assert sorted(p.name for p in out.iterdir()) == ["stacks", "template.yaml"]


def _make_read_only(directory: Path) -> tuple[bool, str]:
    """chmod for a normal user; root ignores permissions, so the immutable attribute (chattr +i)."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return True, ""
    done = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip()


def _make_writable(directory: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(directory)], capture_output=True)
    directory.chmod(0o755)


def test_read_only_directory_keeps_the_previous_template(tmp_path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    out = directory / "template.yaml"
    out.write_text("previous\n", encoding="utf-8")
    ok, why = _make_read_only(directory)
    if not ok:
        pytest.skip(f"cannot make a directory read-only for root here: {why}")
    try:
        result = _mlmon("generate", str(CHURN), "-o", str(out))
    finally:
        _make_writable(directory)
    assert result.returncode == 1, result.stderr
    reason = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    assert result.stderr == f"{out}: cannot write: {reason}; the previous file (if any) is unchanged\n"
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in directory.iterdir()) == ["template.yaml"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_stdout_is_exit_1_with_a_message() -> None:
    with open("/dev/full", "w") as full:
        result = _mlmon("generate", str(CHURN), stdout=full)
    assert result.returncode == 1
    assert result.stderr == "stdout: cannot write: No space left on device; the output is incomplete\n"


def test_closed_stdout_is_exit_1_with_a_message() -> None:
    result = subprocess.run(f"'{sys.executable}' -m mlmon_cli generate '{CHURN}' >&-", shell=True, stderr=subprocess.PIPE,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == "stdout: cannot write: stdout is closed; use -o FILE\n"


def test_reader_that_goes_away_is_exit_1_with_a_message(tmp_path) -> None:
    """`| head -c 100` on an output larger than the pipe buffer (a template that fits in the
    buffer is completely written before the reader leaves: nothing can notice that)."""
    from benchmarks.synthetic import spec_text

    spec = tmp_path / "big.yaml"
    spec.write_text(spec_text(40), encoding="utf-8")
    result = subprocess.run(f"'{sys.executable}' -m mlmon_cli generate '{spec}' | head -c 100 >/dev/null; echo \"rc=${{PIPESTATUS[0]}}\"",
                            shell=True, executable="/bin/bash", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.stdout.strip() == "rc=1"
    assert result.stderr == "stdout: cannot write: the reader closed the pipe; the output is incomplete\n"


# ------------------------------------------------------------------ harden and lint readers
HARDEN_CASES = {
    "deep_json": ("d.json", '{"StartAt": "A", "States": ' + "[" * 50_000 + "]" * 50_000 + "}", "d.json:1:1: (file): nested more than 100 levels deep"),
    "huge_integer": ("i.json", '{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": ' + "9" * 5000 + ', "End": true}}}',
                     "i.json:1:62: (file): an integer of 5000 digits; at most 30"),
    "nan": ("n.json", '{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": NaN, "End": true}}}',
            "n.json:1:62: (file): NaN and Infinity are not JSON numbers"),
    "list_as_key": ("k.yaml", "StartAt: A\nStates:\n  ? [a]\n  : {Type: Pass, End: true}\n",
                    "k.yaml:1:1: (file): invalid YAML: keys must be strings (unhashable type: 'list')"),
    "integer_state_name": ("s.yaml", "StartAt: A\nStates:\n  1: {Type: Pass, End: true}\n",
                           "s.yaml:3:3: (file): States: keys (and state names) must be strings, got 1"),
    "null_state_name": ("z.yaml", "StartAt: A\nStates:\n  null: {Type: Pass, End: true}\n",
                        "z.yaml:3:3: (file): States: keys (and state names) must be strings, got null"),
    "recursive_alias": ("r.yaml", "StartAt: A\nx: &r [*r]\nStates:\n  A: {Type: Pass, End: true}\n",
                        "r.yaml:2:4: (file): recursive alias: a value contains itself"),
    "alias_bomb": ("b.yaml", "StartAt: A\n" + "".join(f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9) if n else '1, 1, 1, 1, 1, 1, 1, 1, 1'}]\n"
                                                     for n in range(8)) + "States:\n  A: {Type: Pass, End: true}\n",
                   "b.yaml:7:5: (file): aliases expand this definition to more than 200000 values"),
    "yaml_nan": ("y.yaml", "StartAt: A\nStates:\n  A: {Type: Wait, Seconds: .nan, End: true}\n",
                 "y.yaml:3:29: (file): States.A.Seconds: nan is not a JSON number (finite numbers only)"),
}


@pytest.mark.parametrize("case", sorted(HARDEN_CASES))
def test_harden_reports_malformed_definitions_as_located_errors(case: str, runner, tmp_path, monkeypatch) -> None:
    name, text, message = HARDEN_CASES[case]
    monkeypatch.chdir(tmp_path)
    Path(name).write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["harden", name])
    assert (result.exit_code, result.stderr) == (EXIT_INPUT, message + "\n")


def test_lint_reports_an_unparsable_definition_instead_of_reading_it_as_a_spec(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("n.asl.json").write_text(HARDEN_CASES["nan"][1], encoding="utf-8")
    result = runner.invoke(main, ["lint", "n.asl.json"])
    assert (result.exit_code, result.stderr) == (EXIT_INPUT, "n.asl.json:1:62: (file): NaN and Infinity are not JSON numbers\n")


def test_lint_finding_for_a_recursive_template_is_one_line(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text("Resources:\n  A: &r\n    Type: AWS::SNS::Topic\n    Properties: {X: [*r]}\n", encoding="utf-8")
    result = runner.invoke(main, ["lint", "t.yaml"])
    assert result.exit_code == 3
    assert result.stdout == "t.yaml:1:1: E0000: Template could not be parsed: found unconstructable recursive node\n"


def test_forged_fallback_comment_does_not_take_over_the_fallback() -> None:
    """A user's Succeed-bound Pass whose Comment starts with mlmon's notify tag used to become the
    catch target, so every failure ended SUCCEEDED."""
    from mlmon_cli.asl import harden_definition

    definition = {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}, "End": True},
        "Fake": {"Type": "Pass", "Comment": "[mlmon:harden:notify] mine", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    }}
    hardened = harden_definition(definition).definition
    target = hardened["States"]["Work"]["Catch"][-1]["Next"]
    path = [target]
    while hardened["States"][path[-1]].get("Next"):
        path.append(hardened["States"][path[-1]]["Next"])
    assert "Fake" not in path
    assert hardened["States"][path[-1]]["Type"] == "Fail"
    assert "Retry" not in hardened["States"]["Fake"]  # a Pass: kept as the user wrote it
    assert harden_definition(hardened).changes == ()  # and the real fallback is still found by structure


# ------------------------------------------------------------------ least privilege
def test_chatbot_channel_gets_a_guardrail_and_a_notifications_only_role(runner) -> None:
    result = runner.invoke(main, ["generate", str(ROOT / "specs" / "realtime-platform.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    resources = json.loads(result.stdout)["Resources"]
    slack = resources["WarningSlack"]["Properties"]
    assert slack["GuardrailPolicies"] == [{"Ref": "WarningSlackGuardrail"}]
    guardrail = resources["WarningSlackGuardrail"]
    assert guardrail["Type"] == "AWS::IAM::ManagedPolicy"
    allowed = {a for s in guardrail["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert allowed == {"cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"}
    role = resources["WarningSlackRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert [a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] for a in s["Action"]] == sorted(allowed)


def test_null_for_an_optional_bounded_option_means_its_default(runner, tmp_path) -> None:
    """`expect_success_within_hours: null` compared None with the option's minimum (exit 70)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("solution: s\nnotifications: {emails: [oncall@example.com]}\ncomponents:\n"
                    "  - {kind: glue_job, name: etl, job_name: etl, expect_success_within_hours: null}\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(spec)])
    assert (result.exit_code, result.stderr) == (0, f"{spec}: ok (1 components)\n")


def test_cloudformation_tag_on_a_component_is_located(runner, tmp_path) -> None:
    """`- !Sub {kind: ...}` crashed reading the component's keys (found by the fuzz run)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("solution: s\nnotifications: {emails: [oncall@example.com]}\ncomponents:\n"
                    "  - !Sub {kind: glue_job, name: etl, job_name: etl}\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(spec)])
    assert (result.exit_code, result.stderr) == (
        1, f"{spec}:4:5: components[0]: CloudFormation intrinsic functions (!Sub) are not supported here; write the literal value\n")


def test_lint_of_a_spec_with_a_bad_bool_tag_is_located(runner, tmp_path, monkeypatch) -> None:
    """lint first tries a file as a state machine definition: `!!bool maybe` crashed that reader (exit 70)."""
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text("solution: s\nnotifications: {emails: [oncall@example.com]}\ncomponents:\n"
                                 "  - {kind: glue_job, name: etl, job_name: etl, enabled: !!bool maybe}\n", encoding="utf-8")
    result = runner.invoke(main, ["lint", "spec.yaml"])
    assert (result.exit_code, result.stderr) == (1, "spec.yaml:4:57: components[0].enabled: 'maybe' is not a valid !!bool value\n")
