#!/bin/sh
# Builds the OpenTelemetry Collector of main.go, pinned by go.mod/go.sum in this folder, once per set
# of pins. Prints the binary's path on stdout; progress goes to stderr.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/otel-collector/<hash of main.go, go.mod, go.sum, go version>/otelcol
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../go-cached-build.sh" "$here" . otel-collector otelcol \
  "the OpenTelemetry Collector" "for the node-level collector proof"
