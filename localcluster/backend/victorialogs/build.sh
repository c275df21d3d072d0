#!/bin/sh
# Builds the VictoriaLogs server pinned by go.mod/go.sum in this folder, once per set of pins.
# Prints the binary's path on stdout; progress goes to stderr.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/victorialogs/<hash of go.mod, go.sum, go version>/victoria-logs
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../go-cached-build.sh" "$here" github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs victorialogs victoria-logs \
  "VictoriaLogs" "for the forwarding tests"
