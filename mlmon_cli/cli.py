"""The command line: the only module that reads argv, prints, or exits.

Every command runs inside `_boundary`, which turns `MlmonError`s into `file:line:col: path:
message` lines on stderr and a documented exit code; anything else is a bug and says so.
"""

from __future__ import annotations

import functools
import gc
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__, naming
from .aws.cli_options import aws_target_options, echo_err
from .errors import AwsError, AwsUsageError, InputFileError, LimitError, MlmonError, Problem, SpecError, escape_text
from .limits import INLINE_TEMPLATE_BYTES, MAX_TEMPLATE_BYTES

INLINE_NOTE = f"mlmon: the template is over {INLINE_TEMPLATE_BYTES} bytes: deploy with --s3-bucket BUCKET"

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_LINT = 3
EXIT_LIMIT = 4
EXIT_AWS = 5
EXIT_SILENT = 6
EXIT_FINDINGS = 7
EXIT_INTERNAL = 70

EPILOG = """\b
Exit codes:
  0   success
  1   invalid input: spec problems (all listed as file:line:col: path: message),
      unreadable or unparsable file, template text error
  2   command-line usage error
  3   lint found error-level findings
  4   the template would pass a CloudFormation limit (500 resources, 1 MB)
  5   deploy, delete or fire failed against AWS (failed resources and reasons listed),
      or an AWS call of diff/coverage was refused
  6   fire --strict: an alarm reaches nobody (no SNS action above it, or no
      confirmed subscription on its topic)
  7   diff: deployed monitoring differs from the spec or is dead;
      coverage: a resource no alarm or rule watches
  70  internal error (a bug: re-run with --debug and report the traceback)
"""


