#!/usr/bin/env bash
# Idempotent installer for a host-mode (no Docker) LocalStack used by the e2e tests.
#
#   tools/localstack/install.sh            # install (or no-op if already installed)
#   tools/localstack/install.sh --force    # wipe and reinstall
#
# Venv location: ${MLMON_LOCALSTACK_VENV:-<repo>/.localstack-venv}
# Interpreter:   Python 3.13 (python3.13 on PATH, else pyenv 3.13.x); override with
#                MLMON_LOCALSTACK_PYTHON=/path/to/python3.13
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${MLMON_LOCALSTACK_VENV:-$REPO/.localstack-venv}"
LOCALSTACK_VERSION="4.14.0"

# Everything pip installs. Bump INSTALL_ID whenever this list changes so that
# existing venvs are rebuilt.
#  - localstack-core[runtime]: the bare distribution has no server deps
#    (hypercorn, moto-ext, antlr4 runtime for Step Functions, ...).
#  - cbor2<6, pyopenssl<26, cryptography<47: keep the runtime importable.
#  - service-identity: TLS hostname checks for localstack-twisted.
PACKAGES=(
  "localstack-core[runtime]==${LOCALSTACK_VERSION}"
  "cbor2<6"
  "pyopenssl<26"
  "cryptography>=45.0.7,<47"
  "service-identity"
)
INSTALL_ID="localstack-core[runtime]==${LOCALSTACK_VERSION};cbor2<6;pyopenssl<26;cryptography>=45.0.7,<47;service-identity;v1"
MARKER="$VENV/.mlmon-localstack-installed"

log() { printf '[localstack-install] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ "${1:-}" == "--force" ]]; then
  log "--force: removing $VENV"
  rm -rf "$VENV"
fi

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$INSTALL_ID" && -x "$VENV/bin/python" ]] \
   && "$VENV/bin/python" -c 'import localstack.runtime.main' 2>/dev/null; then
  log "already installed: $VENV (localstack-core $LOCALSTACK_VERSION)"
  exit 0
fi

# --- locate a working Python 3.13 -------------------------------------------
is_py313() {
  # pyenv shims exist on PATH even when the version is not selected, so
  # actually run the candidate instead of trusting `command -v`.
  [[ -n "$1" ]] && "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1
}

find_python() {
  local cand root
  if [[ -n "${MLMON_LOCALSTACK_PYTHON:-}" ]]; then
    is_py313 "$MLMON_LOCALSTACK_PYTHON" && { echo "$MLMON_LOCALSTACK_PYTHON"; return 0; }
    die "MLMON_LOCALSTACK_PYTHON=$MLMON_LOCALSTACK_PYTHON is not a working Python 3.13"
  fi
  cand="$(command -v python3.13 2>/dev/null || true)"
  is_py313 "$cand" && { echo "$cand"; return 0; }
  if command -v pyenv >/dev/null 2>&1; then
    cand="$(pyenv prefix 3.13.0 2>/dev/null || true)"
    [[ -n "$cand" ]] && is_py313 "$cand/bin/python3" && { echo "$cand/bin/python3"; return 0; }
    root="$(pyenv root 2>/dev/null || true)"
    if [[ -n "$root" ]]; then
      for cand in $(ls -d "$root"/versions/3.13*/bin/python3 2>/dev/null | sort -rV); do
        is_py313 "$cand" && { echo "$cand"; return 0; }
      done
    fi
  fi
  for cand in "$HOME"/.pyenv/versions/3.13*/bin/python3; do
    is_py313 "$cand" && { echo "$cand"; return 0; }
  done
  return 1
}

PY="$(find_python)" || die "no Python 3.13 found (tried python3.13 on PATH, 'pyenv prefix 3.13.0', \$(pyenv root)/versions/3.13*). Install one or set MLMON_LOCALSTACK_PYTHON."
log "using $PY ($("$PY" -V 2>&1))"

# --- (re)create venv and install ---------------------------------------------
rm -rf "$VENV"
"$PY" -m venv "$VENV"
start=$(date +%s)
# (filter the harmless "Location ... is ignored" noise from local extra indexes)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}" \
  2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
"$VENV/bin/python" -m pip check >/dev/null || die "pip check failed in $VENV"
"$VENV/bin/python" -c 'import localstack.runtime.main, hypercorn, moto, antlr4' \
  || die "LocalStack runtime not importable in $VENV"
got="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("localstack-core"))')"
[[ "$got" == "$LOCALSTACK_VERSION" ]] || die "expected localstack-core $LOCALSTACK_VERSION, got $got"
printf '%s' "$INSTALL_ID" > "$MARKER"
log "installed localstack-core $got into $VENV in $(( $(date +%s) - start ))s"
