"""web_fetch and web_search through real agent turns: readable extraction,
OpenClaw's result object and untrusted-content wrapper, the cache, the
size/time/redirect caps, the SSRF guard (literal private hosts, numeric
spellings, names resolving to private addresses, redirects into private
space) and the four search providers against their fakes."""
import json
import sys
import time
from pathlib import Path

import pytest

from agentkit import config, connected_tools, fake, tool_turn  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))
from fake_web import FakeWeb  # noqa: E402

PAGE = """<!doctype html><html><head><title>Fake  Page</title>
<script>alert("no")</script><style>p{}</style></head><body>
<nav><a href="/">Home</a></nav>
<main><h1>Hello</h1><p>Some <b>bold</b> text and a <a href="/other">link</a>.</p>
<ul><li>one</li><li>two</li></ul><pre>code  block</pre></main>
<footer>Footer junk</footer></body></html>"""


@pytest.fixture
def web():
    w = FakeWeb().start()
    yield w
    w.stop()


def fetch_cfg(penv, fake, extra=""):
    return config(penv, fake, top="tools: { web: { fetch: { %s } } }," % extra)


def ok_payload(r):
    assert not r["isError"], r["text"]
    return json.loads(r["text"])


# --- extraction and the result object -------------------------------------

def test_fetch_html_markdown_and_text(penv, gateway, fake, web):
    fetch_cfg(penv, fake, "allowPrivate: true")
    web.page("/page", PAGE)
    g = gateway()
    with connected_tools(g.port) as c:
        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/page"}))
        assert p["url"] == web.url + "/page" and p["finalUrl"] == p["url"]
        assert p["status"] == 200 and p["contentType"] == "text/html"
        assert p["extractMode"] == "markdown"
        assert p["externalContent"] == {"untrusted": True, "source": "web_fetch",
                                        "wrapped": True}
        assert "Fake Page" in p["title"]
        t = p["text"]
        assert "SECURITY NOTICE" in t and "<<<EXTERNAL_UNTRUSTED_CONTENT id=" in t
        assert "Source: Web Fetch" in t and "<<<END_EXTERNAL_UNTRUSTED_CONTENT" in t
        assert "# Hello" in t and "**bold**" in t
        assert "[link](%s/other)" % web.url in t
        assert "- one\n- two" in t and "```\ncode  block\n```" in t
        for junk in ("alert", "Footer junk", "Home", "p{}"):
            assert junk not in t
        assert p["truncated"] is False and p["length"] == len(t)

        p = ok_payload(tool_turn(c, fake, "web_fetch",
                                 {"url": web.url + "/page", "extractMode": "text"}))
        assert p["extractMode"] == "text"
        assert "Hello" in p["text"] and "#" not in p["text"].split("---", 1)[1]
        assert "[link]" not in p["text"]


def test_fetch_types_cache_and_limits(penv, gateway, fake, web):
    fetch_cfg(penv, fake, "allowPrivate: true")
    web.page("/data.json", '{"a":[1,2],"b":"x"}', "application/json")
    web.page("/plain.txt", "just text\nline two", "text/plain")
    web.page("/img.png", b"\x89PNG\r\n\x1a\n\0\0\0", "image/png")
    web.page("/long", "<p>" + "word " * 5000 + "</p>")
    web.page("/cached", "<p>first version</p>")
    g = gateway()
    with connected_tools(g.port) as c:
        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/data.json"}))
        assert p["extractor"] == "json" and '"a": [\n    1,' in p["text"]

        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/plain.txt"}))
        assert "just text\nline two" in p["text"] and p["extractor"] == "raw"

        r = tool_turn(c, fake, "web_fetch", {"url": web.url + "/img.png"})
        assert r["isError"] and "binary" in r["text"]

        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/long",
                                                        "maxChars": 2000}))
        assert p["truncated"] is True and len(p["text"]) <= 2000
        assert p["rawLength"] > 20000

        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/cached"}))
        assert "first version" in p["text"] and "cached" not in p
        web.page("/cached", "<p>second version</p>")
        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/cached"}))
        assert p.get("cached") is True and "first version" in p["text"]
        assert len(web.hits("/cached")) == 1

        r = tool_turn(c, fake, "web_fetch", {"url": web.url + "/missing"})
        assert r["isError"] and "Web fetch failed (404)" in r["text"]
        assert "No such page" in r["text"]


