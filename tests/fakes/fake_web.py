"""A fake of the web for web_fetch and web_search tests: the search APIs
pincer's web_search speaks (their documented wire formats) and a tiny web
server for web_fetch (pages, redirects, slow and oversized answers).

Search endpoints (one port; point each provider's baseUrl at fake.url):

| provider   | request                                   | answer |
| ---------- | ----------------------------------------- | ------ |
| Brave      | GET /res/v1/web/search?q=&count=&country=&search_lang=&freshness= with X-Subscription-Token | {"type":"search","web":{"results":[{title,url,description,age}]}} |
| Tavily     | POST /search {query, max_results, topic, time_range, ...} with Authorization: Bearer | {"query","results":[{title,url,content,score}],"response_time"} |
| SearXNG    | GET /search?q=&format=json&language=&time_range= | {"query","number_of_results","results":[{title,url,content,engine}]} |
| Perplexity | POST /chat/completions {model:"sonar", messages, search_recency_filter} with Authorization: Bearer | chat.completion with "citations" and "search_results" |

Every request is recorded in `fake.requests` ({method, path, query, headers
(lowercased), body}). `fake.fail(path, status, body)` makes a path answer
an error once (or always with times=None).

Web pages: `fake.page(path, body, ctype)`, `fake.redirect(path, location,
code)`, `fake.slow(path, seconds)` (headers at once, then a trickle),
`fake.big(path, nbytes)` (an endless-looking HTML body of that size).
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KEYS = {"brave": "brave-key", "tavily": "tvly-key", "perplexity": "pplx-key"}

RESULTS = [
    {"title": "Pincer: a C gateway", "url": "https://example.com/pincer",
     "snippet": "Pincer is a small self-hosted assistant gateway.", "date": "2026-01-02"},
    {"title": "OpenClaw docs", "url": "https://docs.openclaw.ai/",
     "snippet": "OpenClaw is a personal AI assistant.", "date": "2025-12-01"},
    {"title": "Third result", "url": "https://example.org/3",
     "snippet": "Third snippet.", "date": "2025-11-11"},
]


class FakeWeb:
    def __init__(self, host="127.0.0.1", port=0):
        self.requests = []
        self.pages = {}
        self.failures = {}
        self.results = list(RESULTS)
        self.lock = threading.Lock()
        fake = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _record(self):
                u = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                rec = {"method": self.command, "path": u.path,
                       "query": {k: v[0] for k, v in parse_qs(u.query).items()},
                       "headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": body}
                with fake.lock:
                    fake.requests.append(rec)
                return rec

            def _send(self, status, body, ctype="application/json", headers=()):
                if isinstance(body, (dict, list)):
                    body = json.dumps(body)
                if isinstance(body, str):
                    body = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._handle()

            def do_POST(self):
                self._handle()

            def _handle(self):
                rec = self._record()
                path = rec["path"]
                f = fake._take_failure(path)
                if f:
                    return self._send(f[0], f[1])
                if path in fake.pages:
                    return fake._serve_page(self, fake.pages[path])
                if path == "/res/v1/web/search" and self.command == "GET":
                    return fake._brave(self, rec)
                if path == "/search" and self.command == "POST":
                    return fake._tavily(self, rec)
                if path == "/search" and self.command == "GET":
                    return fake._searxng(self, rec)
                if path == "/chat/completions" and self.command == "POST":
                    return fake._perplexity(self, rec)
                self._send(404, "<html><head><title>Not Found</title></head>"
                           "<body><h1>404</h1><p>No such page.</p></body></html>", "text/html")

        self.server = ThreadingHTTPServer((host, port), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)

    # --- control ---------------------------------------------------------
    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, path, status, body=None, times=1):
        self.failures[path] = [status, body if body is not None else
                               {"error": {"message": "fake error %d" % status}}, times]

    def page(self, path, body, ctype="text/html; charset=utf-8"):
        self.pages[path] = {"kind": "page", "body": body, "ctype": ctype}

    def redirect(self, path, location, code=302):
        self.pages[path] = {"kind": "redirect", "location": location, "code": code}

    def slow(self, path, seconds):
        self.pages[path] = {"kind": "slow", "seconds": seconds}

    def big(self, path, nbytes):
        self.pages[path] = {"kind": "big", "n": nbytes}

    def hits(self, path):
        return [r for r in self.requests if r["path"] == path]

    def _take_failure(self, path):
        with self.lock:
            f = self.failures.get(path)
            if not f:
                return None
            if f[2] is not None:
                f[2] -= 1
                if f[2] <= 0:
                    del self.failures[path]
            return f[0], f[1]

    # --- web pages -------------------------------------------------------
    def _serve_page(self, h, p):
        if p["kind"] == "page":
            return h._send(200, p["body"], p["ctype"])
        if p["kind"] == "redirect":
            return h._send(p["code"], "", "text/plain", [("Location", p["location"])])
        if p["kind"] == "big":
            chunk = b"<p>" + b"x" * 1020 + b"</p>"
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(p["n"]))
            h.end_headers()
            sent = 0
            try:
                while sent < p["n"]:
                    part = chunk[:p["n"] - sent]
                    h.wfile.write(part)
                    sent += len(part)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if p["kind"] == "slow":
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            end = time.monotonic() + p["seconds"]
            try:
                h.wfile.write(b"<html><body><p>slow start</p>")
                h.wfile.flush()
                while time.monotonic() < end:
                    time.sleep(0.2)
                    h.wfile.write(b" ")
                    h.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            h.close_connection = True
            return

    # --- search providers ------------------------------------------------
    def _rows(self, n):
        return self.results[:max(0, min(n, len(self.results)))]

    def _brave(self, h, rec):
        if rec["headers"].get("x-subscription-token") != KEYS["brave"]:
            return h._send(401, {"type": "ErrorResponse", "error": {
                "code": "SUBSCRIPTION_TOKEN_INVALID", "status": 401,
                "detail": "The provided subscription token is invalid."}})
        n = int(rec["query"].get("count", 20))
        h._send(200, {"type": "search", "query": {"original": rec["query"].get("q")},
                      "web": {"type": "search", "results": [
                          {"title": r["title"], "url": r["url"], "description": r["snippet"],
                           "age": r["date"], "page_age": r["date"] + "T00:00:00",
                           "meta_url": {"hostname": urlsplit(r["url"]).hostname}}
                          for r in self._rows(n)]}})

    def _tavily(self, h, rec):
        body = rec["body"] or {}
        auth = rec["headers"].get("authorization", "")
        if auth != "Bearer " + KEYS["tavily"] and body.get("api_key") != KEYS["tavily"]:
            return h._send(401, {"detail": {"error": "Unauthorized: missing or invalid API key."}})
        n = int(body.get("max_results", 5))
        h._send(200, {"query": body.get("query"), "follow_up_questions": None, "answer": None,
                      "images": [], "response_time": 0.42, "results": [
                          {"title": r["title"], "url": r["url"], "content": r["snippet"],
                           "score": 0.9, "raw_content": None, "published_date": r["date"]}
                          for r in self._rows(n)]})

    def _searxng(self, h, rec):
        if rec["query"].get("format") != "json":
            return h._send(403, "Forbidden", "text/html")
        rows = self.results
        h._send(200, {"query": rec["query"].get("q"), "number_of_results": len(rows),
                      "results": [{"title": r["title"], "url": r["url"], "content": r["snippet"],
                                   "engine": "duckduckgo", "publishedDate": r["date"],
                                   "score": 1.0} for r in rows],
                      "answers": [], "corrections": [], "infoboxes": [], "suggestions": [],
                      "unresponsive_engines": []})

    def _perplexity(self, h, rec):
        if rec["headers"].get("authorization") != "Bearer " + KEYS["perplexity"]:
            return h._send(401, {"error": {"message": "Invalid API key", "type": "invalid_api_key",
                                           "code": 401}})
        body = rec["body"] or {}
        h._send(200, {"id": "pplx-1", "model": body.get("model", "sonar"),
                      "object": "chat.completion", "created": int(time.time()),
                      "citations": [r["url"] for r in self.results],
                      "search_results": [{"title": r["title"], "url": r["url"], "date": r["date"],
                                          "snippet": r["snippet"]} for r in self.results],
                      "choices": [{"index": 0, "finish_reason": "stop", "message": {
                          "role": "assistant",
                          "content": "Pincer is a C gateway [1]. OpenClaw is its model [2]."}}],
                      "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22}})


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    f = FakeWeb(port=a.port).start()
    print(f.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        f.stop()
