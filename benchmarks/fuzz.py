"""Mutation fuzzer: hostile variants of every bundled and golden spec through `generate -o` and `validate`.

Each mutated spec runs in-process through the real CLI (click's runner) with a 10 s alarm, and is
judged on what the README promises:

* never exit 70 (internal error), never more than 10 s;
* on failure every stderr line is one located `file:line:col: ...` line (none split, none unlocated),
  and the previous `-o` file is untouched with no temp file beside it;
* `validate` and `generate` agree (generate never rejects what validate accepted);
* every accepted spec's template has no cfn-lint error (linted in parallel, one process per core).

    python benchmarks/fuzz.py                  # 3,000 mutated specs, seed 11
    python benchmarks/fuzz.py --count 300 --seed 7 --no-lint

The mutation operators are shared with the property-based tests (tests/test_hostile_input.py).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCATED = re.compile(r"^[^\n]*?:\d+:\d+: \S")
INFO = "mlmon: "
OK_LINE = re.compile(r"^\S.*: ok \(\d+ components\)$")  # validate: a file or environment that passed
BUCKET_LINE = re.compile(r"^\S.*: the template is over \d+ bytes: deploy with --s3-bucket BUCKET$")  # validate's note after it
TIME_LIMIT = 10

# Values a hostile or careless user writes; each went through a real defect of issue 11.
HOSTILE_VALUES = [
    "!Ref Foo", "!Sub 'x-${AWS::Region}'", "!GetAtt A.Arn", "!!float abc", "!!int abc", "!!bool maybe",
    "!!timestamp 2020-99-99", "!custom x", "!!binary aGk=", ".nan", ".inf", "-.inf", "1e400", "9" * 5000,
    "'x-${AlertsTopic.TopicName}'", "'${AWS::Region}'", "'a\u2028b'", '"a\\nb"', '"a\\x85b"', '"a\\tb"',
    '"spec.yaml:1:1: forged"', "'\U0001F600 step'", "'" + "x" * 1100 + "'", "'log group; rm'", "'a b'",
    "'<a@b.co>'", "'a@b..co'", "'mailto:a@b.co'", "'https://user:pass@host/x'", "'a\"b'", "-1", "0",
    "0.5", "1000000", "true", "null", "~", "[]", "{}", "[a, b]", "{a: 1}", "''", "' '", "'arn:aws:states:us-east-1:123456789012:stateMachine:x'",
    "'arn:aws:lambda:us-east-1:123456789012:function:f'", "a", "'\u202eevil'", "'x\\u0000y'", "'${!Literal}'",
]
# Plausible values: most specs they produce are accepted, so their templates reach cfn-lint.
BENIGN_VALUES = [
    "x-1", "Prod_2", "a" * 60, "42", "0.05", "300", "60", "3", "true", "false", "'Überwachung ✓ 😀'",
    "\"quote ' and \\\" inside\"", "'50% # not a comment'", "'a: b'", "'- dash'", "'x' ", "churn-v2.1", "'000123'",
]
TAGS = ["!Ref", "!Sub", "!GetAtt", "!ImportValue", "!Join", "!!str", "!!int", "!!float", "!!bool", "!!null", "!x", "!!python/object"]
_VALUE = re.compile(r"^(\s*(?:- )?[A-Za-z_][\w-]*:\s+)(\S.*)$")
_LINE_ITEM = re.compile(r"^(\s*- )(\S.*)$")


def seeds() -> list[tuple[str, str]]:
    """(name, text) of every bundled and golden spec."""
    paths = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "golden").glob("*/spec.yaml"))
    return [(f"{p.parent.name}/{p.name}", p.read_text(encoding="utf-8")) for p in paths]


def _value_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if _VALUE.match(line) or _LINE_ITEM.match(line)]


def mutate(text: str, rng: Random) -> str:
    """One (mostly) to three random mutations of spec text."""
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        text = OPERATORS[rng.randrange(len(OPERATORS))](text, rng)
    return text


def _rewrite_value(text: str, rng: Random, value: Callable[[re.Match[str]], str]) -> str:
    """Replace the value of one random `key: value` or `- value` line with `value(match)`."""
    lines = text.split("\n")
    targets = _value_lines(lines)
    if not targets:
        return text
    i = rng.choice(targets)
    m = _VALUE.match(lines[i]) or _LINE_ITEM.match(lines[i])
    assert m is not None
    lines[i] = value(m)
    return "\n".join(lines)


def _replace_value(text: str, rng: Random) -> str:
    return _rewrite_value(text, rng, lambda m: m.group(1) + rng.choice(HOSTILE_VALUES))


def _benign_value(text: str, rng: Random) -> str:
    return _rewrite_value(text, rng, lambda m: m.group(1) + rng.choice(BENIGN_VALUES))


def _tag_value(text: str, rng: Random) -> str:
    return _rewrite_value(text, rng, lambda m: f"{m.group(1)}{rng.choice(TAGS)} {m.group(2)}")


def _append_to_value(text: str, rng: Random) -> str:
    lines = text.split("\n")
    targets = [i for i in _value_lines(lines) if not lines[i].rstrip().endswith(("[", "{", ":", "|", ">"))]
    if not targets:
        return text
    i = rng.choice(targets)
    extra = rng.choice(["${AlertsTopic.TopicName}", "-\U0001F600", " x", ";", "\"", "'", "#", "x" * rng.choice([30, 300, 1100])])
    lines[i] = lines[i] + extra
    return "\n".join(lines)


def _drop_line(text: str, rng: Random) -> str:
    lines = text.split("\n")
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def _duplicate_line(text: str, rng: Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "\n".join(lines)


def _swap_lines(text: str, rng: Random) -> str:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _insert_char(text: str, rng: Random) -> str:
    pos = rng.randrange(len(text) + 1)
    return text[:pos] + rng.choice(["\x00", "\x01", "\t", "\x85", "\u2028", "\ufeff", "\U0001F600", "&", "*", "!", "%", "{", "[", "'", '"', "\\", ":", "\r"]) + text[pos:]


def _truncate(text: str, rng: Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _alias_bomb(text: str, rng: Random) -> str:
    levels = rng.randint(2, 9)
    out = ["x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    out += [f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(out) + "\n" + text


def _recursive_alias(text: str, rng: Random) -> str:
    return text.replace("solution:", "description: &r [*r]\nsolution:", 1)


def _merge_key(text: str, rng: Random) -> str:
    return "x-base: &base {period: 300}\n" + text.replace("defaults:", "defaults:\n  <<: *base\n  x: 1\n", 1) if "defaults:" in text else text


def _deep_nesting(text: str, rng: Random) -> str:
    depth = rng.choice([30, 70, 200, 2000])
    return text.replace("solution:", "description: " + "[" * depth + "]" * depth + "\nsolution:", 1)


def _complex_key(text: str, rng: Random) -> str:
    return text.replace("solution:", rng.choice(["? [a, b]\n: 1\n", "? {a: 1}\n: 1\n", "1: x\n", "null: x\n"]) + "solution:", 1)


def _numbers(text: str, rng: Random) -> str:
    lines = text.split("\n")
    targets = [i for i, line in enumerate(lines) if re.search(r":\s+-?\d+(\.\d+)?\s*$", line)]
    if not targets:
        return text
    i = rng.choice(targets)
    lines[i] = re.sub(r"-?\d+(\.\d+)?\s*$", rng.choice([".nan", ".inf", "-.inf", "1e400", "-5", "0", "1e-300", "99999999999999999999999", "2.5"]), lines[i])
    return "\n".join(lines)


OPERATORS = [
    _benign_value, _benign_value, _benign_value, _benign_value, _benign_value, _replace_value, _replace_value, _replace_value, _tag_value, _append_to_value, _append_to_value, _drop_line,
    _duplicate_line, _swap_lines, _insert_char, _truncate, _alias_bomb, _recursive_alias, _merge_key,
    _deep_nesting, _complex_key, _numbers, _numbers,
]


@dataclass
class Outcome:
    """What one mutated spec did."""

    generate_exit: int
    validate_exit: int
    seconds: float
    stderr: str
    template: str | None = None
    problems: list[str] = field(default_factory=list)


class Timeout(Exception):
    """A case ran past its wall-clock limit (SIGALRM)."""


def _on_alarm(signum, frame):  # noqa: ANN001
    raise Timeout()


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise `Timeout` in the main thread after `seconds` of wall clock (the fuzzers' hang guard)."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_one(text: str, workdir: Path, fmt: str = "yaml") -> Outcome:
    """Run `generate -o` and `validate` on spec text in `workdir`; record every broken promise."""
    from click.testing import CliRunner

    from mlmon_cli.cli import main

    spec = workdir / "spec.yaml"
    spec.write_text(text, encoding="utf-8", errors="surrogatepass")
    out = workdir / f"template.{fmt}"
    sentinel = "previous output\n"
    out.write_text(sentinel, encoding="utf-8")
    runner = CliRunner()
    problems: list[str] = []
    started = time.perf_counter()
    try:
        with time_limit(TIME_LIMIT):
            gen = runner.invoke(main, ["generate", str(spec), "-o", str(out)], catch_exceptions=True)
            val = runner.invoke(main, ["validate", str(spec)], catch_exceptions=True)
            # lint's readers too (on rejected specs only: an accepted one would run cfn-lint, done below in bulk)
            lint = runner.invoke(main, ["lint", str(spec)], catch_exceptions=True) if gen.exit_code == 1 else None
    except Timeout:
        return Outcome(-1, -1, time.perf_counter() - started, "", problems=["timeout"])
    seconds = time.perf_counter() - started
    for result in (gen, val):
        if isinstance(result.exception, Timeout):
            problems.append("timeout")
    if seconds > TIME_LIMIT:
        problems.append("slow")
    codes = (gen.exit_code, val.exit_code)
    if 70 in codes or any(c not in (0, 1, 4) for c in codes):
        problems.append(f"exit {codes}")
    if lint is not None and lint.exit_code not in (1, 3):
        problems.append(f"exit lint {lint.exit_code}")
    for result in (gen, val, *([lint] if lint is not None and lint.exit_code == 1 else [])):
        if result.exit_code != 0:
            lines = result.stderr.splitlines()
            bad = [line for line in lines if not LOCATED.match(line) and not line.startswith(INFO) and not OK_LINE.match(line)
                   and not BUCKET_LINE.match(line)]
            if bad or not lines:
                problems.append(f"unlocated message: {bad[:1] or ['(none)']}")
    if val.exit_code == 0 and gen.exit_code not in (0, 4):  # validate also checks every environment
        problems.append(f"validate/generate disagree {codes}")
    leftovers = sorted(p.name for p in workdir.iterdir() if p.name not in (spec.name, out.name))
    if leftovers:
        problems.append(f"temp files left: {leftovers}")
    written = out.read_text(encoding="utf-8")
    if gen.exit_code != 0 and written != sentinel:
        problems.append("partial or changed output after a failure")
    template = written if gen.exit_code == 0 else None
    return Outcome(gen.exit_code, val.exit_code, seconds, gen.stderr, template, problems)


def lint_errors(template: str) -> list[str]:
    from mlmon_cli.lint import lint_template

    return [f"{f.rule}: {f.message}" for f in lint_template(template, "template.yaml") if f.is_error]


def _lint_job(job: tuple[int, str]) -> tuple[int, list[str]]:
    return job[0], lint_errors(job[1])


def main(argv: list[str] | None = None) -> int:
    import hashlib
    import multiprocessing
    import os
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--show", action="store_true", help="print each failing spec in full")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint of accepted templates")
    args = parser.parse_args(argv)
    rng = Random(args.seed)
    base = seeds()
    counts: Counter[str] = Counter()
    failures: list[tuple[str, str, list[str]]] = []
    accepted: dict[str, tuple[int, str]] = {}  # template hash -> (case, template)
    slowest = 0.0
    started = time.perf_counter()
    cases: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.count):
            name, text = base[n % len(base)]
            mutated = mutate(text, rng)
            cases.append((name, mutated))
            work = Path(tmp) / str(n)
            work.mkdir()
            outcome = run_one(mutated, work)
            slowest = max(slowest, outcome.seconds)
            counts["specs"] += 1
            counts[f"exit {outcome.generate_exit}"] += 1
            for problem in outcome.problems:
                counts[problem.split(":")[0].split(" (")[0]] += 1
            if outcome.problems:
                failures.append((name, mutated, outcome.problems + [outcome.stderr[-400:]]))
            if outcome.template is not None:
                accepted.setdefault(hashlib.sha256(outcome.template.encode()).hexdigest(), (n, outcome.template))
            for child in work.iterdir():
                child.unlink()
            work.rmdir()
    lint_failed: list[tuple[int, list[str]]] = []
    if not args.no_lint and accepted:
        jobs = list(accepted.values())
        with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
            for n, errors in pool.imap_unordered(_lint_job, jobs, chunksize=4):
                if errors:
                    lint_failed.append((n, errors))
    elapsed = time.perf_counter() - started
    print(f"mutated specs:              {counts['specs']} (seed {args.seed}, from {len(base)} bundled and golden specs)")
    print(f"accepted (exit 0):          {counts['exit 0']} ({len(accepted)} distinct templates)")
    print(f"rejected (exit 1):          {counts['exit 1']}")
    print(f"over a limit (exit 4):      {counts['exit 4']}")
    print(f"internal errors (exit 70):  {sum(v for k, v in counts.items() if k.startswith('exit (') and '70' in k)}")
    print(f"other broken promises:      {len(failures)} specs")
    print(f"runs over {TIME_LIMIT} s:            {counts['timeout'] + counts['slow']} (slowest {slowest:.2f} s)")
    print(f"unlocated/split messages:   {counts['unlocated message']}")
    print(f"partial outputs/temp files: {counts['partial or changed output after a failure'] + counts['temp files left']}")
    print(f"validate/generate disagree: {counts['validate/generate disagree']}")
    print(f"templates failing cfn-lint: {'not linted' if args.no_lint else len(lint_failed)}")
    print(f"total time:                 {elapsed:.0f} s")
    for name, mutated, problems in failures[:10]:
        print(f"\n--- {name}: {problems}")
        if args.show:
            print(mutated)
    for n, errors in lint_failed[:10]:
        print(f"\n--- lint: {cases[n][0]}: {errors[:3]}\n{cases[n][1][:600]}")
    return 1 if failures or lint_failed else 0


if __name__ == "__main__":
    sys.exit(main())
