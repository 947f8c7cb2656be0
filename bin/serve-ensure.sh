#!/bin/sh
# Claude Code runs this in the background (an async hook, which cannot block
# and costs the call no time) beside each http PreToolUse hook that
# `downscope install claude --serve` writes: if the decision service's keeper
# is gone (killed, or never started), start it again, so that at most the
# call that found it gone is blocked. While the keeper lives this is one sh
# and no node. $1: node, $2: downscope's bin/downscope.js.
node=$1
bin=$2
case "${XDG_STATE_HOME:-}" in
/*) state=$XDG_STATE_HOME ;;
*) state=$HOME/.local/state ;;
esac
if read -r pid start <"$state/downscope/serve/serve.pid" 2>/dev/null; then
  if [ -r /proc/self/stat ]; then
    # The keeper is the process with that pid and that start time (field 22): a reused pid is not it,
    # nor a keeper that died and was never reaped (state Z: an init that does not reap, as in some containers).
    if read -r stat <"/proc/$pid/stat" 2>/dev/null; then
      set -f
      # shellcheck disable=SC2086
      set -- $stat
      if [ "${22:-}" = "$start" ] && [ "$3" != Z ] && [ "$3" != X ]; then exit 0; fi
    fi
  elif kill -0 "$pid" 2>/dev/null; then
    exit 0
  fi
fi
exec "$node" "$bin" serve --ensure
