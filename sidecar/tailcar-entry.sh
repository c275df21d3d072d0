#!/bin/sh
# `tailcar` in the sidecar image. It passes the arguments through untouched: the Node flags the
# sidecar runs under follow from its own parsed settings (sidecar/node-flags.ts), and a sidecar
# that needs others re-executes itself once with them.
exec node "${TAILCAR_MAIN:-/app/dist/cli/main.js}" "$@"
