"""Every error a user can cause, as data that knows where in their file it happened.

One base class (`MlmonError`) so the CLI has a single boundary that turns domain errors into
clean messages and exit codes; anything else escaping is a bug and is reported as such.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or nothing: appended to 'unknown ...' messages."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True, order=True)
class Location:
    """A place in a user's file: 1-based line and column plus the dotted spec path."""

    file: str
    line: int
    column: int
    path: str = ""

    def __str__(self) -> str:
        prefix = f"{self.file}:{self.line}:{self.column}"
        return f"{prefix}: {self.path}" if self.path else prefix


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, reported as `file:line:col: path: message`."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class MlmonError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 1


class SpecError(MlmonError):
    """Raised when a spec file cannot be read or is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.location.file, p.location.line, p.location.column, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class TemplateRenderError(MlmonError):
    """Raised when a Jinja2 text template fails to render (names the template file and line)."""


class InputFileError(MlmonError):
    """Raised when an input file (template or ASL definition) cannot be read or parsed."""


class LimitError(MlmonError):
    """Raised when the generated template would pass a CloudFormation limit."""


class AwsError(MlmonError):
    """Raised when `deploy` or `fire` fails against AWS: a stack operation failed or rolled back,
    or an AWS call was refused (credentials, permissions, a missing stack or bucket)."""

    exit_code = 5


class AwsUsageError(MlmonError):
    """Raised when `deploy`/`fire` options cannot work: e.g. a large template without --s3-bucket."""

    exit_code = 2
