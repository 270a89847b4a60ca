"""The command line: the only module that reads argv, prints, or exits.

Every command runs inside `_boundary`, which turns `MlmonError`s into `file:line:col: path:
message` lines on stderr and a documented exit code; anything else is a bug and says so.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .errors import InputFileError, LimitError, MlmonError, SpecError

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_LINT = 3
EXIT_LIMIT = 4
EXIT_INTERNAL = 70
INLINE_TEMPLATE_BYTES = 51_200

EPILOG = """\b
Exit codes:
  0   success
  1   invalid input: spec problems (all listed as file:line:col: path: message),
      unreadable or unparsable file, template text error
  2   command-line usage error
  3   lint found error-level findings
  4   the template would pass a CloudFormation limit (500 resources, 1 MB)
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
            click.echo(str(exc), err=True)
            sys.exit(EXIT_LIMIT if isinstance(exc, LimitError) else exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place a bug becomes a message
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


@main.command("generate", epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Write the template here (atomically) instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default=None,
              help="Template format (default: from the -o extension, else yaml).")
@_boundary
def generate_command(spec: Path, output: Path | None, fmt: str | None) -> None:
    """Generate the monitoring template for SPEC.

    \b
    Deploy (templates over 51,200 bytes need --s3-bucket):
      mlmon generate spec.yaml -o template.yaml
      aws cloudformation deploy --template-file template.yaml \\
          --stack-name my-monitoring [--s3-bucket BUCKET]
    """
    from .core.build import build_template
    from .core.serialize import dump
    from .spec import load_spec

    parsed = load_spec(spec)
    result = build_template(parsed)
    fmt = fmt or ("json" if output is not None and output.suffix == ".json" else "yaml")
    text = dump(result.template.to_dict(), fmt)
    _write(output, text)
    size = len(text.encode("utf-8"))
    where = "stdout" if output is None or str(output) == "-" else str(output)
    click.echo(
        f"mlmon: wrote {where}: {len(result.template.resources)} resources ({result.alarms} alarms, "
        f"{result.composites} composite alarms, {result.rules} EventBridge rules), {size} bytes",
        err=True,
    )
    if size > INLINE_TEMPLATE_BYTES:
        click.echo(f"mlmon: the template is over {INLINE_TEMPLATE_BYTES} bytes: deploy with --s3-bucket BUCKET", err=True)
    if parsed.notifications.emails:
        click.echo("mlmon: after deploying, each address must confirm its subscription email: "
                   + ", ".join(parsed.notifications.emails), err=True)


def _write(output: Path | None, text: str) -> None:
    """Write to stdout, or atomically to a file so a failure never leaves a partial template."""
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    try:
        with click.open_file(str(output), "w", encoding="utf-8", atomic=True) as handle:
            handle.write(text)
    except OSError as exc:
        raise InputFileError(f"{output}: cannot write: {exc.strerror or exc}") from None


@main.command("validate", epilog=EPILOG)
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@_boundary
def validate_command(specs: tuple[Path, ...]) -> None:
    """Check spec files only (fast; for pre-commit). Reports every problem of every file."""
    from .spec import load_spec

    problems = []
    for path in specs:
        try:
            parsed = load_spec(path)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        click.echo(f"{path}: ok ({len(parsed.components)} components)", err=True)
    if problems:
        raise SpecError(problems)


_TEMPLATE = re.compile(r'^(Resources\s*:|\s*"Resources"\s*:|AWSTemplateFormatVersion\s*:|\s*"AWSTemplateFormatVersion")', re.M)


@main.command("lint", epilog=EPILOG)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@_boundary
def lint_command(files: tuple[Path, ...]) -> None:
    """Lint specs (validated, generated, then linted) and CloudFormation templates.

    Findings print as `file:line:col: rule: message`; for a spec they point into its generated
    template (see it with `mlmon generate SPEC`). Exit 3 when any finding is an error.
    """
    from .lint import lint_template
    from .spec.nodes import read_text

    findings = []
    for path in files:
        text = read_text(path, str(path))
        if _TEMPLATE.search(text):
            findings.extend(lint_template(text, str(path)))
            continue
        from .core.build import build_template
        from .core.serialize import dump
        from .spec import parse_spec

        template = dump(build_template(parse_spec(text, str(path))).template.to_dict(), "yaml")
        findings.extend(lint_template(template, f"{path}(generated)"))
    for finding in findings:
        click.echo(str(finding))
    errors = sum(f.is_error for f in findings)
    click.echo(f"mlmon: {len(files)} file(s), {errors} error(s), {len(findings) - errors} other finding(s)", err=True)
    if errors:
        sys.exit(EXIT_LINT)


@main.command("kinds")
@click.option("--markdown", is_flag=True, help="Print the README's alarm tables.")
@_boundary
def kinds_command(markdown: bool) -> None:
    """List component kinds, their options and alarms with defaults."""
    from .docs import kinds_markdown, kinds_text

    click.echo(kinds_markdown() if markdown else kinds_text(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
