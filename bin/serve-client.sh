#!/bin/sh
# The decision service's client for agents without http hooks (Cursor, Gemini
# CLI): what `downscope hook --agent AGENT` answers, asked of the resident
# service with a POSIX sh and curl instead of starting Node
# (docs/performance.md, "Other agents"). It sends the payload, this process's
# working directory and the variables `downscope hook` would read; the request
# key comes from a private curl config file, never the command line.
#   - The service answers: its body on stdout, its exit code (X-Downscope-Exit).
#   - Nothing listens (the service is down): the process hook decides this call,
#     with the same payload, so no call is ever blocked for that.
#   - Anything else (a timeout, an error status, no curl): a deny in the agent's
#     own terms (Cursor: JSON and exit 2; Gemini CLI: JSON, exit 0).
# $1: cursor | gemini, $2: the service's port, $3: node, $4: downscope's bin/downscope.js.
agent=$1
port=$2
node=$3
bin=$4
deny() {
  reason="downscope: the decision service could not decide this call ($1), so it is blocked. Try again; \`downscope serve --status\` says more."
  if [ "$agent" = cursor ]; then
    printf '{"permission":"deny","user_message":"%s","agent_message":"%s"}\n' "$reason" "$reason"
    exit 2
  fi
  printf '{"decision":"deny","reason":"%s"}\n' "$reason"
  exit 0
}
case "$agent" in cursor | gemini) ;; *) deny "unknown agent" ;; esac
case "${XDG_CONFIG_HOME:-}" in
/*) config=$XDG_CONFIG_HOME ;;
*) config=$HOME/.config ;;
esac
# The payload, kept whole (a trailing newline too) for the fallback.
payload=$(
  cat
  printf x
) || deny "cannot read the hook input"
payload=${payload%x}
# The variables `downscope hook` reads, one header each; an unset one is sent empty (`Name;`).
# (src/serve/request-env.ts HOOK_PROCESS_ENV; the header spells `_` as `-`.)
set --
for pair in HOME:HOME XDG_CONFIG_HOME:XDG-CONFIG-HOME XDG_STATE_HOME:XDG-STATE-HOME XDG_CACHE_HOME:XDG-CACHE-HOME \
  XDG_DATA_HOME:XDG-DATA-HOME PATH:PATH DOWNSCOPE_CONFIG:DOWNSCOPE-CONFIG \
  DOWNSCOPE_MANAGED_CONFIG:DOWNSCOPE-MANAGED-CONFIG DOWNSCOPE_HOOK_DEADLINE_MS:DOWNSCOPE-HOOK-DEADLINE-MS \
  DOWNSCOPE_DEBUG:DOWNSCOPE-DEBUG CLAUDE_PROJECT_DIR:CLAUDE-PROJECT-DIR; do
  eval "value=\${${pair%%:*}-}"
  header="X-Downscope-Env-${pair#*:}"
  # shellcheck disable=SC2154
  if [ -n "$value" ]; then set -- "$@" -H "$header: $value"; else set -- "$@" -H "$header;"; fi
done
nl='
'
out=$(printf '%s' "$payload" | curl -sS -m 9 -K "$config/downscope/serve.curl" "$@" \
  -H "X-Downscope-Cwd: $PWD" -H "Content-Type: application/json" --data-binary @- \
  -w "${nl}%{http_code} %header{x-downscope-exit}" "http://127.0.0.1:$port/v1/hook/$agent" 2>/dev/null)
rc=$?
if [ "$rc" -eq 7 ]; then
  printf '%s' "$payload" | exec "$node" "$bin" hook --agent "$agent"
fi
status=${out##*"$nl"}
body=${out%"$nl"*}
code=${status#* }
[ "$rc" -eq 0 ] || deny "curl exit $rc"
[ "${status%% *}" = 200 ] || deny "HTTP ${status%% *}"
case "$code" in '' | *[!0-9]*) deny "no exit code" ;; esac
printf '%s' "$body"
exit "$code"
