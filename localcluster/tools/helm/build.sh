#!/bin/sh
# Builds helm, pinned by go.mod/go.sum in this folder, once per set of pins. Prints the binary's
# path on stdout; progress goes to stderr.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/helm/<hash of go.mod, go.sum, go version>/helm
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../backend/go-cached-build.sh" "$here" helm.sh/helm/v4/cmd/helm helm helm \
  "helm" "for the Helm chart tests"
