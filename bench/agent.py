#!/usr/bin/python3
"""bench/agent.py - agent turn figures, beside the budgets in shared DESIGN.md.

    bench/agent.py [./pincer]          (`make bench` runs it; TURNS=10000 by default)

Figures (one "name: value" line each):
  turn_e2e_median_ms / p99     an `agent` request over one WebSocket to its final answer,
                               against tests/fakes/fake_llm.py answering at once
  fake_direct_median_ms        the same request body sent straight to the fake (its own cost
                               plus one HTTP round trip: what the gateway adds nothing to)
  gateway_own_median_ms        the difference: the gateway's own time per turn
  cli_turn_median_ms           `pincer agent -m hi` one-shot through the gateway, process start
                               to exit, minus fake_direct (the model's share)
  rss_idle_kb / rss_after_kb   VmRSS of the gateway before the first turn and after TURNS turns
                               (all in one session's lane, compaction off by window size)
OpenClaw 2026.9.6 on this machine: ~270 ms per agent turn over WS, ~2 s per CLI turn,
1.26-1.4 GiB after 20 turns (shared openclaw/README.md).
"""
import faulthandler
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from fake_llm import FakeLLM  # noqa: E402
from wsclient import connected  # noqa: E402

PINCER = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "pincer"))
TURNS = int(os.environ.get("TURNS", "10000"))
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
    # the fake and this client share one interpreter: let the GIL change hands at once,
    # or each hand-off costs the default 5 ms switch interval
    sys.setswitchinterval(0.0001)
    faulthandler.dump_traceback_later(int(os.environ.get("BENCH_TIMEOUT", "1800")), exit=True)
    fake = FakeLLM(port=0)
    fake.start()
    tmp = Path(tempfile.mkdtemp(prefix="pincer-bench-"))
    state = tmp / ".pincer"
    state.mkdir(mode=0o700)
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
        cli = []
        for i in range(10):
            t = time.perf_counter()
            subprocess.run([PINCER, "agent", "-m", "hi", "--token", TOKEN, "--port", str(port),
                            "--session-key", "agent:main:cli%d" % i], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            cli.append((time.perf_counter() - t) * 1000)
        for i in range(TURNS):
            turn(100000 + i, "agent:main:soak%d" % (i % 100))
        after = rss_kb(gw.pid)
        d = statistics.median(direct)
        print("turn_e2e_median_ms: %.2f" % statistics.median(e2e))
        print("turn_e2e_p99_ms: %.2f" % pct(e2e, 0.99))
        print("fake_direct_median_ms: %.2f" % d)
        print("gateway_own_median_ms: %.2f   (budget <= 2; OpenClaw ~270)"
              % (statistics.median(e2e) - d))
        print("cli_turn_median_ms: %.1f   (minus model %.1f: %.1f; budget <= 20; OpenClaw ~2000)"
              % (statistics.median(cli), d, statistics.median(cli) - d))
        print("rss_idle_kb: %d" % idle)
        print("rss_after_%d_turns_kb: %d   (growth %d kB; budget <= 8192)"
              % (TURNS, after, after - idle))
        c.close()
    finally:
        gw.terminate()
        gw.wait()
        fake.stop()


if __name__ == "__main__":
    main()