def test_fetch_follows_redirects_within_the_cap(penv, gateway, fake, web):
    fetch_cfg(penv, fake, "allowPrivate: true, maxRedirects: 2")
    web.page("/final", "<title>Final</title><p>arrived</p>")
    web.redirect("/r1", "/r2")
    web.redirect("/r2", web.url + "/final", 301)
    web.redirect("/loop", "/loop")
    g = gateway()
    with connected_tools(g.port) as c:
        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/r1"}))
        assert p["finalUrl"] == web.url + "/final" and "arrived" in p["text"]
        r = tool_turn(c, fake, "web_fetch", {"url": web.url + "/loop"})
        assert r["isError"] and "too many redirects" in r["text"]
        assert len(web.hits("/loop")) == 3  # the first try and two redirects


def test_fetch_oversized_body_is_cut(penv, gateway, fake, web):
    fetch_cfg(penv, fake, "allowPrivate: true, maxResponseBytes: 32000")
    web.big("/big", 5_000_000)
    g = gateway()
    with connected_tools(g.port) as c:
        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/big"}))
        assert p["truncated"] is True
        assert "Response body incomplete after 32000 bytes" in p["warning"]


def test_fetch_slow_response_hits_the_time_cap(penv, gateway, fake, web):
    fetch_cfg(penv, fake, "allowPrivate: true, timeoutSeconds: 2")
    web.slow("/slow", 20)
    g = gateway()
    with connected_tools(g.port) as c:
        t0 = time.monotonic()
        r = tool_turn(c, fake, "web_fetch", {"url": web.url + "/slow"})
        assert time.monotonic() - t0 < 15
        # What arrived in time is returned, marked incomplete.
        p = ok_payload(r)
        assert "slow start" in p["text"] and p["truncated"] is True


def test_fetch_refuses_other_schemes(penv, gateway, fake):
    fetch_cfg(penv, fake, "allowPrivate: true")
    g = gateway()
    with connected_tools(g.port) as c:
        for url in ("file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://example.com/x",
                    "dict://127.0.0.1:11211/stat", "not a url"):
            r = tool_turn(c, fake, "web_fetch", {"url": url})
            assert r["isError"] and "must be http or https" in r["text"], (url, r["text"])


# --- the SSRF guard (no opt-out here) --------------------------------------

def test_ssrf_private_targets_refused(penv, gateway, fake, web):
    config(penv, fake)
    web.page("/secret", "<p>internal secret</p>")
    g = gateway(env={"PINCER_TEST_RESOLVE":
                     "public.example.com:%d:127.0.0.1,v6.example.com:%d:::1"
                     % (web.port, web.port)})
    with connected_tools(g.port) as c:
        for url in (web.url + "/secret",
                    "http://[::1]:%d/secret" % web.port,
                    "http://0x7f000001:%d/secret" % web.port,
                    "http://2130706433:%d/secret" % web.port,
                    "http://0177.0.0.1:%d/secret" % web.port,
                    "http://127.1:%d/secret" % web.port,
                    "http://[::ffff:127.0.0.1]:%d/secret" % web.port,
                    "http://169.254.169.254/latest/meta-data/",
                    "http://localhost:%d/secret" % web.port,
                    "http://public.example.com:%d/secret" % web.port,
                    "http://v6.example.com:%d/secret" % web.port,
                    "http://10.0.0.1/", "http://100.64.0.1/", "http://0.0.0.0:%d/" % web.port):
            r = tool_turn(c, fake, "web_fetch", {"url": url})
            assert r["isError"], (url, r["text"])
            assert "Blocked" in r["text"] and "SSRF" in r["text"], (url, r["text"])
            assert "internal secret" not in r["text"]
        # The name that looks public was judged by what it resolved to.
        r = tool_turn(c, fake, "web_fetch",
                      {"url": "http://public.example.com:%d/secret" % web.port})
        assert "resolves to private" in r["text"] and "127.0.0.1" in r["text"]
    assert web.hits("/secret") == []


