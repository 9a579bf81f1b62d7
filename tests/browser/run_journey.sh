#!/usr/bin/env bash
# Runs the new-employee journey and the RUG side end to end: `omtanke serve`, two Microsoft 365
# Agents Playgrounds (the employee's and a RUG member's Teams) and headless Chromium
# (tests/browser/journey.cjs), all inside a loopback-only network namespace, within a bounded time.
#
#   sudo unshare -n bash tests/browser/run_journey.sh     # or, as root, just:
#   bash tests/browser/run_journey.sh                      # re-runs itself under `unshare -n`
#   bash tests/browser/run_journey.sh --interactive        # bot + playground only, for a person:
#                                                          # open the page from inside the namespace
#
# The playground listens on all interfaces and, even with telemetry off, tries to reach
# outside addresses: it must never run outside an isolated namespace, so this script
# refuses to start anything when it sees a network interface other than loopback.
#
# Environment (all optional):
#   JOURNEY_TIMEOUT      seconds for the whole run (default 300)
#   JOURNEY_ARTIFACTS    screenshots and logs (default tests/artifacts/playground)
#   JOURNEY_BOT_CMD      command that serves the bot on 127.0.0.1:$JOURNEY_BOT_PORT
#                        (default: .venv/bin/omtanke serve)
#   JOURNEY_BOT_PORT     default 3978;  JOURNEY_PLAYGROUND_PORT  default 56150 (the employee's
#                        client); JOURNEY_RUG_PLAYGROUND_PORT default 56151 (the RUG member's)
#   JOURNEY_LOCALE       the client locale the bot sees (default sv-SE, through a loopback proxy
#                        on JOURNEY_PROXY_PORT, default 3979; en-US = the playground's own)
# Exit code: journey.cjs's (0 = every stage passed), or 3 when the bot or the playground
# did not come up, 4 when the namespace is not isolated, 124 on the overall timeout.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TOTAL="${JOURNEY_TIMEOUT:-300}"
MODE="${1:-journey}"

# 1. Get into a fresh network namespace (needs root, or a user namespace that allows it).
if [[ "${JOURNEY_IN_NETNS:-}" != 1 ]]; then
  exec unshare -n env JOURNEY_IN_NETNS=1 bash "${BASH_SOURCE[0]}" "$@"
fi
# 2. Bound the whole run (once).
if [[ "${JOURNEY_BOUNDED:-}" != 1 && "$MODE" != --interactive ]]; then
  exec timeout --kill-after=10 "$TOTAL" env JOURNEY_BOUNDED=1 bash "${BASH_SOURCE[0]}" "$@"
fi

log() { printf '[run_journey] %s\n' "$*" >&2; }

others="$(ip -o link show | awk -F': ' '{print $2}' | grep -v '^lo$' | tr '\n' ' ' || true)"
if [[ -n "${others// /}" ]]; then
  log "refusing to run: this network namespace has interfaces besides loopback: $others"
  log "run it as root through 'unshare -n' (this script does so itself when it can)"
  exit 4
fi
ip link set lo up

ARTIFACTS="${JOURNEY_ARTIFACTS:-$ROOT/tests/artifacts/playground}"
BOT_PORT="${JOURNEY_BOT_PORT:-3978}"
PG_PORT="${JOURNEY_PLAYGROUND_PORT:-56150}"
RUG_PG_PORT="${JOURNEY_RUG_PLAYGROUND_PORT:-56151}"
PROXY_PORT="${JOURNEY_PROXY_PORT:-3979}"
LOCALE="${JOURNEY_LOCALE-sv-SE}"
PLAYGROUND="$ROOT/node_modules/.bin/agentsplayground"
PY="$ROOT/.venv/bin/python"
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS"/playground*.log
WORK="$(mktemp -d "${TMPDIR:-/tmp}/omtanke-journey.XXXXXX")"

pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 30); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for SECONDS DESCRIPTION PID COMMAND... : poll COMMAND until it succeeds, the process dies,
# or the time is up.
wait_for() {
  local secs="$1" what="$2" pid="$3"; shift 3
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    if "$@"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$what exited before it was ready"
      return 1
    fi
    sleep 0.3
  done
  log "$what not ready within ${secs}s"
  return 1
}

