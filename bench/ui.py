#!/usr/bin/python3
"""bench/ui.py - Control UI serving figures: the embedded UI and a
gateway.controlUi.root directory.

    bench/ui.py [./pincer]            (REQS=300 requests per figure by default)

Figures (one "name: value" line each; times are one request over a
keep-alive connection, from request sent to the last body byte read):
  embedded_index_median_ms / p99       GET / (index.html, rewritten per request)
  embedded_asset_median_ms             the largest embedded asset, gzip'd
  embedded_304_median_ms               that asset revalidated (If-None-Match)
  root_index_median_ms / p99           a root's index.html (rewrite + CSP hashes)
  root_asset_1m_median_ms              a 1 MiB root asset (plain)
  root_asset_16m_median_ms / mb_s      a 16 MiB root asset (plain), and its rate
  root_asset_gz_median_ms              the 1 MiB asset with its .gz copy
  root_304_median_ms                   the 16 MiB asset revalidated (not read)
  health_idle_median_ms                GET /health with nothing else going on
  health_under_load_median_ms / p99    GET /health while 4 clients fetch the 16 MiB
                                       asset in a loop: what serving files costs everyone
                                       else on the loop
"""
import gzip
import http.client
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import Gateway, pct, pincer_path  # noqa: E402

REQS = int(os.environ.get("REQS", "300"))
ROOT = Path(__file__).resolve().parents[1]


def timed(port, path, headers=None, n=REQS):
    """n GETs over one connection; per-request seconds, last status, headers and body."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Accept": "text/html", **(headers or {})}
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.request("GET", path, headers=h)
        r = c.getresponse()
        body = r.read()
        times.append(time.perf_counter() - t0)
    c.close()
    return times, r.status, {k.lower(): v for k, v in r.getheaders()}, body


def ms(v):
    return "%.3f" % (v * 1000)


def figure(name, times, status, want=200):
    if status != want:
        raise SystemExit(f"bench: {name}: status {status}, wanted {want}")
    print(f"{name}_median_ms: {ms(pct(times, 0.5))}")
    return times


def main():
    pincer = pincer_path()
    tmp = Path(tempfile.mkdtemp(prefix="pincer-bench-ui-"))
    try:
        # ==== embedded ====
        (tmp / "e").mkdir()
        g = Gateway(pincer, tmp / "e", '{logging: {level: "warn"}}')
        try:
            t, s, h, body = timed(g.port, "/")
            figure("embedded_index", t, s)
            print(f"embedded_index_p99_ms: {ms(pct(t, 0.99))}")
            prefix = body.split(b'/js/main.js"')[0].rsplit(b'"', 1)[1].decode()
            largest = max((p for p in (ROOT / "ui").rglob("*") if p.is_file()),
                          key=lambda p: p.stat().st_size)
            asset = prefix + "/" + largest.relative_to(ROOT / "ui").as_posix()
            t, s, h, _ = timed(g.port, asset, {"Accept-Encoding": "gzip"})
            figure("embedded_asset", t, s)
            print(f"embedded_asset_bytes: {largest.stat().st_size} "
                  f"(gzip {h.get('content-length')}, {largest.name})")
            t, s, _, _ = timed(g.port, asset, {"Accept-Encoding": "gzip",
                                               "If-None-Match": h["etag"]})
            figure("embedded_304", t, s, 304)
        finally:
            g.stop()

        # ==== a root directory ====
        root = tmp / "uiroot"
        (root / "assets").mkdir(parents=True)
        inline = "".join(f"<script>window.b{i} = {i};</script>" for i in range(8))
        (root / "index.html").write_text(
            '<!doctype html><html lang="en"><head>%s<script type="module" '
            'src="./assets/app.js"></script><link rel="stylesheet" href="./assets/app.css">'
            '</head><body>%s</body></html>' % (inline, "<p>x</p>" * 2000))
        js = b"".join(b"console.log(%d);\n" % i for i in range(70000))[:1 << 20]
        (root / "assets" / "app.js").write_bytes(js)
        (root / "assets" / "app.js.gz").write_bytes(gzip.compress(js))
        (root / "assets" / "big.wasm").write_bytes(os.urandom(16 << 20))
        (tmp / "r").mkdir()
        g = Gateway(pincer, tmp / "r",
                    '{logging: {level: "warn"}, gateway: {controlUi: {root: "%s"}}}' % root)
        try:
            t, s, _, _ = timed(g.port, "/")
            figure("root_index", t, s)
            print(f"root_index_p99_ms: {ms(pct(t, 0.99))}")
            t, s, _, _ = timed(g.port, "/assets/app.js")
            figure("root_asset_1m", t, s)
            t, s, h, _ = timed(g.port, "/assets/app.js", {"Accept-Encoding": "gzip"})
            figure("root_asset_gz", t, s)
            n16 = max(REQS // 10, 10)
            t, s, h, body = timed(g.port, "/assets/big.wasm", n=n16)
            figure("root_asset_16m", t, s)
            if len(body) != 16 << 20:
                raise SystemExit("bench: root_asset_16m: short body")
            print(f"root_asset_16m_mb_s: {16 / pct(t, 0.5):.0f}")
            t, s, _, _ = timed(g.port, "/assets/big.wasm", {"If-None-Match": h["etag"]})
            figure("root_304", t, s, 304)

            t, s, _, _ = timed(g.port, "/health")
            figure("health_idle", t, s)
            stop = threading.Event()

            def load():
                c = http.client.HTTPConnection("127.0.0.1", g.port, timeout=60)
                while not stop.is_set():
                    c.request("GET", "/assets/big.wasm")
                    c.getresponse().read()
                c.close()

            workers = [threading.Thread(target=load) for _ in range(4)]
            for w in workers:
                w.start()
            time.sleep(0.3)
            t, s, _, _ = timed(g.port, "/health")
            stop.set()
            for w in workers:
                w.join()
            figure("health_under_load", t, s)
            print(f"health_under_load_p99_ms: {ms(pct(t, 0.99))}")
        finally:
            g.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
