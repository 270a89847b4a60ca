#!/usr/bin/env bash
# Idempotent installer of the pinned aws-cdk-lib + cdk-monitoring-constructs used by
# benchmarks/cost_vs_cdk.py (the app is synthesized with plain node: no cdk CLI needed).
#   tools/cdk/install.sh      # prints the directory holding node_modules
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${MLMON_CDK_DIR:-$REPO/.cdk-bench}"
ID="$(sha256sum "$REPO/tools/cdk/package.json" | cut -c1-16)"
if [[ -f "$DIR/.installed" && "$(cat "$DIR/.installed")" == "$ID" ]]; then echo "$DIR"; exit 0; fi
command -v npm >/dev/null || { echo "[cdk-install] ERROR: npm is needed" >&2; exit 1; }
mkdir -p "$DIR"
cp "$REPO/tools/cdk/package.json" "$DIR/package.json"
(cd "$DIR" && npm install --silent --no-audit --no-fund --ignore-scripts >&2)
echo "$ID" > "$DIR/.installed"
echo "$DIR"