healthz() {
  "$PY" - "$BOT_PORT" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

# 3. The bot: local use, auth off (no MicrosoftAppId), its data in a fresh folder. RUG is one
#    person: Megan Bowen, the current user of the second playground
#    (rug-member.m365agentsplayground.yml); the first playground's user, Alex Wilber (its
#    built-in config), is the employee and not in RUG.
unset MicrosoftAppId MicrosoftAppPassword MicrosoftAppType MicrosoftAppTenantId OMTANKE_ALLOWED_TENANTS \
  OMTANKE_SMTP_HOST OMTANKE_ADMINS OMTANKE_COORDINATORS
export OMTANKE_DATA_DIR="$WORK/data" PORT="$BOT_PORT" OMTANKE_HOST=127.0.0.1 PYTHONUNBUFFERED=1
export OMTANKE_RUG_MEMBERS="$WORK/rug_members.json"
mkdir -p "$OMTANKE_DATA_DIR" "$WORK/employee" "$WORK/rug"
cat >"$OMTANKE_RUG_MEMBERS" <<'EOF'
[{"name": "Megan Bowen", "email": "meganb@example.com",
  "aad_object_id": "00000000-0000-0000-0000-0000000000021", "organisation": "Region Halland"}]
EOF
# The coordinators, who answer the questions the knowledge base declined: Megan Bowen too.
export OMTANKE_COORDINATORS="$WORK/coordinators.json"
cp "$OMTANKE_RUG_MEMBERS" "$OMTANKE_COORDINATORS"
BOT_CMD="${JOURNEY_BOT_CMD:-$ROOT/.venv/bin/omtanke serve}"
log "starting bot: $BOT_CMD (data in $OMTANKE_DATA_DIR)"
(cd "$ROOT" && exec $BOT_CMD) >"$ARTIFACTS/bot.log" 2>&1 &
bot_pid=$!
pids+=("$bot_pid")
if ! wait_for 60 "bot (GET /healthz on port $BOT_PORT)" "$bot_pid" healthz; then
  tail -n 40 "$ARTIFACTS/bot.log" >&2 || true
  exit 3
fi
log "bot healthy on 127.0.0.1:$BOT_PORT"

# 4. A Swedish client: the playground stamps its messages "en-US"; a loopback proxy in front of
#    the bot makes that sv-SE (JOURNEY_LOCALE=en-US talks to the bot directly).
ENDPOINT="http://127.0.0.1:$BOT_PORT/api/messages"
if [[ "$LOCALE" != en-US && -n "$LOCALE" ]]; then
  node "$HERE/journey.cjs" locale-proxy "$PROXY_PORT" "http://127.0.0.1:$BOT_PORT" "$LOCALE" \
    >"$ARTIFACTS/locale-proxy.log" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_for 20 "locale proxy (port $PROXY_PORT)" "$proxy_pid" port_open "$PROXY_PORT" || exit 3
  ENDPOINT="http://127.0.0.1:$PROXY_PORT/api/messages"
fi

# 5. Two playgrounds (offline, telemetry off, no browser of their own): two Teams clients of one
#    tenant, the employee's (built-in config, Alex Wilber) and the RUG member's (Megan Bowen).
#    The bot answers each at the serviceUrl its activities came from.
start_playground() { # NAME PORT FOLDER [CONFIG]
  local name="$1" port="$2" folder="$3" config="${4:-}"
  log "starting the Agents Playground ($name) on port $port -> $ENDPOINT"
  (cd "$folder" && APPLICATION_INSIGHTS_NO_STATSBEAT=1 TEAMSAPPTESTER_BROWSER=none \
    M365_AGENTS_PLAYGROUND_CONFIG_PATH="${config:-$folder/.m365agentsplayground.yml}" \
    exec "$PLAYGROUND" -e "$ENDPOINT" -c msteams -p "$port" --disable-telemetry) \
    >"$ARTIFACTS/playground-$name.log" 2>&1 &
  pg_pid=$!
  pids+=("$pg_pid")
}
start_playground employee "$PG_PORT" "$WORK/employee"
employee_pid=$pg_pid
start_playground rug "$RUG_PG_PORT" "$WORK/rug" "$HERE/rug-member.m365agentsplayground.yml"
rug_pid=$pg_pid
for spec in "employee $PG_PORT $employee_pid" "rug $RUG_PG_PORT $rug_pid"; do
  read -r name port pid <<<"$spec"
  if ! wait_for 60 "playground $name (port $port)" "$pid" port_open "$port"; then
    tail -n 40 "$ARTIFACTS/playground-$name.log" >&2 || true
    exit 3
  fi
  log "playground $name listening on 127.0.0.1:$port"
done
pg_pid=$employee_pid

if [[ "$MODE" == --interactive ]]; then
  # A person's browser, inside the same namespace (an X11 or Wayland display reaches it through
  # its socket file). Without a display, bot and playground keep running for journey.cjs or curl.
  if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    log "opening the playground in Chromium; close the window or press Ctrl-C to stop"
    /usr/bin/chromium --no-sandbox --disable-quic --no-first-run --disable-background-networking \
      --disable-component-update --disable-sync --user-data-dir="$WORK/chromium" \
      "http://127.0.0.1:$PG_PORT/" "http://127.0.0.1:$RUG_PG_PORT/" >"$ARTIFACTS/chromium.log" 2>&1 || true
  else
    log "no display: bot and playground are up inside this namespace only; Ctrl-C stops them"
    wait "$pg_pid" || true
  fi
  exit 0
fi

# 6. The journey in headless Chromium.
set +e
JOURNEY_URL="http://127.0.0.1:$PG_PORT/" JOURNEY_RUG_URL="http://127.0.0.1:$RUG_PG_PORT/" \
  JOURNEY_ARTIFACTS="$ARTIFACTS" node "$HERE/journey.cjs"
rc=$?
set -e
if ((rc != 0)); then
  log "journey failed (exit $rc); logs and screenshots in $ARTIFACTS"
  log "last lines of bot.log:"
  tail -n 20 "$ARTIFACTS/bot.log" >&2 || true
fi
exit "$rc"
