#!/usr/bin/env bash
# Idempotent installer for cfn-guard and the AWS Control Tower proactive-control rules.
#
# Both come from one pinned npm package, @cdklabs/cdk-validator-cfnguard, which ships the
# cfn-guard binary (bin/<os>/<arch>/cfn-guard) and every Control Tower proactive control as a
# cfn-guard rule file (rules/control-tower/cfn-guard/<service>/ct-*.guard). Only the tarball is
# fetched (`npm pack`): its npm dependencies (aws-cdk-lib) are not needed to run the binary.
#
#   tools/cfn-guard/install.sh     # prints the install directory on stdout
#
# Directory: ${MLMON_CFN_GUARD_DIR:-<repo>/.cfn-guard}
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${MLMON_CFN_GUARD_DIR:-$REPO/.cfn-guard}"
PACKAGE="@cdklabs/cdk-validator-cfnguard"
VERSION="0.0.62"  # cfn-guard 3.1.1; Control Tower rules as of the package's 2026-07 release
MARKER="$DIR/.installed"

log() { printf '[cfn-guard-install] %s\n' "$*" >&2; }

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$PACKAGE@$VERSION" ]]; then
  echo "$DIR"; exit 0
fi
command -v npm >/dev/null || { log "ERROR: npm is needed (apt-get install npm)"; exit 1; }
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) BIN=ubuntu/x86_64 ;;
  Linux/aarch64) BIN=ubuntu/aarch64 ;;
  Darwin/arm64) BIN=macos/aarch64 ;;
  Darwin/x86_64) BIN=macos/x86_64 ;;
  *) log "ERROR: no cfn-guard binary for $(uname -s)/$(uname -m) in $PACKAGE"; exit 1 ;;
esac
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
log "npm pack $PACKAGE@$VERSION"
(cd "$TMP" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tar xzf "$TMP"/*.tgz -C "$TMP"
rm -rf "$DIR"; mkdir -p "$DIR/bin"
cp "$TMP/package/bin/$BIN/cfn-guard" "$DIR/bin/cfn-guard"; chmod +x "$DIR/bin/cfn-guard"
cp -r "$TMP/package/rules/control-tower/cfn-guard" "$DIR/rules"
cp "$TMP/package/LICENSE" "$DIR/LICENSE"
"$DIR/bin/cfn-guard" --version >&2
echo "$PACKAGE@$VERSION" > "$MARKER"
echo "$DIR"