def test_ssrf_redirect_into_private_space_refused(penv, gateway, fake, web):
    # Only the fake's own host is allowed (OpenClaw's allowedHostnames), so the
    # first hop is served and the redirect target must pass the guard itself.
    fetch_cfg(penv, fake, 'ssrfPolicy: { allowedHostnames: ["127.0.0.1"] }')
    web.page("/secret", "<p>internal secret</p>")
    web.page("/ok", "<p>allowed page</p>")
    web.redirect("/to-name", "http://internal.example.com:%d/secret" % web.port)
    web.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    web.redirect("/to-v6", "http://[::1]:%d/secret" % web.port)
    web.redirect("/to-file", "file:///etc/passwd")
    g = gateway(env={"PINCER_TEST_RESOLVE": "internal.example.com:%d:127.0.0.1" % web.port})
    with connected_tools(g.port) as c:
        p = ok_payload(tool_turn(c, fake, "web_fetch", {"url": web.url + "/ok"}))
        assert "allowed page" in p["text"]
        for path in ("/to-name", "/to-metadata", "/to-v6"):
            r = tool_turn(c, fake, "web_fetch", {"url": web.url + path})
            assert r["isError"] and "Blocked" in r["text"], (path, r["text"])
        r = tool_turn(c, fake, "web_fetch", {"url": web.url + "/to-file"})
        assert r["isError"] and "must be http or https" in r["text"]
    assert web.hits("/secret") == []
    assert len(web.hits("/to-name")) == 1


def test_ssrf_blocked_hostnames(penv, gateway, fake, web):
    fetch_cfg(penv, fake, 'allowPrivate: true, ssrfPolicy: { blockedHostnames: ["127.0.0.1"] }')
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "web_fetch", {"url": web.url + "/x"})
        assert r["isError"] and "configured blocklist" in r["text"]


# --- web_search -------------------------------------------------------------

def search_cfg(penv, fake, web, provider, plugin_cfg, search_extra=""):
    return config(penv, fake, top="""
  tools: { web: { search: { provider: "%s" %s } } },
  plugins: { entries: { %s: { config: { webSearch: { %s } } } } },""" % (
        provider, search_extra, provider, plugin_cfg))


def test_search_brave(penv, gateway, fake, web):
    search_cfg(penv, fake, web, "brave", 'apiKey: "brave-key", baseUrl: "%s"' % web.url)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "web_search", {"query": "pincer gateway", "count": 2,
                                              "country": "DE", "language": "de",
                                              "freshness": "week"})
        p = ok_payload(r)
        assert p["kind"] == "results" and p["provider"] == "brave"
        assert p["query"] == "pincer gateway" and p["count"] == 2
        assert p["results"][0]["url"] == "https://example.com/pincer"
        assert "Pincer: a C gateway" in p["results"][0]["title"]
        assert "<<<EXTERNAL_UNTRUSTED_CONTENT" in p["results"][0]["snippet"]
        assert p["externalContent"]["source"] == "web_search"
    q = web.hits("/res/v1/web/search")[-1]
    assert q["headers"]["x-subscription-token"] == "brave-key"
    assert q["query"]["q"] == "pincer gateway" and q["query"]["count"] == "2"
    assert q["query"]["country"] == "DE" and q["query"]["search_lang"] == "de"
    assert q["query"]["freshness"] == "pw"