def _boundary(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command, mapping domain errors to messages on stderr and exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return func(*args, **kwargs)
        except MlmonError as exc:
            if debug:
                raise
            message = str(exc) if isinstance(exc, (SpecError, AwsError)) else escape_text(str(exc))  # one line each
            click.echo(message, err=True)
            sys.exit(EXIT_LIMIT if isinstance(exc, LimitError) else exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                raise
            click.echo(f"mlmon: internal error: {type(exc).__name__}: {exc}; re-run with --debug for the traceback", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlmon")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short messages.")
def main(debug: bool) -> None:
    """mlmon: one YAML spec of an ML solution on AWS -> a CloudFormation monitoring template."""
    from .spec import cfn_values

    cfn_values.DEFAULT_COMPONENTS = _default_components  # watch by default: every command sees the same spec


def _default_components(app: Any, skip: set[str], taken: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """The components `init` would write for the template's resources the spec leaves out (discovery is an edge)."""
    from .discover import default_components

    return default_components(app, skip, taken)


def _say_watched_by_default(parsed: Any) -> None:
    cfn = getattr(parsed, "cfn", None)
    added = getattr(cfn, "defaulted", None)
    if added and cfn is not None:
        click.echo(f"mlmon: watched by default ({len(added)} resource(s) of {cfn.app.file} the spec does not list): "
                   + ", ".join(f"{logical} ({kind})" for logical, kind in added)
                   + "; list a logical ID under 'exclude:' to leave it unwatched", err=True)


env_option = click.option("--env", "env", default=None, metavar="NAME",
                          help="Apply the spec's `environments.NAME` overrides (thresholds, recipients, enablement).")


@main.command("generate", epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(allow_dash=True, path_type=Path), default=None,
              help="Write the template here (atomically) instead of stdout; a directory for split output.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default=None,
              help="Template format (default: from the -o extension, else yaml).")
@click.option("--split/--no-split", default=None,
              help="Force nested stacks (--split) or refuse them (--no-split); default: split only past a limit.")
@click.option("--central", is_flag=True,
              help="Write the central account's template of the spec's 'organization:' (event bus, topic, readable rules).")
@env_option
@_boundary
def generate_command(spec: Path, output: Path | None, fmt: str | None, split: bool | None, central: bool, env: str | None) -> None:
    """Generate the monitoring template for SPEC.

    \b
    Deploy (templates over 51,200 bytes need --s3-bucket):
      mlmon generate spec.yaml -o template.yaml
      aws cloudformation deploy --template-file template.yaml \\
          --stack-name my-monitoring [--s3-bucket BUCKET]
    Split output (past 500 resources) goes to a directory: parent template.yaml plus
    stacks/*.yaml; deploy it with `aws cloudformation package` first.
    """
    from .core.pipeline import generate, load_path

    gc.disable()  # builds allocate many small objects and free none; collection passes only cost time
    parsed = load_path(spec, env=env)
    _refuse_own_input(output, spec, getattr(parsed.cfn, "app", None))
    if split and getattr(parsed.cfn, "app", None) is not None:
        raise click.UsageError("--split: a spec with 'template:' writes one merged template (your resources plus the "
                               "monitoring); it is refused past a CloudFormation limit (exit 4), never split")
    fmt = fmt or ("json" if output is not None and output.suffix == ".json" else "yaml")
    if central:
        _generate_central(parsed, output, fmt)
        return
    to_directory = output is not None and str(output) != "-" and (output.is_dir() or output.suffix not in (".yaml", ".yml", ".json", ".template"))
    if split is None and not to_directory:
        split = False  # a single file or stdout cannot hold nested stacks
    try:
        result = generate(parsed, split=split, nested_ext=fmt)
    except LimitError as exc:
        if getattr(parsed.cfn, "app", None) is not None:
            raise
        raise LimitError(f"{exc}; write a split output into a directory with -o DIRECTORY") from None
    files = result.files  # written and measured by the pipeline
    sizes = {name: len(text.encode("utf-8")) for name, text in files.items()}
    if to_directory:
        assert output is not None
        _write_directory(output, files)
        where = f"{output}/ ({len(files)} templates)"
    else:
        _write(output, files[f"template.{fmt}"])
        where = "stdout" if output is None or str(output) == "-" else str(output)
    size = sum(sizes.values())
    _say_watched_by_default(parsed)
    click.echo(
        f"mlmon: wrote {where}: {result.resources} resources ({result.alarms} alarms, "
        f"{result.composites} composite alarms, {result.rules} EventBridge rules), {size} bytes",
        err=True,
    )
    from .core.cost import estimate

    for line in estimate(result).text():
        click.echo(f"mlmon: {line}", err=True)
    if result.nested:
        click.echo("mlmon: nested stacks: run 'aws cloudformation package --template-file "
                   f"{output}/template.{fmt} --s3-bucket BUCKET --output-template-file packaged.yaml' and deploy packaged.yaml",
                   err=True)
    elif sizes[f"template.{fmt}"] > INLINE_TEMPLATE_BYTES:
        click.echo(INLINE_NOTE, err=True)
    if parsed.notifications.emails:
        click.echo("mlmon: after deploying, each address must confirm its subscription email: "
                   + ", ".join(parsed.notifications.emails), err=True)


def _generate_central(parsed: Any, output: Path | None, fmt: str) -> None:
    from .core.pipeline import generate_central
    from .serialize import dump

    template = generate_central(parsed)
    text = dump(template.to_dict(), fmt)
    if len(text.encode("utf-8")) > MAX_TEMPLATE_BYTES:
        raise LimitError(f"the central template would be {len(text.encode('utf-8'))} bytes; CloudFormation allows {MAX_TEMPLATE_BYTES} bytes")
    _write(output, text)
    org = parsed.organization
    click.echo(f"mlmon: wrote {'stdout' if output is None or str(output) == '-' else output}: the central template of "
               f"{parsed.solution} ({len(template.resources)} resources); deploy it in account {org.central_account}, "
               f"Region {org.central_region}: mlmon deploy {parsed.source} --central --stack-name STACK", err=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _refuse_own_input(output: Path | None, spec: Path, app: Any) -> None:
    """`generate -o` onto its own spec or the spec's input template would replace what the next
    `generate` reads (issue 19: the next run then failed with 'rename it in your template' errors)."""
    if output is None or str(output) == "-":
        return
    suggestion = f"-o {output.with_name(output.stem + '-monitored' + (output.suffix or '.yaml'))}"
    if _same_file(output, spec):
        raise InputFileError(f"mlmon: -o {output} is the spec itself: generate would replace it with the template; "
                             f"nothing written. Write the template to another file, e.g. {suggestion}")
    if app is not None and _same_file(output, Path(app.file)):
        raise InputFileError(f"mlmon: -o {output} is the spec's input template (template: in {spec}): generate would replace "
                             "your template with the merged output and the next generate would read that; nothing written. "
                             f"Write the merged output to another file, e.g. {suggestion}, and deploy that")


def _write_directory(directory: Path, files: dict[str, str]) -> None:
    """Write a split output whole (see `output.write_directory`): a failure leaves the old one as it was."""
    from .output import write_directory

    write_directory(directory, files)


def _write(output: Path | None, text: str) -> None:
    """Write to stdout, or atomically to a file so a failure never leaves a partial template."""
    from .output import write_file, write_stdout

    if output is None or str(output) == "-":
        write_stdout(text)
    else:
        write_file(output, text)


@main.command("validate", epilog=EPILOG)
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@env_option
@_boundary
def validate_command(specs: tuple[Path, ...], env: str | None) -> None:
    """Check spec files only (fast; for pre-commit). Reports every problem of every file.

    Without --env, the base spec and every environment it defines are validated.
    """
    from .core.pipeline import spec_environments, validate
    from .spec.nodes import read_text

    problems: list[Problem] = []
    for path in specs:
        try:
            text = read_text(path, str(path))
            envs = [env] if env is not None else [None, *spec_environments(text, str(path))]
            for name in envs:
                parsed, result = validate(text, str(path), name)
                label = f" [env {name}]" if name else ""
                click.echo(escape_text(f"{path}{label}: ok ({len(parsed.components)} components)"), err=True)
                if result.needs_bucket:
                    click.echo(escape_text(f"{path}{label}: {INLINE_NOTE.removeprefix('mlmon: ')}"), err=True)
        except SpecError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    if problems:
        raise SpecError(problems)


_TEMPLATE = re.compile(r'^(Resources\s*:|\s*"Resources"\s*:|AWSTemplateFormatVersion\s*:|\s*"AWSTemplateFormatVersion")', re.M)


@main.command("lint", epilog=EPILOG)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="text: file:line:col: rule: message; json: cfn-lint's JSON shape; sarif: SARIF 2.1.0 for code scanning.")
@click.option("--ignore-checks", "ignore_checks", multiple=True, metavar="ID",
              help="Ignore rules whose ID starts with ID (repeatable or comma-separated), as cfn-lint's option; "
                   "a resource's Metadata cfn-lint: {config: {ignore_checks: [ID]}} ignores one resource.")
@_boundary
def lint_command(files: tuple[Path, ...], env: str | None, fmt: str, ignore_checks: tuple[str, ...]) -> None:
    """Lint specs (validated, generated, then linted), templates, split-output directories and
    state machine definitions (ASL, JSON or YAML: Retry/Catch coverage and error-handling rules).

    Findings print as `file:line:col: rule: message`; for a spec they point into its generated
    template (see it with `mlmon generate SPEC`). A directory written by `generate -o DIR` is
    linted template by template, in parallel across cores. Exit 3 when any finding is an error.
    `mlmon rules` lists mlmon's rules.
    """
    from .lint import lint_files
    from .spec.nodes import read_text

    ignore_checks = tuple(part.strip() for entry in ignore_checks for part in entry.split(",") if part.strip())

    jobs: list[tuple[str, str]] = []  # (display name, template text)
    users: set[str] = set()  # the app templates of specs with `template:` (merged output), linted on their own too
    asl_findings: list[Any] = []  # state machine definition files are checked here, not by cfn-lint
    asl_files = 0
    for path in files:
        if path.is_dir():
            jobs.extend((str(p), read_text(p, str(p))) for p in _split_templates(path))
            continue
        text = read_text(path, str(path))
        if _TEMPLATE.search(text):
            jobs.append((str(path), text))
            continue
        if _is_asl(text, path):
            from .lint import lint_asl

            asl_findings.extend(lint_asl(text, str(path), ignore_checks))
            asl_files += 1
            continue
        from .core.pipeline import generate, load

        spec = load(text, str(path), env)
        result = generate(spec)
        jobs.append((f"{path}(generated)", result.files["template.yaml"]))
        jobs.extend((f"{path}(generated stacks/{stem})", result.files[f"stacks/{stem}.yaml"]) for stem in result.nested)
        app = getattr(spec.cfn, "app", None)
        if app is not None and all(name != app.file for name, _ in jobs):
            jobs.append((app.file, read_text(Path(app.file), app.file)))
            users.add(app.file)
    findings = _yours_apart(lint_files(jobs, ignore_checks), users) + sorted(asl_findings)
    if fmt == "text":
        for finding in findings:
            click.echo(str(finding))
    else:
        from .lint_output import to_json, to_sarif

        click.echo(to_json(findings) if fmt == "json" else to_sarif(findings), nl=False)
    errors = sum(f.is_error for f in findings)
    definitions = f", {asl_files} state machine definition(s)" if asl_files else ""
    click.echo(f"mlmon: {len(jobs)} template(s){definitions}, {errors} error(s), {len(findings) - errors} other finding(s)", err=True)
    if errors:
        sys.exit(EXIT_LINT)


# Limits of a whole template (size, resource count): the merged output's own, never the app template's.
_WHOLE_TEMPLATE = ("MLM001", "E1002", "E3010")


def _yours_apart(findings: list[Any], users: set[str]) -> list[Any]:
    """Findings of a spec's own app template, placed at its lines: a finding the merged output shares
    with the app template alone is reported once, in the app template, and fails nothing (mlmon did
    not add it: `cfn-lint` of that file reports it too); what the monitoring adds is reported in the
    generated template and fails as usual."""
    if not users:
        return findings
    from dataclasses import replace

    def key(f: Any) -> tuple[str, str]:
        return f.rule, re.sub(r"\d+", "N", f.message)

    theirs = {key(f) for f in findings if f.file in users}
    out = []
    for f in findings:
        if f.file in users:
            out.append(replace(f, severity="warning" if f.is_error else f.severity,
                               message=f"{f.message} (in your template, not added by mlmon)"))
        elif f.rule in _WHOLE_TEMPLATE or not ("(generated" in f.file and key(f) in theirs):
            out.append(f)
    return sorted(out)


def _split_templates(directory: Path) -> list[Path]:
    found = sorted(p for pattern in ("template.*", "stacks/*") for p in directory.glob(pattern) if p.suffix in (".yaml", ".json"))
    if not found:
        raise InputFileError(f"{directory}:1:1: (file): no template.yaml or stacks/*.yaml in this directory")
    return found


def _is_asl(text: str, path: Path) -> bool:
    """A state machine definition file: a mapping with top-level `StartAt` and `States`."""
    from .asl import AslLoadError, load_asl

    try:
        data = load_asl(text, path.name)
    except AslLoadError as exc:
        if all(re.search(rf'^\s*{key}\s*:|"{key}"\s*:', text, re.M) for key in ("StartAt", "States")):
            from .errors import Location, Problem  # a definition that does not parse: say why, at its place

            raise SpecError([Problem(Location(str(path), exc.line or 1, exc.column or 1, "(file)"), exc.message)]) from None
        return False
    return "StartAt" in data and "States" in data


@main.command("harden", epilog=EPILOG)
@click.argument("definition", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Write the hardened definition here (atomically) instead of stdout.")
@click.option("--topic-arn", default="${AlertTopicArn}", show_default=True,
              help="SNS topic the fallback notifies; a ${...} placeholder is left for your deployment tool.")
@_boundary
def harden_command(definition: Path, output: Path | None, topic_arn: str) -> None:
    """Add Retry and Catch to every Task of an ASL DEFINITION (JSON or YAML) that lacks them.

    Retry errors follow each Task's Resource; other errors go to a notify-and-fail fallback.
    Existing Retry/Catch entries and states are kept; running it again changes nothing. The
    summary of changes goes to stderr; the format follows -o's extension, else the input's.
    """
    from .asl import AslLoadError, dump_asl, harden_definition, load_asl
    from .errors import Location, Problem
    from .spec.nodes import FILE, read_text

    text = read_text(definition, str(definition))
    try:
        parsed = load_asl(text, definition.name)
        if not isinstance(parsed.get("States"), dict) or "StartAt" not in parsed:
            raise AslLoadError("not a state machine definition: expected 'StartAt' and a 'States' mapping", 1, 1)
    except AslLoadError as exc:
        raise SpecError([Problem(Location(str(definition), exc.line or 1, exc.column or 1, FILE), exc.message)]) from None
    result = harden_definition(parsed, topic_arn=topic_arn)
    shown = output if output is not None and str(output) != "-" else definition
    _write(output, dump_asl(result.definition, "yaml" if shown.suffix.lower() in (".yaml", ".yml") else "json"))
    for line in result.summary():
        click.echo(f"{definition}: {line}", err=True)
    click.echo(f"mlmon: {len(result.changes)} change(s)", err=True)


def _csv(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated and/or repeated values: `--accounts A,B --accounts C` -> (A, B, C)."""
    return tuple(v.strip() for item in value for v in item.split(",") if v.strip())


def stack_set_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--stack-set and its targets and operation preferences (deploy and delete)."""
    options = [
        click.option("--stack-set", "stack_set", default=None, metavar="NAME",
                     help="Deploy as a CloudFormation StackSet: one stack instance per account (or OU) and Region."),
        click.option("--accounts", multiple=True, callback=_csv, metavar="ID,...",
                     help="StackSet target accounts (self-managed permissions); default: the spec's organization.targets."),
        click.option("--regions", multiple=True, callback=_csv, metavar="REGION,...", help="StackSet target Regions."),
        click.option("--organizational-units", "ous", multiple=True, callback=_csv, metavar="OU,...",
                     help="StackSet target OUs (service-managed permissions: accounts that join later get an instance too)."),
        click.option("--call-as", type=click.Choice(["SELF", "DELEGATED_ADMIN"]), default="SELF", show_default=True,
                     help="DELEGATED_ADMIN: run as the organization's delegated StackSets administrator."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command("deploy", epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--stack-name", default=None, help="CloudFormation stack to create or update (required unless --stack-set).")
@click.option("--central", is_flag=True,
              help="Deploy the central side of the spec's 'organization:' (event bus, topic, readable rules) as --stack-name.")
@stack_set_options
@click.option("--max-concurrent-percentage", type=click.IntRange(1, 100), default=None,
              help="StackSet: at most this share of accounts per Region at once.")
@click.option("--max-concurrent-count", type=click.IntRange(1), default=None, help="StackSet: at most this many accounts at once.")
@click.option("--failure-tolerance-percentage", type=click.IntRange(0, 100), default=None,
              help="StackSet: stop the operation once more than this share of accounts failed in a Region.")
@click.option("--failure-tolerance-count", type=click.IntRange(0), default=None,
              help="StackSet: stop the operation once more than this many accounts failed in a Region.")
@click.option("--concurrency-mode", type=click.Choice(["STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE"]), default=None,
              help="StackSet: how failures lower concurrency (AWS default: strict).")
@click.option("--administration-role-arn", default=None, help="StackSet (self-managed): the administrator role.")
@click.option("--execution-role-name", default=None,
              help="StackSet (self-managed): the role assumed in each account; nested stacks and transforms need a "
                   "custom one named stacksets-exec-custom-*.")
@click.option("--s3-bucket", default=None, help="Bucket for templates over 51,200 bytes (and nested stacks).")
@click.option("--resolve-s3", is_flag=True,
              help="Use the managed bucket mlmon-artifacts-<account>-<region> for templates that need S3, creating it "
                   "(encrypted, public access blocked) on first use.")
@click.option("--no-execute", is_flag=True,
              help="Review only: create the change set and print its property-level diff; the stack stays unchanged.")
@click.option("--revert-drift", is_flag=True,
              help="Drift-aware change set (DeploymentMode=REVERT_DRIFT): properties changed outside CloudFormation go back to "
                   "the template; with --no-execute, print the drift per property.")
@click.option("--s3-prefix", default="mlmon", show_default=True, help="Key prefix of uploaded templates.")
@click.option("--parameter", "parameters", multiple=True, metavar="KEY=VALUE", help="Stack parameter (repeatable).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Stack tag, propagated to resources (repeatable).")
@env_option
@aws_target_options
@_boundary
def deploy_command(spec: Path, stack_name: str | None, central: bool, stack_set: str | None, accounts: tuple[str, ...],
                   regions: tuple[str, ...], ous: tuple[str, ...], call_as: str, max_concurrent_percentage: int | None,
                   max_concurrent_count: int | None, failure_tolerance_percentage: int | None, failure_tolerance_count: int | None,
                   concurrency_mode: str | None, administration_role_arn: str | None, execution_role_name: str | None,
                   s3_bucket: str | None, resolve_s3: bool, no_execute: bool, revert_drift: bool, s3_prefix: str,
                   parameters: tuple[str, ...], tags: tuple[str, ...], env: str | None, region: str | None, profile: str | None,
                   endpoint_url: str | None) -> None:
    """Generate SPEC's template and create or update stack --stack-name through a change set.

    Prints the change set, then stack events until the stack settles (stderr), then the stack's
    outputs as KEY=VALUE (stdout). "No changes" is success. On failure exits 5 listing each
    failed resource with CloudFormation's reason.

    With --no-execute the change set is created and printed with the before -> after value of
    every changed property, and left for review: the stack is not changed.

    With --stack-set NAME: create or update the StackSet and one instance per account (or OU) and
    Region (--accounts/--organizational-units and --regions, else the spec's organization.targets),
    wait, and print one line per instance: account, Region, status, reason. With --central: deploy
    the central side of the spec's 'organization:' as --stack-name (in the central account).
    """
    from .aws.deploy import DeployRequest, deploy_spec
    from .aws.session import Target

    if stack_set:
        if stack_name or central or no_execute:
            raise AwsUsageError("mlmon: --stack-set excludes --stack-name, --central and --no-execute")
        from .aws.stackset import StackSetRequest, deploy_stack_set, groups_from, report_lines
        from .core.pipeline import generate, load_path

        parsed = load_path(spec, env=env)
        org_targets = parsed.organization.targets if parsed.organization else ()
        request_set = StackSetRequest(
            stack_set, groups_from(accounts, regions, ous, org_targets), Target(region, profile, endpoint_url), parameters, tags,
            max_concurrent_percentage, failure_tolerance_percentage, max_concurrent_count, failure_tolerance_count,
            concurrency_mode, administration_role_arn=administration_role_arn, execution_role_name=execution_role_name,
            call_as=call_as, s3_bucket=s3_bucket, s3_prefix=s3_prefix, resolve_s3=resolve_s3)
        built = generate(parsed)
        echo_err(f"mlmon: generated {spec}{f' [env {env}]' if env else ''}: {built.alarms} alarms, {built.composites} composite alarms, "
                 f"{built.rules} EventBridge rules")
        outcome = deploy_stack_set(built.template.to_dict(), {k: t.to_dict() for k, t in built.nested.items()}, request_set, echo_err)
        for line in report_lines(outcome):
            click.echo(line)
        return
    if not stack_name:
        raise AwsUsageError("mlmon: deploy needs --stack-name (or --stack-set)")
    if accounts or regions or ous:
        raise AwsUsageError("mlmon: --accounts, --regions and --organizational-units need --stack-set")
    request = DeployRequest(stack_name, Target(region, profile, endpoint_url), parameters, tags, s3_bucket, s3_prefix,
                            execute=not no_execute, resolve_s3=resolve_s3, revert_drift=revert_drift)
    if central:
        from .aws.deploy import deploy_template
        from .core.pipeline import generate_central, load_path

        parsed = load_path(spec, env=env)
        result = deploy_template(generate_central(parsed).to_dict(), request, echo_err)
    else:
        result = deploy_spec(spec, request, echo_err, env=env)
    if no_execute:
        click.echo(f"ChangeSetId={result.change_set_id}" if result.change_set_id else "ChangeSetId=")
        return
    for key, value in sorted(result.outputs.items()):
        click.echo(f"{key}={value}")
    if naming.CONFIRM_SUBSCRIPTIONS_OUTPUT in result.outputs:
        echo_err(f"mlmon: email subscriptions stay pending until confirmed; prove delivery with: mlmon fire --stack-name {stack_name}")


@main.command("delete", epilog=EPILOG)
@click.option("--stack-name", default=None, help="CloudFormation stack to delete (or give --stack-set).")
@stack_set_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@aws_target_options
@_boundary
def delete_command(stack_name: str | None, stack_set: str | None, accounts: tuple[str, ...], regions: tuple[str, ...],
                   ous: tuple[str, ...], call_as: str, yes: bool, region: str | None, profile: str | None,
                   endpoint_url: str | None) -> None:
    """Delete stack --stack-name and wait until it is gone, printing its events (stderr).

    A stack that does not exist is success. DELETE_FAILED exits 5 listing each resource that
    could not be deleted and why. Asks for confirmation unless --yes.

    With --stack-set: delete its instances (those given by --accounts/--organizational-units and
    --regions, else every instance it has), then the StackSet.
    """
    from .aws.delete import DeleteRequest, delete_stack
    from .aws.session import Target

    if bool(stack_name) == bool(stack_set):
        raise AwsUsageError("mlmon: delete needs --stack-name or --stack-set (one of them)")
    if stack_set:
        from .aws.stackset import delete_stack_set, groups_from

        if not yes:
            click.confirm(f"Delete every instance of StackSet {stack_set}, then the StackSet?", abort=True, err=True)
        groups = groups_from(accounts, regions, ous, ()) if (accounts or regions or ous) else ()
        delete_stack_set(stack_set, Target(region, profile, endpoint_url), groups, echo_err, call_as=call_as)
        return
    assert stack_name is not None
    if not yes:
        click.confirm(f"Delete stack {stack_name} and every alarm, rule and topic it created?", abort=True, err=True)
    delete_stack(DeleteRequest(stack_name, Target(region, profile, endpoint_url)), echo_err)


@main.command("fire", epilog=EPILOG)
@click.option("--stack-name", default=None, help="Stack deployed from an mlmon template (or give --stack-set).")
@click.option("--stack-set", "stack_set", default=None, metavar="NAME",
              help="Fire in every stack instance of this StackSet (run in its administrator account): one line per account and Region.")
@click.option("--accounts", multiple=True, callback=_csv, metavar="ID,...",
              help="With --stack-set: only these accounts (with --regions); default: every instance ListStackInstances lists.")
@click.option("--regions", multiple=True, callback=_csv, metavar="REGION,...", help="With --stack-set: only these Regions (with --accounts).")
@click.option("--role-name", default=None, metavar="NAME",
              help="With --stack-set: the role to assume in each member account; default: the StackSet's execution role.")
@click.option("--call-as", type=click.Choice(["SELF", "DELEGATED_ADMIN"]), default="SELF", show_default=True,
              help="With --stack-set: DELEGATED_ADMIN reads a StackSet of the organization's delegated administrator.")
@click.option("--alarm", "patterns", multiple=True, metavar="PATTERN",
              help="Glob on alarm names, e.g. '*-Errors' (repeatable); default: every metric alarm.")
@click.option("--wait", type=click.FloatRange(0, 600), default=10.0, show_default=True,
              help="Seconds to wait for composites to follow each alarm into ALARM and back.")
@click.option("--strict", is_flag=True,
              help="Exit 6 when any fired alarm reaches nobody: no SNS action on it or a composite above it, "
                   "or no confirmed subscription on the topics it reaches.")
@aws_target_options
@_boundary
def fire_command(stack_name: str | None, stack_set: str | None, accounts: tuple[str, ...], regions: tuple[str, ...],
                 role_name: str | None, call_as: str, patterns: tuple[str, ...], wait: float, strict: bool, region: str | None,
                 profile: str | None, endpoint_url: str | None) -> None:
    """Put the stack's alarms into ALARM one at a time, then restore each, to prove notifications arrive.

    Prints per alarm what it did and which alarm's SNS action notified, then the topics'
    subscriptions; email subscriptions still pending confirmation receive nothing.

    With --stack-set NAME: the same in every stack instance, through a role assumed in each member
    account; one line per account and Region (FIRED, UNHEARD: some alarm reaches nobody, FAILED:
    could not fire there, exit 5).
    """
    from .aws.fire import FireRequest, fire, hints, report_lines, unheard
    from .aws.session import Target

    if bool(stack_name) == bool(stack_set):
        raise AwsUsageError("mlmon: fire needs --stack-name or --stack-set (one of them)")
    if not stack_set and (accounts or regions or role_name or call_as != "SELF"):
        raise AwsUsageError("mlmon: --accounts, --regions, --role-name and --call-as need --stack-set")
    if stack_set:
        _fire_stack_set(stack_set, accounts, regions, role_name, call_as, patterns, wait, strict, Target(region, profile, endpoint_url))
        return
    assert stack_name is not None
    result = fire(FireRequest(stack_name, Target(region, profile, endpoint_url), patterns, wait), echo_err)
    for line in report_lines(result):
        click.echo(line)
    for line in hints(result):
        echo_err(line)
    silent = unheard(result)
    if strict and silent:
        echo_err(f"mlmon: --strict: {len(silent)} alarm(s) reach nobody: {', '.join(silent[:10])}")
        sys.exit(EXIT_SILENT)


def _fire_stack_set(stack_set: str, accounts: tuple[str, ...], regions: tuple[str, ...], role_name: str | None, call_as: str,
                    patterns: tuple[str, ...], wait: float, strict: bool, target: Any) -> None:
    from .aws.fire_set import FireSetRequest, fire_stack_set, report_lines

    result = fire_stack_set(FireSetRequest(stack_set, target, accounts, regions, role_name, call_as, patterns, wait), echo_err)
    for line in report_lines(result):
        click.echo(line)
    if result.failed:
        echo_err(f"mlmon: {len(result.failed)} of {len(result.instances)} stack instance(s) could not be fired")
        sys.exit(EXIT_AWS)
    silent = [i for i in result.instances if i.status == "UNHEARD"]
    if silent:
        echo_err(f"mlmon: {len(silent)} of {len(result.instances)} stack instance(s) have alarms that reach nobody (no SNS action, "
                 "or no confirmed subscription)" + ("" if strict else "; --strict makes this exit 6"))
        if strict:
            sys.exit(EXIT_SILENT)


@main.command("suggest", epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--stack-name", required=True, help="The stack deployed from SPEC (its alarms are read from it).")
@click.option("--days", type=click.FloatRange(1, 455), default=14, show_default=True,
              help="History to read and backtest; cut to what each alarm's period keeps (60 s: 15 days, 300 s: 63).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown", "patch"]), default="table", show_default=True,
              help="table for people, json for CI (one object per alarm), markdown for a pull request, "
                   "patch: a unified diff of SPEC with the proposed thresholds.")
@click.option("--alarm", "patterns", multiple=True, metavar="PATTERN",
              help="Glob on alarm names, e.g. '*-Errors' (repeatable); default: every metric alarm of the stack.")
@click.option("--write", is_flag=True, help="Write the proposed thresholds into SPEC (atomically); without it SPEC is never changed.")
@aws_target_options
@_boundary
def suggest_command(spec: Path, stack_name: str, days: float, fmt: str, patterns: tuple[str, ...], write: bool, region: str | None,
                    profile: str | None, endpoint_url: str | None) -> None:
    """Propose thresholds from the stack's own metric history, with a backtest, and a noise report.

    For each metric alarm of --stack-name: its metric over --days (GetMetricData, the alarm's
    own statistic and period), a proposed threshold above the baseline's noise, and how many
    times the alarm would have gone to ALARM under CloudWatch's rules (M of N, missing-data
    treatment) with the current and the proposed threshold. Then the alarms that changed state
    most over 30 days of alarm history and how many messages each sent.
    """
    from .aws.history import HistoryRequest, read_history
    from .aws.session import Target
    from .core.pipeline import load_path
    from .spec.nodes import read_text
    from .suggest import report as report_mod
    from .suggest.noise import noise_report
    from .suggest.patch import patched, unified_diff
    from .suggest.propose import suggest
    from .suggest.spec_keys import threshold_keys

    text = read_text(spec, str(spec))
    keys = threshold_keys(load_path(spec))
    history = read_history(HistoryRequest(stack_name, Target(region, profile, endpoint_url), days, patterns), echo_err)
    suggestions = [suggest(c, history.series.get(c.name)) for c in history.configs]
    noise = None if history.alarm_history is None else noise_report(history.alarm_history, history.alarms)
    report = report_mod.Report(stack_name, days, suggestions, keys, noise, history.notes)
    after = patched(text, report.changes())
    if fmt in ("json", "patch"):  # table and markdown carry the notes themselves
        for note in history.notes:
            echo_err(f"mlmon: note: {note}")
    if fmt == "json":
        click.echo(report_mod.to_json(report), nl=False)
    elif fmt == "markdown":
        click.echo(report_mod.to_markdown(report), nl=False)
    elif fmt == "patch":
        click.echo(unified_diff(str(spec), text, after), nl=False)
    else:
        click.echo(report_mod.to_table(report), nl=False)
    changed = sum(len(v) for v in report.changes().values())
    if write and changed:
        from .output import write_file

        write_file(spec, after)
        echo_err(f"mlmon: wrote {changed} threshold(s) into {spec}")
    elif changed:
        echo_err(f"mlmon: {changed} threshold(s) to change; write them with --write, or review them with --format patch")
    else:
        echo_err("mlmon: no threshold to change")


@main.command("diff", epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--stack-name", required=True, help="The stack deployed from SPEC (nested stacks are followed).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@env_option
@aws_target_options
@_boundary
def diff_command(spec: Path, stack_name: str, fmt: str, env: str | None, region: str | None, profile: str | None,
                 endpoint_url: str | None) -> None:
    """Compare the deployed monitoring with what SPEC generates now, and find dead monitoring.

    One line per finding on stdout (`KIND: TYPE NAME: detail`): missing, unexpected, changed
    (spec -> deployed), actions-disabled, rule-disabled, subscription-pending/-gone,
    dimension-mismatch, resource-gone, evaluation-error, insufficient-data, failed-invocations.
    Exit 0 when deployed equals generated and nothing is dead, 7 when anything is found.
    """
    from .aws.live import DiffRequest, diff_spec, summary_lines, text_lines, to_json
    from .aws.session import Target

    result = diff_spec(spec, DiffRequest(stack_name, Target(region, profile, endpoint_url)), env=env)
    click.echo(to_json(result) if fmt == "json" else "\n".join(text_lines(result)), nl=fmt == "text" and bool(result.findings))
    for line in summary_lines(result):
        echo_err(line)
    if result.findings:
        sys.exit(EXIT_FINDINGS)


@main.command("coverage", epilog=EPILOG)
@click.option("--stack-name", default=None, help="Only this stack's resources (nested stacks included).")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only these component kinds (repeatable); default: every kind listed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@aws_target_options
@_boundary
def coverage_command(stack_name: str | None, kinds: tuple[str, ...], fmt: str, region: str | None, profile: str | None,
                     endpoint_url: str | None) -> None:
    """List the resources in the account and Region that no alarm or EventBridge rule watches.

    Grouped by kind, each with how to start monitoring it (`mlmon init --from-stack` for a
    resource of a stack, a spec snippet otherwise). Exit 0 when every resource is watched, 7 otherwise.
    """
    from .aws.coverage import CoverageRequest, coverage, to_json, to_markdown, to_text
    from .aws.session import Target

    result = coverage(CoverageRequest(Target(region, profile, endpoint_url), stack_name, kinds))
    click.echo({"json": to_json, "markdown": to_markdown, "text": to_text}[fmt](result), nl=False)
    for line in result.summary():
        echo_err(line)
    if result.unwatched:
        sys.exit(EXIT_FINDINGS)


@main.command("plan", epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--split/--no-split", default=None, help="Plan the split (nested stacks) output, or refuse it.")
@env_option
@_boundary
def plan_command(spec: Path, fmt: str, split: bool | None, env: str | None) -> None:
    """Review SPEC before deploying: every alarm and rule (component, what it watches, threshold in
    natural units, severity, who is notified), the recipients, the monthly bill and a Mermaid
    diagram of the alarm tree down to the recipients. Markdown (or JSON) on stdout.
    """
    from .core.pipeline import generate, load_path
    from .plan import build_plan, to_json, to_markdown

    parsed = load_path(spec, env=env)
    result = generate(parsed, split=split)
    if result.needs_bucket:
        echo_err(INLINE_NOTE)
    plan = build_plan(result)
    if parsed.organization is not None:
        from .plan import deployment_of

        plan.deployment = deployment_of(parsed, plan.bill) if plan.bill is not None else None
    click.echo(to_json(plan) if fmt == "json" else to_markdown(plan, f"{spec}" + (f" [env {env}]" if env else "")), nl=False)
    if plan.silent:
        echo_err(f"mlmon: warning: {len(plan.silent)} alarm(s) notify nobody: {', '.join(r.name for r in plan.silent[:10])}")


@main.command("rules")
@click.option("--path", "show_path", is_flag=True,
              help="Print the directory of mlmon's cfn-lint rules: cfn-lint --append-rules \"$(mlmon rules --path)\" T.yaml")
@click.option("--markdown", is_flag=True, help="Print the rule table of docs/rules.md.")
@_boundary
def rules_command(show_path: bool, markdown: bool) -> None:
    """List mlmon's lint rules: ID, severity, what each finds.

    The same rules run in `mlmon lint` and, through `--path`, inside plain cfn-lint (pre-commit
    hooks, IDE plugins): error and warning rules run by default, informational ones with
    `--include-checks I`.
    """
    from .rules import cfnlint_rules_dir, rules_markdown, rules_text

    if show_path:
        click.echo(str(cfnlint_rules_dir()))
    else:
        click.echo(rules_markdown() if markdown else rules_text(), nl=False)


@main.command("schema")
@_boundary
def schema_command() -> None:
    """Print the spec's JSON Schema (draft-07) for editors and CI.

    \b
    Save it next to your specs and start each spec with the modeline
      # yaml-language-server: $schema=mlmon.schema.json
    (VS Code YAML extension, IntelliJ), or check specs in CI with
      check-jsonschema --schemafile mlmon.schema.json specs/*.yaml
    """
    from .schema import schema_text

    click.echo(schema_text(), nl=False)


@main.command("init", epilog=EPILOG)
@click.option("--from-template", "from_template", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your CloudFormation or SAM template (YAML or JSON): watch every resource mlmon supports.")
@click.option("--from-stack", "from_stack", default=None, metavar="STACK_NAME",
              help="A deployed stack: read the physical names of its resources (a separate monitoring stack).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Write the spec here (atomically) instead of stdout; an existing file needs --force.")
@click.option("--force", is_flag=True, help="Replace the -o file when it exists (your edits to it are lost).")
@aws_target_options
@_boundary
def init_command(from_template: Path | None, from_stack: str | None, output: Path | None, force: bool, region: str | None,
                 profile: str | None, endpoint_url: str | None) -> None:
    """Write a commented starter spec that monitors an existing template or stack.

    \b
      mlmon init --from-template app.yaml -o monitoring.yaml
      mlmon generate monitoring.yaml -o app-monitored.yaml   # app.yaml plus the monitoring
    Resources mlmon cannot watch are listed as comments with the reason. A template with nothing
    mlmon can watch writes no spec: exit 1, each resource listed with the reason.
    """
    import os

    from .discover import spec_from_template, starter_problems
    from .spec.app_template import load_app_template

    if (from_template is None) == (from_stack is None):
        raise click.UsageError("give exactly one of --from-template or --from-stack")
    if output is not None and str(output) != "-" and output.exists() and not force:
        raise InputFileError(f"mlmon: {output} exists: init would replace it and lose your edits; nothing written. "
                             "Pass --force to replace it, or write the new spec elsewhere with -o")
    if from_stack is not None:
        from .aws.session import Target
        from .discover.stack import spec_from_stack

        found, app = spec_from_stack(from_stack, Target(region, profile, endpoint_url))
        refuse_empty(found, app)
    else:
        assert from_template is not None
        app = load_app_template(from_template, str(from_template))
        base = output.parent if output is not None and str(output) != "-" else Path(".")
        ref = os.path.relpath(from_template.resolve(), base.resolve())
        found = spec_from_template(app, ref, _solution_from(_solution_stem(from_template)), str(from_template))
        refuse_empty(found, app)
        shown = "spec.yaml" if output is None or str(output) == "-" else str(output)
        problems = starter_problems(found.text, shown, base)
        if any(p.location.file != shown for p in problems):  # the template needs a change first: nothing written
            raise SpecError([p for p in problems if p.location.file != shown])
        if problems:  # the spec's own: written, so each location points at a line the user can open
            _write(output, found.text)
            raise SpecError(problems)
    _write(output, found.text)
    click.echo(f"mlmon: {len(found.watched)} resource(s) watched, {len(found.skipped)} not watched (listed as comments)", err=True)


# File stems that name no application (SAM's default `template.yaml`): two apps would share the solution name.
_GENERIC_STEMS = {"template", "templates", "app", "main", "stack", "packaged", "sam", "cfn", "cloudformation", "infra",
                  "infrastructure", "deploy", "root", "master", "index", "output"}


def _solution_stem(template: Path) -> str:
    """The template's file stem, or its folder's name when the stem is generic (`template`), else `app`."""
    for candidate in (template.stem, template.resolve().parent.name):
        if re.sub(r"[^a-z]", "", candidate.lower().split(".")[0]) not in _GENERIC_STEMS and re.search("[A-Za-z]", candidate):
            return candidate
    return "app"


def refuse_empty(found: Any, app: Any) -> None:
    """Exit 1, nothing written: a spec without components is one `generate` refuses."""
    refusal = found.refusal(app)
    if refusal:
        raise SpecError(refusal)


def _solution_from(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-")
    if not name or not name[0].isalpha():
        name = "app-" + name
    return name[:40].rstrip("-") or "app"


@main.command("kinds")
@click.option("--markdown", is_flag=True, help="Print the alarm tables of docs/kinds.md.")
@_boundary
def kinds_command(markdown: bool) -> None:
    """List component kinds, their options and alarms with defaults."""
    from .docs import kinds_markdown, kinds_text

    click.echo(kinds_markdown() if markdown else kinds_text(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
