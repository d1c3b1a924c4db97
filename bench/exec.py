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
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import BenchGateway, FakeLLM, pct, pincer_path, rss_kb  # noqa: E402

PINCER = pincer_path()
TURNS = int(os.environ.get("TURNS", "300"))


def main():
    sys.setswitchinterval(0.0001)
    faulthandler.dump_traceback_later(int(os.environ.get("BENCH_TIMEOUT", "900")), exit=True)
    fake = FakeLLM(port=0)
    fake.start()
    bg = BenchGateway(PINCER, fake)
    gw = bg.proc
    try:
        c = bg.client()
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
        bg.stop()
        fake.stop()


if __name__ == "__main__":
    main()
