#!/bin/bash
# bench/ws.sh - figures of the gateway's WebSocket control plane, beside the
# budgets (shared DESIGN.md, "Performance budgets") and OpenClaw 2026.9.6's
# figures measured on this machine (shared openclaw/README.md).
#
#   bench/ws.sh [./pincer] [build/bench/wsload]     (`make bench` runs it)
#
# Builds nothing. The load client is bench/wsload.c (C: on two cores a
# Python client would cost more than the gateway it measures). Prints one
# "name: value" line per figure, then a table. Every gateway runs in a fresh
# temp state dir with `gateway.auth.token` set, on 127.0.0.1 port 0 (the
# port is read from <state>/gateway.json), with its default logging (info,
# to <state>/logs/pincer.log and stderr, here /dev/null).
#
#  start_to_listening_*  `pincer gateway run --port 0` start to listening:
#                        bench/startup.sh's method (clock read before the
#                        spawn and when the "listening" line arrives on a
#                        pipe) with wsload's C spawner, 3 warm-up runs.
#  connect_to_hello_ok_* WS_CONNECTS sequential clients, each timed from
#                        before its TCP connect() to its hello-ok: TCP
#                        connect, HTTP upgrade to 101, connect.challenge,
#                        connect frame (token) to hello-ok; each phase has
#                        its own lines. connect_to_hello_* is the server's
#                        handshake plus one loopback round trip; ws_ping_rtt_*
#                        (a WebSocket ping answered by the transport alone)
#                        is that round trip, so the gateway's own share is
#                        about the difference. Each client closes cleanly and
#                        is gone before the next starts.
#  idle_* / clients_*    VmRSS (/proc/PID/status), Pss and Private_Clean +
#                        Private_Dirty (/proc/PID/smaps_rollup) of a fresh
#                        gateway 1 s after start, then 1 s after WS_CLIENTS
#                        concurrent clients have all had their hello-ok
#                        (still connected, reading events), then 1 s after they
#                        all closed. per_client_kb = (with - idle) / clients.
#                        `cli` clients (OpenClaw's CLI: not in presence), then
#                        on a new gateway WS_UI_CLIENTS (1000) `ui` clients,
#                        each of which joins presence, whose events carry
#                        the whole list to every client. *_hwm_kb is VmHWM,
#                        the peak.
#  rps_*                 `health` requests answered per second, each client
#                        keeping one request in flight (send, wait for the
#                        answer, send the next), over 1 and over 100
#                        connections, WS_SECONDS each after a 0.5 s warm-up.
#                        Client and gateway share the machine's cores.
set -eu -o pipefail

BIN=${1:-./pincer}
LOAD=${2:-build/bench/wsload}
CONNECTS=${WS_CONNECTS:-2000}
CLIENTS=${WS_CLIENTS:-1000}
UI_CLIENTS=${WS_UI_CLIENTS:-1000}
SECS=${WS_SECONDS:-5}
START_RUNS=${WS_START_RUNS:-30}
TOKEN=bench-token-0123456789

