"""Run a host-mode LocalStack (no Docker) for end-to-end tests.

Install it first with ``tools/localstack/install.sh``. Usage::

    with LocalStack() as ls:
        cfn = ls.client("cloudformation")

The server binds 127.0.0.1 on a free port, keeps all state in a private temp
dir, and is killed (whole process group) on ``stop()``.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
# name -> seconds; filled by LocalStack.start() and tests, printed by conftest
TIMINGS: dict[str, float] = {}
ACCOUNT_ID = "000000000000"

# Services the alert-path tests need. Lambda's API is on (templates that subscribe a
# function create an AWS::Lambda::Permission), but without Docker it cannot run functions.
DEFAULT_SERVICES = (
    "cloudformation,cloudwatch,sns,sqs,events,kms,iam,sts,stepfunctions,logs,s3,lambda"
)
# Outbound HTTP(S) from LocalStack (SNS https subscriptions such as PagerDuty's) goes to this
# closed local port instead of the internet; local addresses bypass it.
NO_INTERNET_PROXY = "http://127.0.0.1:9"


def venv_dir() -> Path:
    return Path(os.environ.get("MLMON_LOCALSTACK_VENV") or REPO_ROOT / ".localstack-venv")


def venv_python() -> Path:
    return venv_dir() / "bin" / "python"


def is_installed() -> bool:
    return venv_python().exists() and (venv_dir() / ".mlmon-localstack-installed").exists()


def _child_setup() -> None:  # runs in the child between fork and exec
    os.setsid()  # own process group -> killpg() on stop
    try:  # Linux: get SIGTERM if the parent (test runner) dies without cleanup
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalStackError(RuntimeError):
    pass


class LocalStack:
    def __init__(
        self,
        services: str = DEFAULT_SERVICES,
        startup_timeout: float = 120.0,
        extra_env: dict[str, str] | None = None,
        python: str | os.PathLike | None = None,
    ) -> None:
        self.services = services
        self.startup_timeout = startup_timeout
        self.extra_env = dict(extra_env or {})
        self.python = Path(python) if python else venv_python()
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.tmpdir: Path | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None
        self._log_fh = None

    # -- lifecycle ---------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise LocalStackError("LocalStack not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalStack":
        if self.proc is not None:
            return self
        if not self.python.exists():
            raise LocalStackError(
                f"{self.python} not found; run tools/localstack/install.sh first"
            )
        self.tmpdir = Path(tempfile.mkdtemp(prefix="mlmon-localstack-"))
        fs_root = self.tmpdir / "fs"
        fs_root.mkdir()
        self.log_path = self.tmpdir / "localstack.log"
        self.port = _free_port()
        env = {
            k: v
            for k, v in os.environ.items()
            # don't leak the caller's AWS config/credentials or python setup
            if not k.startswith(("AWS_", "LOCALSTACK_", "PYTHON", "VIRTUAL_ENV"))
        }
        env.update(
            GATEWAY_LISTEN=f"127.0.0.1:{self.port}",
            GATEWAY_SERVER="hypercorn",
            LOCALSTACK_HOST=f"127.0.0.1:{self.port}",
            OVERRIDE_IN_DOCKER="0",
            FILESYSTEM_ROOT=str(fs_root),
            DNS_ADDRESS="0",
            SKIP_SSL_CERT_DOWNLOAD="1",
            DISABLE_EVENTS="1",  # no analytics calls
            SERVICES=self.services,
            SQS_ENDPOINT_STRATEGY="path",  # QueueUrl = http://127.0.0.1:<port>/queue/...
            CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES="1",  # pinned: types without a provider deploy as no-ops
            HTTP_PROXY=NO_INTERNET_PROXY,
            HTTPS_PROXY=NO_INTERNET_PROXY,
            http_proxy=NO_INTERNET_PROXY,
            https_proxy=NO_INTERNET_PROXY,
            NO_PROXY="127.0.0.1,localhost,.localstack.cloud,localhost.localstack.cloud",
            no_proxy="127.0.0.1,localhost,.localstack.cloud,localhost.localstack.cloud",
            EAGER_SERVICE_LOADING="1",
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION=REGION,
        )
        env.update(self.extra_env)
        self._log_fh = open(self.log_path, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "localstack.runtime.main"],
            cwd=self.tmpdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            preexec_fn=_child_setup,
        )
        atexit.register(self.stop)
        try:
            self._wait_ready(t0, env["SERVICES"])
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        TIMINGS["localstack startup"] = self.startup_seconds
        return self

    def _wait_ready(self, t0: float, services: str) -> None:
        url = f"{self.endpoint_url}/_localstack/health"
        wanted = {s.strip() for s in services.split(",") if s.strip()}
        last = "no response"
        while time.monotonic() - t0 < self.startup_timeout:
            if self.proc.poll() is not None:
                raise LocalStackError(
                    f"LocalStack exited with code {self.proc.returncode} during startup\n"
                    + self.log_tail()
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    health = json.load(resp)
                states = health.get("services", {})
                bad = {s: states.get(s) for s in wanted if states.get(s) not in ("available", "running")}
                if not bad:
                    return
                last = f"services not ready: {bad}"
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = repr(e)
            time.sleep(0.5)
        raise LocalStackError(
            f"LocalStack not ready after {self.startup_timeout:.0f}s ({last})\n" + self.log_tail()
        )

    def stop(self) -> None:
        atexit.unregister(self.stop)
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        if proc is not None:
            # reap anything left in the group (e.g. helper subprocesses)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        if self.tmpdir is not None and not os.environ.get("MLMON_E2E_KEEP_TMP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------
    def log_text(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_text().splitlines()[-lines:]
        return f"--- LocalStack log tail ({self.log_path}) ---\n" + "\n".join(text)

    def client(self, service: str, **kwargs):
        import boto3

        params = dict(
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        params.update(kwargs)
        return boto3.session.Session().client(service, **params)
