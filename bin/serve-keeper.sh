#!/bin/sh
# The keeper of downscope's decision service (src/serve/lifecycle.ts starts it,
# in a process group of its own). It holds the service's listening socket as
# fd 3, so that while the service restarts, Claude Code's connections wait in
# the kernel's backlog instead of being refused, and it starts the service
# again whenever it exits. Stopped by `downscope serve --stop` (SIGTERM to the
# group). $1: node, $2: downscope's bin/downscope.js.
node=$1
bin=$2
child=
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; exit 0' TERM INT HUP
quick=0
while :; do
  started=$(date +%s)
  # A small young generation and no optimizing compiler keep the resident size down: a decision is
  # mostly cold code, and TurboFan's code and compile zones cost about 18 MiB for little gain
  # (docs/performance.md, "The decision service").
  "$node" --max-semi-space-size=1 --no-opt "$bin" serve --fd 3 &
  child=$!
  wait "$child"
  code=$?
  child=
  # Five exits in a row within two seconds of starting: something a restart will not fix.
  if [ $(($(date +%s) - started)) -lt 2 ]; then quick=$((quick + 1)); else quick=0; fi
  if [ "$quick" -ge 5 ]; then
    echo "downscope serve: the service exits at once (last exit code $code); the keeper gives up" >&2
    exit 1
  fi
  if [ "$quick" -ge 2 ]; then sleep 1; fi
done