for f in BIN LOAD; do
	eval "p=\$$f"
	case $p in /*) ;; *) p=$(pwd)/$p ;; esac
	[ -x "$p" ] || { echo "ws.sh: no executable at $p" >&2; exit 1; }
	eval "$f=\$p"
done

# The gateway and the client each hold one fd per client.
need=$((CLIENTS + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
		echo "ws.sh: $CLIENTS clients need ulimit -n >= $need (hard limit $(ulimit -Hn))" >&2
		exit 1
	fi
fi

TMP=$(mktemp -d)
GW_PID=
cleanup() {
	[ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# Start a gateway in a fresh state dir; sets GW_PID and GW_PORT.
gw_start() {
	local home=$TMP/gw$1 _
	mkdir -p "$home/state"
	printf '{gateway: {auth: {token: "%s"}}}\n' "$TOKEN" >"$home/state/pincer.json"
	(cd "$home" && exec env -u PINCER_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_TOKEN \
		-u PINCER_GATEWAY_PORT -u OPENCLAW_GATEWAY_PORT -u PINCER_CONFIG_PATH \
		HOME="$home" PINCER_STATE_DIR="$home/state" NO_COLOR=1 \
		"$BIN" gateway run --port 0 >/dev/null 2>&1) &
	GW_PID=$!
	for _ in $(seq 500); do
		[ -s "$home/state/gateway.json" ] && break
		kill -0 "$GW_PID" 2>/dev/null || { echo "ws.sh: the gateway did not start" >&2; exit 1; }
		sleep 0.01
	done
	GW_PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$home/state/gateway.json")
	[ -n "$GW_PORT" ] || { echo "ws.sh: no port in gateway.json" >&2; exit 1; }
}

gw_stop() {
	kill "$GW_PID"
	wait "$GW_PID" || true
	GW_PID=
}

# Print figures and keep them for the table.
out() {
	tee -a "$TMP/figures"
}

# "rss hwm pss private" of the gateway, in kB.
gw_mem() {
	local st
	st=$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' \
		"/proc/$GW_PID/status")
	awk -v st="$st" '/^Pss:/ { p = $2 } /^Private_(Clean|Dirty):/ { q += $2 }
		END { print st, p, q }' "/proc/$GW_PID/smaps_rollup"
}

# name_rss_kb/pss/private lines for the gateway's memory now.
print_mem() {
	local rss hwm pss priv
	read -r rss hwm pss priv < <(gw_mem)
	echo "$1_rss_kb: $rss"
	echo "$1_hwm_kb: $hwm"
	echo "$1_pss_kb: $pss"
	echo "$1_private_kb: $priv"
}

# hold MODE N PREFIX: N clients of MODE on a new gateway; memory before, with, after.
hold() {
	local mode=$1 n=$2 pre=$3 out=$TMP/hold-$1.out _
	gw_start "hold-$mode"
	sleep 1
	print_mem "${pre}idle" | out
	mkfifo "$TMP/hold-$mode.in"
	"$LOAD" hold "$GW_PORT" "$TOKEN" "$n" "$mode" <"$TMP/hold-$mode.in" >"$out" &
	local load=$!
	exec 3>"$TMP/hold-$mode.in"
	for _ in $(seq 1200); do
		grep -q '^hold_ready:' "$out" && break
		kill -0 "$load" 2>/dev/null || { echo "ws.sh: wsload hold failed" >&2; exit 1; }
		sleep 0.05
	done
	grep -q '^hold_ready:' "$out" || { echo "ws.sh: clients not ready in 60 s" >&2; exit 1; }
	sleep 1
	sed "s/^hold_/${pre}clients_/" "$out" | out
	print_mem "${pre}clients" | out
	exec 3>&-
	wait "$load"
	sleep 1
	print_mem "${pre}after_close" | out
	gw_stop
}

echo "clients: $CLIENTS" | out
echo "ui_clients: $UI_CLIENTS" | out
"$LOAD" start "$BIN" "$START_RUNS" | out
hold cli "$CLIENTS" ""
hold ui "$UI_CLIENTS" ui_
gw_start run
"$LOAD" latency "$GW_PORT" "$TOKEN" "$CONNECTS" | out
"$LOAD" rps "$GW_PORT" "$TOKEN" 1 "$SECS" | sed 's/^rps_/rps1_/' | out
"$LOAD" rps "$GW_PORT" "$TOKEN" 100 "$SECS" | sed 's/^rps_/rps100_/' | out
gw_stop

# ---- the table ----

awk -F': ' '{ v[$1] = $2 }
function mb(kb) { return sprintf("%.1f MB", kb / 1024) }
function row(a, b, c, d) { printf "%-42s %-26s %-26s %s\n", a, b, c, d }
END {
	n = v["clients"]; u = v["ui_clients"]
	print ""
	row("figure", "pincer", "budget", "OpenClaw 2026.9.6")
	row("start to listening, median (p99)",
	    sprintf("%.2f ms (%.2f)", v["start_to_listening_median_ms"], v["start_to_listening_p99_ms"]),
	    "<= 10 ms", "7.7-10.7 s")
	row("WS connect to hello-ok, median (p99)",
	    sprintf("%.3f ms (%.3f)", v["connect_to_hello_ok_median_ms"], v["connect_to_hello_ok_p99_ms"]),
	    "<= 1 ms", "30-39 ms")
	row("  connect frame to hello-ok, median",
	    sprintf("%.3f ms", v["connect_to_hello_median_ms"]), "", "")
	row("  WS ping round trip (transport), median",
	    sprintf("%.3f ms", v["ws_ping_rtt_median_ms"]), "", "")
	row("idle RSS / PSS / private",
	    sprintf("%s / %s / %s", mb(v["idle_rss_kb"]), mb(v["idle_pss_kb"]), mb(v["idle_private_kb"])),
	    "<= 16 MB, private <= 4 MB", "830-930 MiB")
	row(sprintf("RSS / PSS, %d cli clients", n),
	    sprintf("%s / %s", mb(v["clients_rss_kb"]), mb(v["clients_pss_kb"])), "<= 64 MB", "-")
	row("  per client (RSS)",
	    sprintf("%.1f kB", (v["clients_rss_kb"] - v["idle_rss_kb"]) / n), "", "")
	row("  RSS after they all closed", mb(v["after_close_rss_kb"]), "", "")
	row("  peak RSS (VmHWM)", mb(v["clients_hwm_kb"]), "", "")
	row(sprintf("  all %d handshakes, 64 at a time", n),
	    sprintf("%.0f ms", v["clients_handshake_all_ms"]), "", "")
	row(sprintf("RSS / peak, %d ui clients (presence)", u),
	    sprintf("%s / %s", mb(v["ui_clients_rss_kb"]), mb(v["ui_clients_hwm_kb"])),
	    u >= 1000 ? "<= 64 MB" : "", "-")
	row(sprintf("  all %d handshakes, 64 at a time", u),
	    sprintf("%.0f ms", v["ui_clients_handshake_all_ms"]), "", "")
	row("health req/s, 1 connection",
	    sprintf("%d (%.3f ms)", v["rps1_per_s"], v["rps1_latency_median_ms"]), "", "not measured")
	row("health req/s, 100 connections",
	    sprintf("%d (%.3f ms)", v["rps100_per_s"], v["rps100_latency_median_ms"]), "", "not measured")
}' "$TMP/figures"
