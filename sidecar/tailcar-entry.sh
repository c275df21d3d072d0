#!/bin/sh
# `tailcar` in the sidecar image: runs the CLI with the Node flags measured to suit the sidecar
# (docs/decisions.md, "The sidecar's memory at idle"). Raw format, the default: --lite-mode (no
# optimizing compilers: about 2.7 MiB less RSS at idle, for about 15 % of raw throughput). JSON
# format: no flags, its encoder needs the optimizing compilers (about 12x slower without them).
format=${TAILCAR_FORMAT:-raw}
prev=
for arg in "$@"; do
  case "$arg" in
    --format=*) format=${arg#--format=} ;;
  esac
  if [ "$prev" = "--format" ]; then format=$arg; fi
  prev=$arg
done
flags=
if [ "$format" = "raw" ]; then flags=--lite-mode; fi
exec node $flags "${TAILCAR_MAIN:-/app/dist/cli/main.js}" "$@"
