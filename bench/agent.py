#!/usr/bin/python3
"""bench/agent.py - agent turn figures, beside the budgets in shared DESIGN.md.

    bench/agent.py [./pincer]          (`make bench` runs it; TURNS=10000 by default)

Figures (one "name: value" line each):
  turn_e2e_median_ms / p99     an `agent` request over one WebSocket to its final answer,
                               against tests/fakes/fake_llm.py answering at once
  fake_direct_median_ms        the same request body sent straight to the fake (its own cost
                               plus one HTTP round trip: what the gateway adds nothing to)
  turn_c_median_ms / p99       the same turns driven by bench/wsload.c (a C client that drops
                               the run's events unparsed), 300 turns over 20 sessions
  turn_c_cache_miss_median_ms  1000 turns over 20 sessions whose transcripts outgrow the 256 kB
                               cache of idle transcripts, so each turn re-reads its session
  gateway_own_median_ms        turn_c minus fake_direct: the gateway's own time per turn
  gateway_own_py_median_ms     the same from the Python client's figure (its own parsing of
                               every event counted in)
  cli_turn_median_ms           `pincer agent -m hi` one-shot through the gateway, process start
                               to exit, minus fake_direct (the model's share)
  rss_idle_kb / rss_after_kb   VmRSS of the gateway before the first turn, after 1000 soak turns
                               (the transcript cache and finished-run list are full by then) and
                               after TURNS turns, round-robin over 100 sessions (compaction off
                               by window size)
OpenClaw 2026.9.6 on this machine: ~270 ms per agent turn over WS, ~2 s per CLI turn,
1.26-1.4 GiB after 20 turns (shared openclaw/README.md).
"""
import faulthandler
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import TOKEN, BenchGateway, FakeLLM, pct, pincer_path, rss_kb  # noqa: E402

PINCER = pincer_path()
TURNS = int(os.environ.get("TURNS", "10000"))


def main():
    # the fake and this client share one interpreter: let the GIL change hands at once,
    # or each hand-off costs the default 5 ms switch interval
    sys.setswitchinterval(0.0001)
    faulthandler.dump_traceback_later(int(os.environ.get("BENCH_TIMEOUT", "1800")), exit=True)
    fake = FakeLLM(port=0)
    fake.start()
    bg = BenchGateway(PINCER, fake)
    gw, port, env = bg.proc, bg.port, bg.env
    try:
        c = bg.client()
        idle = rss_kb(gw.pid)

        def turn(i, key):
            rid = "b%d" % i
            c.send({"type": "req", "id": rid, "method": "agent",
                    "params": {"message": "hi %d" % i, "sessionKey": key, "idempotencyKey": rid}})
            c.res(rid)
            f = c.res(rid, timeout=60)
            c.events.clear()
            assert f["ok"], f
            fake.reset()  # the fake keeps every request: start each turn empty

        # warm up, then time fresh sessions (a short history, as a typical turn)
        for i in range(20):
            turn(i, "agent:main:warm")
        e2e = []
        for i in range(200):
            t = time.perf_counter()
            turn(1000 + i, "agent:main:bench%d" % (i % 20))
            e2e.append((time.perf_counter() - t) * 1000)
        body = json.dumps({"model": "fake-model", "stream": True,
                           "stream_options": {"include_usage": True},
                           "messages": [{"role": "user", "content": "hi"}]}).encode()
        direct = []
        for i in range(200):
            rq = urllib.request.Request("http://127.0.0.1:%d/v1/chat/completions" % fake.port,
                                        data=body, headers={"Content-Type": "application/json",
                                                            "Authorization": "Bearer x"})
            t = time.perf_counter()
            urllib.request.urlopen(rq).read()
            direct.append((time.perf_counter() - t) * 1000)
        # the same turns from a C client (bench/wsload.c): the Python client's own
        # parsing of every event is then no longer counted as the gateway's time
        wsload = Path(PINCER).resolve().parent / "build" / "bench" / "wsload"
        ctimes = {}
        ctimes_many = {}
        if wsload.exists():
            def wsturns(n, sessions):
                out = subprocess.run([str(wsload), "turns", str(port), TOKEN, str(n),
                                      str(sessions)], env=env, check=True, capture_output=True,
                                     text=True).stdout
                fake.reset()
                return dict(line.split(": ") for line in out.splitlines())
            # as the Python figure: 20 sessions of a few turns, all in the transcript cache
            ctimes = wsturns(300, 20)
            # 20 sessions taking turns until their transcripts outgrow the cache: from
            # there on every turn re-reads its session (the LRU's worst case)
            ctimes_many = wsturns(1000, 20)
        cli = []
        for i in range(int(os.environ.get("CLI_TURNS", "50"))):
            t = time.perf_counter()
            subprocess.run([PINCER, "agent", "-m", "hi", "--token", TOKEN, "--port", str(port),
                            "--session-key", "agent:main:cli%d" % i], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            cli.append((time.perf_counter() - t) * 1000)
        warm = None
        for i in range(TURNS):
            turn(100000 + i, "agent:main:soak%d" % (i % 100))
            if i + 1 == min(1000, TURNS):
                warm = rss_kb(gw.pid)
        after = rss_kb(gw.pid)
        d = statistics.median(direct)
        print("turn_e2e_median_ms: %.2f" % statistics.median(e2e))
        print("turn_e2e_p99_ms: %.2f" % pct(e2e, 0.99))
        print("fake_direct_median_ms: %.2f" % d)
        print("gateway_own_py_median_ms: %.2f   (Python client: includes its own event parsing)"
              % (statistics.median(e2e) - d))
        if ctimes:
            print("turn_c_median_ms: %.2f" % float(ctimes["turn_median_ms"]))
            print("turn_c_p99_ms: %.2f" % float(ctimes["turn_p99_ms"]))
            print("gateway_own_median_ms: %.2f   (C client; budget <= 2; OpenClaw ~270)"
                  % (float(ctimes["turn_median_ms"]) - d))
            print("turn_c_cache_miss_median_ms: %.2f   (20 sessions round-robin, each re-read "
                  "every turn)" % float(ctimes_many["turn_median_ms"]))
        print("cli_turn_median_ms: %.1f   (minus model %.1f: %.1f; budget <= 20; OpenClaw ~2000)"
              % (statistics.median(cli), d, statistics.median(cli) - d))
        print("rss_idle_kb: %d" % idle)
        print("rss_after_1000_turns_kb: %d   (the bounded caches filled: %d kB over idle)"
              % (warm, warm - idle))
        print("rss_after_%d_turns_kb: %d   (growth %d kB over idle, budget <= 8192; "
              "%d kB since turn 1000)" % (TURNS, after, after - idle, after - warm))
        c.close()
    finally:
        bg.stop()
        fake.stop()


if __name__ == "__main__":
    main()
