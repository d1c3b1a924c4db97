#!/usr/bin/python3
"""bench/memory.py - memory_search figures on ~10 MB of generated markdown notes.

    bench/memory.py [./pincer]          (`make bench` runs it; MEMORY_MB=10 by default)

Figures (one "name: value" line each), keyword-only and then hybrid (vectors
from tests/fakes/fake_llm.py's deterministic /v1/embeddings, 64 dims, so the
figures are pincer's own cost plus local HTTP, not a real provider's):
  corpus_mb / files / chunks       what was indexed
  fts_index_s                      `pincer memory index` from nothing, keyword-only
  fts_reindex_one_file_ms          after one note changed (incremental)
  fts_search_p50_ms / p99          one search on the warm index (sync check + SQL)
  hybrid_index_s                   index + embedding every chunk through the fake
  hybrid_search_p50_ms / p99       one search: sync check, query embedding, SQL, cosine scan
  cli_search_ms                    `pincer memory search` as a process, start to exit
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
from fake_llm import FakeLLM  # noqa: E402

PINCER = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "pincer"))
MB = float(os.environ.get("MEMORY_MB", "10"))
RUNS = int(os.environ.get("MEMORY_RUNS", "200"))

WORDS = ("project meeting decision deadline budget travel doctor family garden recipe "
         "python release server backup invoice friend birthday coffee tea train flight "
         "hotel museum concert book film running swimming lunch dinner idea plan note "
         "todo bug feature design review customer partner contract market weather").split()


def gen(ws, mb):
    rnd = random.Random(42)
    mem = ws / "memory"
    mem.mkdir(parents=True)
    total, i = 0, 0
    (ws / "MEMORY.md").write_text("# Memory\n\n- The user prefers green tea.\n")
    while total < mb * 1e6:
        day = "2024-%02d-%02d" % (1 + i // 28 % 12, 1 + i % 28)
        sub = mem / ("%d" % (2024 + i // 336))
        sub.mkdir(exist_ok=True)
        lines = ["# %s" % day, ""]
        for _ in range(rnd.randint(60, 160)):
            lines.append("- " + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 16))))
            if rnd.random() < 0.1:
                lines.append("")
        text = "\n".join(lines) + "\n"
        (sub / ("%s-%d.md" % (day, i))).write_text(text)
        total += len(text)
        i += 1
    return total, i


def run(env, *args, timeout=1800):
    t0 = time.monotonic()
    r = subprocess.run([PINCER, *args], env=env, capture_output=True, text=True,
                       timeout=timeout)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("bench/memory.py: pincer %s failed: %s" % (" ".join(args), r.stderr))
    return r, dt


def search_figures(env, prefix):
    r, _ = run(env, "memory", "search", "coffee budget decision", "--json",
               "--repeat", str(RUNS))
    figs = dict(re.findall(r"^(\w+): ([\d.]+)$", r.stderr, re.M))
    print("%s_search_p50_ms: %s" % (prefix, figs["search_p50_ms"]))
    print("%s_search_p99_ms: %s" % (prefix, figs["search_p99_ms"]))
    assert json.loads(r.stdout)["results"], r.stdout


def main():
    with tempfile.TemporaryDirectory(prefix="pincer-bench-memory-") as tmp, \
            FakeLLM(port=0) as fake:
        tmp = Path(tmp)
        ws = tmp / "ws"
        total, files = gen(ws, MB)
        print("corpus_mb: %.1f" % (total / 1e6))
        print("files: %d" % files)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PINCER_", "OPENCLAW_"))}

        def cfg(state, memory):
            state.mkdir()
            (state / "pincer.json").write_text(
                '{ agents: { defaults: { workspace: "%s" } }, memory: { search: %s } }'
                % (ws, memory))
            return dict(env, HOME=str(tmp), PINCER_STATE_DIR=str(state))

        fts = cfg(tmp / "fts", '{ provider: "none" }')
        _, dt = run(fts, "memory", "index")
        print("fts_index_s: %.2f" % dt)
        st = json.loads(run(fts, "memory", "status", "--json")[0].stdout)
        print("chunks: %d" % st["chunks"])
        print("db_mb: %.1f" % (st["dbBytes"] / 1e6))
        one = sorted((ws / "memory").rglob("*.md"))[files // 2]
        with open(one, "a") as f:
            f.write("- an appended line about quinces\n")
        r, dt = run(fts, "memory", "index", "--json")
        assert json.loads(r.stdout)["changed"] == 1
        print("fts_reindex_one_file_ms: %.1f" % (dt * 1000))
        search_figures(fts, "fts")
        t = []
        for _ in range(20):
            t.append(run(fts, "memory", "search", "coffee budget")[1] * 1000)
        t.sort()
        print("cli_search_ms: %.1f" % t[len(t) // 2])

        hyb = cfg(tmp / "hybrid", '{ provider: "openai", remote: { baseUrl: "%s/v1", '
                                   'apiKey: "bench" } }' % fake.url)
        _, dt = run(hyb, "memory", "index")
        print("hybrid_index_s: %.2f" % dt)
        print("embedding_requests: %d" % len(fake.embedding_requests))
        search_figures(hyb, "hybrid")


if __name__ == "__main__":
    main()
