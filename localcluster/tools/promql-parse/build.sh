#!/bin/sh
# Builds promql-parse (main.go: Prometheus's PromQL parser over a JSON list of expressions), pinned
# by go.mod/go.sum in this folder, once per set of pins. Prints the binary's path on stdout;
# progress goes to stderr.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/promql-parse/<hash of main.go, go.mod, go.sum, go version>/promql-parse
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../backend/go-cached-build.sh" "$here" . promql-parse promql-parse \
  "promql-parse" "for the monitoring tests (the alerts' and the dashboard's PromQL)"
