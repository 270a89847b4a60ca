"""Click options shared by `mlmon deploy` and `mlmon fire` (no boto3 here: imported by cli.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def aws_target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--region, --profile and --endpoint-url (LocalStack: http://127.0.0.1:4566)."""
    options = [
        click.option("--region", default=None, help="AWS Region (default, first set: AWS_REGION, AWS_DEFAULT_REGION, the profile's region)."),
        click.option("--profile", default=None, help="Named AWS profile (default: AWS_PROFILE / the default chain)."),
        click.option("--endpoint-url", default=None, metavar="URL",
                     help="Send every AWS call here instead of AWS, e.g. LocalStack at http://127.0.0.1:4566."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def echo_err(line: str) -> None:
    click.echo(line, err=True)
