#!/bin/sh
# bench/startup.sh - start-up and idle-memory figures for a built pincer.
#
#   bench/startup.sh [./pincer] [runs]
#
# Builds nothing. Prints one "name: value" line per figure:
#
#  version_*          `pincer --version`: wall time per run (hyperfine when
#                     installed, else a shell loop timed with date +%s%N, which
#                     adds the shell's own fork/exec) and peak RSS from GNU
#                     time -f %M.
#  cmd_<name>_*       per command, offline in a fresh state dir without a
#                     config file: version, help, config get, skills list,
#                     models list. wall_ms: median over RUNS spawns from
#                     python3 (spawn cost included, as in gateway_listen);
#                     cpu_ms: the child's user + sys time from wait4(), the
#                     steadier figure when other work shares the machine;
#                     rss_kb: peak RSS from GNU time -f %M (python's own
#                     peak would leak into wait4's: Linux keeps it across
#                     exec).
#  ldso_*             LD_DEBUG=statistics of `pincer version`: the dynamic
#                     loader's relocations (symbol and relative) and its
#                     start-up cycles (median of RUNS), and the shared
#                     objects ldd lists. Only what every process needs
#                     belongs here: libxml2 (with ICU and libstdc++) is
#                     dlopen()ed by the first HTML fetch.
#  gateway_listen_*   `pincer gateway run --port 0` start to listening. Method:
#                     Debian's python3 reads CLOCK_MONOTONIC, spawns the
#                     gateway with stdout on a pipe and blocks on that pipe;
#                     the clock is read again when the line "pincer gateway
#                     listening on ..." arrives. The gateway prints that line
#                     after listen() returned and lws is serving, so the figure
#                     is exec + dynamic linking + config + logging + lws set-up,
#                     plus the spawn cost (compare version_wall_ms, which has
#                     the same spawn cost and almost nothing else). Each run
#                     uses a fresh state dir without a config file, and runs
#                     are 100 ms apart so one gateway's shutdown (fsync of its
#                     runtime file removal) does not overlap the next start.
#  gateway_idle_*     the same gateway 1 s after it started listening, with no
#                     client: VmRSS and VmHWM from /proc/PID/status, Pss and
#                     Private (clean + dirty) from /proc/PID/smaps_rollup.
#                     The gateway has no children yet. gateway_idle_libs: the
#                     shared objects it has mapped then (libxml2 must not
#                     be one of them).
set -eu

