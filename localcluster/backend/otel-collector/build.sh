#!/bin/sh
# Builds the OpenTelemetry Collector of main.go, pinned by go.mod/go.sum in this folder, once per set
# of pins. Prints the binary's path on stdout; progress goes to stderr.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/otel-collector/<hash of main.go, go.mod, go.sum, go version>/otelcol
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed (https://go.dev/dl/): it is needed once to build the OpenTelemetry Collector for the node-level collector proof" >&2
  exit 2
fi

pins=$( (cat "$here/main.go" "$here/go.mod" "$here/go.sum"; go version) | sha256sum | cut -c1-16)
root="${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/otel-collector"
dir="$root/$pins"
bin="$dir/otelcol"

# Each use stamps its entry; entries of other pins unused for 30 days go (as for VictoriaLogs and
# the control plane), so the cache does not grow with every upgrade.
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
echo "building the OpenTelemetry Collector (pins $pins) into $dir; the first build takes a few minutes" >&2
start=$(date +%s)
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# -mod=readonly: the pins in go.sum are the truth; a missing sum is an error, never a silent upgrade.
(cd "$here" && CGO_ENABLED=0 nice -n 10 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$tmp" .) >&2 &
pid=$!
# go build is silent for minutes: say it is still working.
ticks=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  ticks=$((ticks + 1))
  if [ $((ticks % 15)) -eq 0 ] && kill -0 "$pid" 2>/dev/null; then echo "  still building the OpenTelemetry Collector (${ticks}s)" >&2; fi
done
if ! wait "$pid"; then
  echo "build.sh: go build of the OpenTelemetry Collector failed (see above)" >&2
  exit 1
fi
mv "$tmp" "$bin"
used
echo "built $bin in $(( $(date +%s) - start ))s, $(du -h "$bin" | cut -f1)" >&2
echo "$bin"
