#!/bin/sh
# Builds one Go program pinned by the go.mod/go.sum of a folder, once per set of pins, for the
# harness's log backends (victorialogs/build.sh, otel-collector/build.sh call it) and the tools the
# tests run (../tools/helm/build.sh, ../tools/actionlint/build.sh). Prints the binary's path on
# stdout; progress goes to stderr.
# Usage: go-cached-build.sh FOLDER PACKAGE CACHE-NAME BINARY-NAME "what it is" "what it is for"
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/CACHE-NAME/<hash of the folder's *.go, go.mod, go.sum, go version>/BINARY-NAME
set -eu

here=$1 pkg=$2 name=$3 binary=$4 what=$5 why=$6

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed (https://go.dev/dl/): it is needed once to build $what $why" >&2
  exit 2
fi

sources=$(find "$here" -maxdepth 1 -name '*.go' | sort)
# shellcheck disable=SC2086 # the folder's own file names, no spaces
pins=$( (cat $sources "$here/go.mod" "$here/go.sum"; go version) | sha256sum | cut -c1-16)
root="${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/$name"
dir="$root/$pins"
bin="$dir/$binary"

# Each use stamps its entry; entries of other pins unused for 30 days go (as for the control plane:
# localcluster/harness/cache-prune.ts), so the cache does not grow with every upgrade.
used() {
  touch "$dir/.last-used"
  for entry in "$root"/*/; do
    entry=${entry%/}
    [ -d "$entry" ] && [ "$entry" != "$dir" ] || continue
    stamp="$entry/.last-used"
    [ -e "$stamp" ] || stamp="$entry"
    if [ -n "$(find "$stamp" -maxdepth 0 -mtime +29)" ]; then
      rm -rf "$entry" && echo "build.sh: removed $entry, unused for 30 days" >&2
    fi
  done
}

if [ -x "$bin" ]; then
  used
  echo "$bin"
  exit 0
fi

mkdir -p "$dir"
echo "building $what ($pkg, pins $pins) into $dir; the first build takes minutes" >&2
start=$(date +%s)
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# -mod=readonly: the pins in go.sum are the truth; a missing sum is an error, never a silent upgrade.
(cd "$here" && CGO_ENABLED=0 nice -n 10 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$tmp" "$pkg") >&2 &
pid=$!
# go build is silent for minutes: say it is still working.
ticks=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  ticks=$((ticks + 1))
  if [ $((ticks % 15)) -eq 0 ] && kill -0 "$pid" 2>/dev/null; then echo "  still building $what (${ticks}s)" >&2; fi
done
if ! wait "$pid"; then
  echo "build.sh: go build of $what ($pkg) failed (see above)" >&2
  exit 1
fi
mv "$tmp" "$bin"
used
echo "built $bin in $(( $(date +%s) - start ))s, $(du -h "$bin" | cut -f1)" >&2
echo "$bin"
