#!/usr/bin/env bash
# Build the FerretDB-based MongoDB-wire test server (test/mongo-server/main.go)
# to <repo>/.cache/bin/mongo-server, only when it is missing or stale.
#
# Staleness: a stamp file next to the binary holds the sha256 of
# main.go + go.mod + go.sum; the binary is rebuilt when the stamp differs.
# Quiet on success: prints only the binary path on stdout.
#
# Env:
#   MONGO_SERVER_OUT   output path (default: <repo>/.cache/bin/mongo-server)
#   MONGO_SERVER_FORCE=1  rebuild even if the stamp matches
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SRC_DIR/../.." && pwd)"
OUT="${MONGO_SERVER_OUT:-$REPO_ROOT/.cache/bin/mongo-server}"
STAMP="$OUT.stamp"
OUT_DIR="$(dirname "$OUT")"
FALLBACK_TOOLCHAIN="go1.24.3"

die() { echo "mongo-server build: $*" >&2; exit 1; }

hash_sources() {
  cat "$SRC_DIR/main.go" "$SRC_DIR/go.mod" "$SRC_DIR/go.sum" | sha256sum | cut -d' ' -f1
}

is_fresh() {
  [[ -x "$OUT" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]
}

WANT="$(hash_sources)"
if [[ "${MONGO_SERVER_FORCE:-0}" != 1 ]] && is_fresh; then
  echo "$OUT"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' is not on PATH; install Go >= 1.24 (https://go.dev/dl/) to build $OUT"

mkdir -p "$OUT_DIR"

# Serialise concurrent builds (e.g. two test runs starting at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT_DIR/.mongo-server.lock"
  flock 9
  # Someone else may have finished the build while we waited.
  if [[ "${MONGO_SERVER_FORCE:-0}" != 1 ]] && is_fresh; then
    echo "$OUT"
    exit 0
  fi
fi

TMP_OUT="$(mktemp "$OUT_DIR/.mongo-server.XXXXXX")"
LOG="$(mktemp "${TMPDIR:-/tmp}/mongo-server-build.XXXXXX")"
cleanup() { rm -f "$TMP_OUT" "$LOG"; }
trap cleanup EXIT

go_build() {
  (cd "$SRC_DIR" && CGO_ENABLED=0 "$@" go build -trimpath -buildvcs=false -o "$TMP_OUT" .) >"$LOG" 2>&1
}

# go.mod says `go 1.24`. A go older than that cannot build it directly, but
# (if >= 1.21) can fetch the right toolchain when asked via GOTOOLCHAIN.
GO_VER="$(go env GOVERSION 2>/dev/null || true)"   # e.g. go1.26.8
GO_MINOR="$(sed -nE 's/^go1\.([0-9]+).*/\1/p' <<<"$GO_VER")"
built=0
if [[ -n "$GO_MINOR" && "$GO_MINOR" -ge 24 ]]; then
  go_build env && built=1
fi
if [[ $built == 0 ]]; then
  if [[ -s "$LOG" ]]; then
    echo "mongo-server build: '$GO_VER' failed, retrying with GOTOOLCHAIN=$FALLBACK_TOOLCHAIN" >&2
  fi
  go_build env GOTOOLCHAIN="$FALLBACK_TOOLCHAIN" && built=1
fi
if [[ $built == 0 ]]; then
  cat "$LOG" >&2
  die "go build failed (go: ${GO_VER:-unknown}); see output above"
fi

chmod 755 "$TMP_OUT"
mv -f "$TMP_OUT" "$OUT"
echo "$WANT" >"$STAMP"
echo "$OUT"
