#!/usr/bin/python3
"""bench/exec.py - exec round-trip overhead.

    bench/exec.py [./pincer]          (`make bench` runs it; TURNS=300 by default)

Each timed turn is two model calls with one tool call between them, against
tests/fakes/fake_llm.py answering at once. Figures (one "name: value" line each):
  noop_turn_median_ms / p99    the tool is session_status (answers at once, no child)
  exec_true_turn_median_ms     the tool is exec running `true`
  exec_overhead_median_ms      the difference: what spawning /bin/sh -c true, reaping it
                               and building the result adds to a turn
  exec_spawn_direct_ms         fork+exec+wait of `/bin/sh -c true` from Python, for scale
  exec_flood_turn_ms           exec of `head -c 20000000 /dev/zero` (20 MB through the
                               output cap), one turn
  rss_after_kb                 VmRSS of the gateway after all of it
"""
import faulthandler
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from fake_llm import FakeLLM  # noqa: E402
from wsclient import connected  # noqa: E402

PINCER = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "pincer"))
TURNS = int(os.environ.get("TURNS", "300"))
TOKEN = "bench-token"


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    sys.setswitchinterval(0.0001)
    faulthandler.dump_traceback_later(int(os.environ.get("BENCH_TIMEOUT", "900")), exit=True)
    fake = FakeLLM(port=0)
    fake.start()
    tmp = Path(tempfile.mkdtemp(prefix="pincer-bench-exec-"))
    state = tmp / ".pincer"
    state.mkdir(mode=0o700)
    (tmp / "ws").mkdir()
    (state / "pincer.json").write_text(
        '{gateway: {auth: {token: "%s"}}, logging: {level: "warn"}, models: {providers: {fake: '
        '{baseUrl: "http://127.0.0.1:%d/v1", apiKey: "x", api: "openai-completions", models: '
        '[{id: "fake-model", contextWindow: 100000000, maxTokens: 4096}]}}}, agents: {defaults: '
        '{model: {primary: "fake/fake-model"}, workspace: "%s", heartbeat: {every: "0m"}}}}'
        % (TOKEN, fake.port, tmp / "ws"))
    env = dict(os.environ, HOME=str(tmp), PINCER_STATE_DIR=str(state))
    gw = subprocess.Popen([PINCER, "gateway", "run", "--port", "0"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                port = json.loads((state / "gateway.json").read_text())["port"]
                break
            except (FileNotFoundError, ValueError, KeyError):
                time.sleep(0.01)
        c = connected(port, token=TOKEN)
        n = [0]

        def turn(tool, args):
            n[0] += 1
            rid = "b%d" % n[0]
            fake.script([{"tool_calls": [{"name": tool, "arguments": args}]}, {"text": "ok"}])
            t = time.perf_counter()
            c.send({"type": "req", "id": rid, "method": "agent",
                    "params": {"message": "go", "sessionKey": "agent:main:b%d" % (n[0] % 20),
                               "idempotencyKey": rid}})
            c.res(rid)
            f = c.res(rid, timeout=120)
            ms = (time.perf_counter() - t) * 1000
            c.events.clear()
            assert f["ok"], f
            fake.reset()
            return ms

        for _ in range(20):
            turn("session_status", {})
            turn("exec", {"command": "true"})
        noop, ex = [], []
        for _ in range(TURNS):  # interleaved, so drift hits both alike
            noop.append(turn("session_status", {}))
            ex.append(turn("exec", {"command": "true"}))
        direct = []
        for _ in range(100):
            t = time.perf_counter()
            subprocess.run(["/bin/sh", "-c", "true"], check=True)
            direct.append((time.perf_counter() - t) * 1000)
        flood = turn("exec", {"command": "head -c 20000000 /dev/zero"})
        print("noop_turn_median_ms: %.2f" % statistics.median(noop))
        print("noop_turn_p99_ms: %.2f" % pct(noop, 0.99))
        print("exec_true_turn_median_ms: %.2f" % statistics.median(ex))
        print("exec_true_turn_p99_ms: %.2f" % pct(ex, 0.99))
        print("exec_overhead_median_ms: %.2f" % (statistics.median(ex) - statistics.median(noop)))
        print("exec_spawn_direct_ms: %.2f   (python subprocess, for scale)"
              % statistics.median(direct))
        print("exec_flood_turn_ms: %.1f   (20 MB of output through the cap)" % flood)
        print("rss_after_kb: %d" % rss_kb(gw.pid))
        c.close()
    finally:
        gw.terminate()
        gw.wait()
        fake.stop()


if __name__ == "__main__":
    main()
