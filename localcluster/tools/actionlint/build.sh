#!/bin/sh
# Builds actionlint, pinned by go.mod/go.sum in this folder, once per set of pins. Prints the
# binary's path on stdout; progress goes to stderr.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/tailcar/actionlint/<hash of go.mod, go.sum, go version>/actionlint
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../backend/go-cached-build.sh" "$here" github.com/rhysd/actionlint/cmd/actionlint actionlint actionlint \
  "actionlint" "for the workflow lint test"