BIN=${1:-./pincer}
RUNS=${2:-30}
case $BIN in
/*) ;;
*) BIN=$(pwd)/$BIN ;;
esac
[ -x "$BIN" ] || { echo "startup.sh: no executable at $BIN" >&2; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---- pincer --version ----

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$TMP/hf.json" \
		"$BIN --version" >/dev/null 2>&1
	"$PY" - "$TMP/hf.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("version_wall_ms: %.2f (median of %d, hyperfine)" % (r["median"] * 1e3, len(r["times"])))
print("version_wall_min_ms: %.2f" % (r["min"] * 1e3))
PY
else
	t0=$(date +%s%N)
	i=0
	while [ $i -lt "$RUNS" ]; do
		"$BIN" --version >/dev/null
		i=$((i + 1))
	done
	t1=$(date +%s%N)
	us=$(((t1 - t0) / RUNS / 1000))
	awk -v us="$us" -v n="$RUNS" \
		'BEGIN { printf "version_wall_ms: %.2f (mean of %d, shell loop)\n", us / 1000, n }'
fi

if [ -x /usr/bin/time ]; then
	rss=$(/usr/bin/time -f %M "$BIN" --version 2>&1 >/dev/null | tail -n 1)
	echo "version_peak_rss_kb: $rss"
else
	echo "version_peak_rss_kb: n/a (install the 'time' package for GNU time)"
fi

# ---- each CLI command: start-up time, CPU time and peak RSS ----

"$PY" - "$BIN" "$RUNS" "$TMP" <<'PY'
import os, statistics, subprocess, sys, time

binp, runs, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
home = os.path.join(tmp, "cmd")
os.makedirs(home)
env = {k: v for k, v in os.environ.items() if not k.startswith(("PINCER_", "OPENCLAW_"))}
env.update(HOME=home, PINCER_STATE_DIR=os.path.join(home, "state"), NO_COLOR="1")
commands = [("version", ["version"]), ("help", ["help"]),
            ("config_get", ["config", "get", "gateway.port"]),
            ("skills_list", ["skills", "list"]), ("models_list", ["models", "list"])]
quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=home)


def once(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, **quiet)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit("startup.sh: %s exited %d" % (" ".join(argv), p.returncode))
    return (time.perf_counter() - t0) * 1e3, (ru.ru_utime + ru.ru_stime) * 1e3


for name, args in commands:
    argv = [binp] + args
    for _ in range(3):  # warm-up: page cache, dentries
        once(argv)
    wall, cpu = zip(*(once(argv) for _ in range(runs)))
    print("cmd_%s_wall_ms: %.2f (median of %d)" % (name, statistics.median(wall), runs))
    print("cmd_%s_cpu_ms: %.2f" % (name, statistics.median(cpu)))
    if os.access("/usr/bin/time", os.X_OK):
        rss = sorted(int(subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, env=env, cwd=home,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True).stderr.split()[-1]) for _ in range(5))
        print("cmd_%s_rss_kb: %d (median of 5)" % (name, rss[2]))

stats = {"cycles": [], "relocs": 0, "relative": 0}
for _ in range(runs):
    err = subprocess.run([binp, "version"], env=dict(env, LD_DEBUG="statistics"), cwd=home,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    for line in err.splitlines():
        k, _, v = line.partition(":\t")[2].partition(":")
        k, v = k.strip(), v.split()
        if k == "total startup time in dynamic loader":
            stats["cycles"].append(int(v[0]))
        elif k == "number of relocations":
            stats["relocs"] = int(v[0])
        elif k == "number of relative relocations":
            stats["relative"] = int(v[0])
if stats["cycles"]:
    print("ldso_startup_cycles: %d (median of %d)" % (statistics.median(stats["cycles"]), runs))
    print("ldso_relocations: %d" % stats["relocs"])
    print("ldso_relative_relocations: %d" % stats["relative"])
try:
    libs = subprocess.run(["ldd", binp], capture_output=True, text=True).stdout
    print("ldso_shared_objects: %d" % sum("=>" in l for l in libs.splitlines()))
except OSError:
    print("ldso_shared_objects: n/a (no ldd)")
PY

# ---- gateway: start to listening, then idle memory ----

"$PY" - "$BIN" "$RUNS" "$TMP" <<'PY'
import os, signal, statistics, subprocess, sys, time

binp, runs, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def start(i):
    home = os.path.join(tmp, "run%d" % i)
    os.makedirs(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINCER_", "OPENCLAW_"))}
    env.update(HOME=home, PINCER_STATE_DIR=os.path.join(home, "state"), NO_COLOR="1")
    t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    p = subprocess.Popen([binp, "gateway", "run", "--port", "0"], env=env, cwd=home,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    if b"listening" not in line:
        p.kill()
        p.wait()
        sys.exit("startup.sh: gateway did not start (exit %s)" % p.poll())
    return p, (t1 - t0) / 1e6


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


times = []
for i in range(runs + 3):
    p, ms = start(i)
    stop(p)
    if i >= 3:  # warm-up: page cache, dentries
        times.append(ms)
    time.sleep(0.1)
times.sort()
print("gateway_listen_ms: %.2f (median of %d)" % (statistics.median(times), len(times)))
print("gateway_listen_min_ms: %.2f" % times[0])
print("gateway_listen_p90_ms: %.2f" % times[int(len(times) * 0.9) - 1])

p, _ = start(runs + 3)
time.sleep(1.0)
status = {}
with open("/proc/%d/status" % p.pid) as f:
    for l in f:
        k, _, v = l.partition(":")
        status[k] = v.split()
libs = set()
with open("/proc/%d/maps" % p.pid) as f:
    for l in f:
        path = l.split()[-1] if len(l.split()) >= 6 else ""
        if ".so" in os.path.basename(path):
            libs.add(os.path.basename(path))
rollup = {}
try:
    with open("/proc/%d/smaps_rollup" % p.pid) as f:
        for l in f:
            k, _, v = l.partition(":")
            if v.strip().endswith("kB"):
                rollup[k] = int(v.split()[0])
except OSError:
    pass
stop(p)
print("gateway_idle_rss_kb: %s" % status["VmRSS"][0])
print("gateway_idle_hwm_kb: %s" % status["VmHWM"][0])
print("gateway_idle_libs: %d%s" % (len(libs), ", libxml2 mapped" if any(
    l.startswith("libxml2") for l in libs) else ""))
if rollup:
    print("gateway_idle_pss_kb: %d" % rollup["Pss"])
    print("gateway_idle_private_kb: %d" % (rollup["Private_Clean"] + rollup["Private_Dirty"]))
else:
    print("gateway_idle_pss_kb: n/a (no /proc/PID/smaps_rollup)")
PY
