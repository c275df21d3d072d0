#!/bin/sh
# `tailcar` in the sidecar image: runs the CLI with the Node flags measured to suit the sidecar
# (docs/decisions.md, "The sidecar's memory at idle"). Raw format to stdout, the default:
# --lite-mode (no optimizing compilers: about 2.7 MiB less RSS at idle, for about 15 % of raw
# throughput). JSON format: no flags, its encoder needs the optimizing compilers (about 12x slower
# without them). Forwarding (a --sink other than stdout): no flags either, since --lite-mode leaves
# out WebAssembly, which Node's fetch needs ("fetch failed: WebAssembly is not defined": a raw
# forwarding sidecar delivered nothing).
format=${TAILCAR_FORMAT:-raw}
sink=${TAILCAR_SINK:-stdout}
prev=
for arg in "$@"; do
  case "$arg" in
    --format=*) format=${arg#--format=} ;;
    --sink=*) sink=${arg#--sink=} ;;
  esac
  if [ "$prev" = "--format" ]; then format=$arg; fi
  if [ "$prev" = "--sink" ]; then sink=$arg; fi
  prev=$arg
done
flags=
if [ "$format" = "raw" ] && [ "$sink" = "stdout" ]; then flags=--lite-mode; fi
exec node $flags "${TAILCAR_MAIN:-/app/dist/cli/main.js}" "$@"
