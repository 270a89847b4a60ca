"""boto3 sessions and clients for `deploy` and `fire`, with AWS errors turned into `AwsError`.

`--endpoint-url` points every client at one endpoint (LocalStack); S3 then uses path-style URLs
(`http://host:port/bucket/key`), which is what LocalStack serves and what CloudFormation fetches.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, ProfileNotFound

from ..errors import AwsError


@dataclass(frozen=True)
class Target:
    """Where to talk to: the AWS region, named profile and an optional endpoint (LocalStack)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    # (access key ID, secret, session token) of an assumed role (`fire --stack-set` in a member account)
    credentials: tuple[str, str, str] | None = field(default=None, repr=False)


def resolve_region(target: Target) -> str | None:
    """The region to use, first found: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`.

    boto3 reads only AWS_DEFAULT_REGION; the AWS CLI v2 and the other SDKs prefer AWS_REGION, and
    `--help` documents it, so it is honoured here. None: let boto3 read the rest of the chain.
    """
    return target.region or os.environ.get("AWS_REGION") or None


class Aws:
    """Clients for one target; created lazily, one per service."""

    def __init__(self, target: Target):
        self.target = target
        try:
            keys = dict(zip(("aws_access_key_id", "aws_secret_access_key", "aws_session_token"), target.credentials or (), strict=False))
            self.session = boto3.session.Session(profile_name=target.profile, region_name=resolve_region(target), **keys)
        except ProfileNotFound as exc:
            raise AwsError(f"mlmon: --profile {target.profile}: {exc}") from None
        if not self.session.region_name:
            raise AwsError("mlmon: no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or use a profile that names one")
        self.region = self.session.region_name
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            config = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="mlmon")
            if self.target.endpoint_url and service == "s3":
                config = config.merge(Config(s3={"addressing_style": "path"}))
            with aws_errors(f"create a {service} client"):
                self._clients[service] = self.session.client(service, endpoint_url=self.target.endpoint_url, config=config)
        return self._clients[service]


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", exc))


@contextlib.contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn boto errors into an `AwsError` naming what was being done."""
    try:
        yield
    except ClientError as exc:
        raise AwsError(f"mlmon: cannot {doing}: {error_code(exc)}: {error_message(exc)}") from None
    except NoCredentialsError:
        raise AwsError(f"mlmon: cannot {doing}: no AWS credentials (use --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID)") from None
    except NoRegionError:
        raise AwsError(f"mlmon: cannot {doing}: no AWS region (pass --region)") from None
    except BotoCoreError as exc:
        raise AwsError(f"mlmon: cannot {doing}: {exc}") from None
