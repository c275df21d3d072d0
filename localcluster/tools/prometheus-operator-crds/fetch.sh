#!/bin/sh
# Copies the Prometheus Operator's ServiceMonitor, PodMonitor and PrometheusRule CRDs, from the module
# pinned by go.mod/go.sum in this folder, into the user cache once per set of pins. Prints the folder
# holding them on stdout; progress goes to stderr. `go mod download` checks the module's zip against
# go.sum: a changed upstream zip is an error, never a silent change of schema.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/prometheus-operator-crds/<hash of go.mod, go.sum>/
# (160 KB an entry: entries of older pins are left, not pruned)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
module=github.com/prometheus-operator/prometheus-operator
kinds="servicemonitors podmonitors prometheusrules"

pins=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
dir="${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/prometheus-operator-crds/$pins"
if [ -e "$dir/.complete" ]; then
  touch "$dir/.last-used"
  echo "$dir"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "fetch.sh: Go is not installed (https://go.dev/dl/): it is needed once to download the Prometheus Operator's CRDs for the monitoring tests" >&2
  exit 2
fi
echo "downloading $module (pins $pins) for its CRDs into $dir" >&2
# go.sum is the truth: a different sum is a SECURITY ERROR from go.
src=$(cd "$here" && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -d "$src/example/prometheus-operator-crd" ]; then
  echo "fetch.sh: go mod download of $module gave no example/prometheus-operator-crd folder (see above)" >&2
  exit 1
fi
mkdir -p "$dir"
for kind in $kinds; do
  cp "$src/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$dir/"
  chmod u+w "$dir/monitoring.coreos.com_$kind.yaml"
done
touch "$dir/.complete" "$dir/.last-used"
echo "$dir"