def test_search_tavily_searxng_perplexity(penv, gateway, fake, web):
    config(penv, fake, top="""
  tools: { web: { search: { provider: "tavily" } } },
  plugins: { entries: {
    tavily: { config: { webSearch: { apiKey: "tvly-key", baseUrl: "%s" } } },
    searxng: { config: { webSearch: { baseUrl: "%s" } } },
    perplexity: { config: { webSearch: { apiKey: "pplx-key", baseUrl: "%s" } } } } },""" % (
        web.url, web.url, web.url))
    g = gateway()
    with connected_tools(g.port) as c:
        p = ok_payload(tool_turn(c, fake, "web_search", {"query": "q1", "freshness": "day"}))
        assert p["provider"] == "tavily" and p["count"] == 3
        body = web.hits("/search")[-1]["body"]
        assert body["query"] == "q1" and body["max_results"] == 5
        assert body["time_range"] == "day"
        assert web.hits("/search")[-1]["headers"]["authorization"] == "Bearer tvly-key"
    # Switch providers through the config file (hot reload is not under test here).
    for prov, check in (("searxng", "results"), ("perplexity", "answer")):
        g.stop() if hasattr(g, "stop") else None
        config(penv, fake, top="""
  tools: { web: { search: { provider: "%s" } } },
  plugins: { entries: {
    searxng: { config: { webSearch: { baseUrl: "%s" } } },
    perplexity: { config: { webSearch: { apiKey: "pplx-key", baseUrl: "%s" } } } } },""" % (
            prov, web.url, web.url))
        g = gateway()
        with connected_tools(g.port) as c:
            p = ok_payload(tool_turn(c, fake, "web_search", {"query": "q2", "count": 1}))
            assert p["kind"] == check and p["provider"] == prov
            if prov == "searxng":
                q = [h for h in web.hits("/search") if h["method"] == "GET"][-1]["query"]
                assert q["format"] == "json" and q["q"] == "q2"
                assert p["count"] == 1
            else:
                assert "Pincer is a C gateway" in p["content"]
                assert p["citations"][0]["url"] == "https://example.com/pincer"
                req = web.hits("/chat/completions")[-1]
                assert req["headers"]["authorization"] == "Bearer pplx-key"
                assert req["body"]["messages"][-1]["content"] == "q2"


def test_search_provider_errors(penv, gateway, fake, web):
    search_cfg(penv, fake, web, "brave", 'apiKey: "wrong-key", baseUrl: "%s"' % web.url)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "web_search", {"query": "x"})
        assert r["isError"] and "401" in r["text"] and "brave" in r["text"]
        p = json.loads(r["text"])
        assert p["kind"] == "error" and p["error"] == "provider_error"


def test_search_rate_limit_and_server_error(penv, gateway, fake, web):
    search_cfg(penv, fake, web, "brave", 'apiKey: "brave-key", baseUrl: "%s"' % web.url)
    g = gateway()
    with connected_tools(g.port) as c:
        web.fail("/res/v1/web/search", 429, {"error": {"detail": "Rate limit exceeded"}})
        r = tool_turn(c, fake, "web_search", {"query": "x"})
        assert r["isError"] and "429" in r["text"] and "rate limit" in r["text"].lower()
        web.fail("/res/v1/web/search", 500, "boom")
        r = tool_turn(c, fake, "web_search", {"query": "y"})
        assert r["isError"] and "500" in r["text"]


def test_search_key_from_env_and_missing_key(penv, gateway, fake, web):
    config(penv, fake, top="""
  tools: { web: { search: { provider: "brave" } } },
  plugins: { entries: { brave: { config: { webSearch: { baseUrl: "%s" } } } } },""" % web.url)
    g = gateway(env={"BRAVE_API_KEY": "brave-key"})
    with connected_tools(g.port) as c:
        p = ok_payload(tool_turn(c, fake, "web_search", {"query": "env key"}))
        assert p["kind"] == "results"
    g.stop() if hasattr(g, "stop") else None
    env = {"BRAVE_API_KEY": ""}
    g = gateway(env=env)
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "web_search", {"query": "no key"})
        assert r["isError"] and "BRAVE_API_KEY" in r["text"]
