"""memory_search and memory_get end to end: through real agent turns with the
fake model, hybrid search with the fake's embeddings, a file change picked
up, memory_get refusing paths outside the memory files, and
`pincer memory status|index|search` without a gateway."""
import json
import os
import stat
import time

from agentkit import config, connected_tools, fake, tool_turn  # noqa: F401

NONE = 'memory: { search: { provider: "none" } },'


def embed_cfg(fake, extra=""):
    return ('memory: { search: { provider: "openai", remote: { baseUrl: "%s/v1", '
            'apiKey: "fake-key" } %s } },' % (fake.url, extra))


def notes(ws):
    (ws / "memory").mkdir(exist_ok=True)
    (ws / "MEMORY.md").write_text("# Memory\n\nThe user prefers green tea over coffee.\n")
    (ws / "memory" / "2026-01-02.md").write_text(
        "# 2026-01-02\n\nWe decided to write pincer in C on top of libuv.\n"
        "The gateway speaks the OpenClaw protocol.\n")
    (ws / "memory" / "2026-01-03.md").write_text("Automobile repaired.\n")
    (ws / "AGENTS.md").write_text("not memory: libuv secrets\n")


def payload(r):
    assert not r["isError"], r
    return json.loads(r["text"])


def test_search_keyword_only_through_a_turn(penv, gateway, fake):
    ws = config(penv, fake, top=NONE)
    notes(ws)
    g = gateway()
    with connected_tools(g.port) as c:
        p = payload(tool_turn(c, fake, "memory_search", {"query": "libuv"}))
    assert p["mode"] == "fts-only" and p["provider"] == "none"
    assert len(p["results"]) == 1, p
    hit = p["results"][0]
    assert hit["path"] == "memory/2026-01-02.md"
    assert hit["startLine"] == 1 and hit["endLine"] == 5
    assert "libuv" in hit["snippet"] and hit["source"] == "memory"
    # A direct chat gets citations, as OpenClaw's "auto".
    assert hit["citation"] == "memory/2026-01-02.md#L1-L5"
    assert hit["snippet"].endswith("Source: memory/2026-01-02.md#L1-L5")
    # AGENTS.md is not a memory file.
    assert all(r["path"] != "AGENTS.md" for r in p["results"])
    db = penv.state / "memory" / "main.sqlite"
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700


def test_search_params_and_errors(penv, gateway, fake):
    ws = config(penv, fake, top=NONE)
    notes(ws)
    g = gateway()
    with connected_tools(g.port) as c:
        p = payload(tool_turn(c, fake, "memory_search", {"query": "the", "maxResults": 1}))
        assert len(p["results"]) == 1
        r = tool_turn(c, fake, "memory_search", {"query": ""})
        assert r["isError"] and "query" in r["text"]
        r = tool_turn(c, fake, "memory_search", {"query": "x", "maxResults": 0})
        assert r["isError"] and "maxResults" in r["text"]
        # Nothing matches: an empty list, not an error.
        p = payload(tool_turn(c, fake, "memory_search", {"query": "zeppelin"}))
        assert p["results"] == []


def test_hybrid_with_fake_embeddings(penv, gateway, fake):
    ws = config(penv, fake, top=embed_cfg(fake))
    notes(ws)
    g = gateway()
    with connected_tools(g.port) as c:
        # No word of the query is in the note: only the vectors find it.
        p = payload(tool_turn(c, fake, "memory_search", {"query": "car fix"}))
    assert p["mode"] == "hybrid" and p["provider"] == "openai"
    assert p["model"] == "text-embedding-3-small"
    assert p["results"], p
    top = p["results"][0]
    assert top["path"] == "memory/2026-01-03.md"
    assert top["vectorScore"] > 0.3 and top["textScore"] == 0
    assert abs(top["score"] - 0.7 * top["vectorScore"]) < 1e-6
    reqs = fake.embedding_requests
    assert reqs and all(r["path"] == "/v1/embeddings" for r in reqs)
    assert reqs[0]["headers"]["authorization"] == "Bearer fake-key"
    assert reqs[0]["body"]["model"] == "text-embedding-3-small"
    docs = [t for r in reqs[:-1] for t in r["body"]["input"]]
    # One chunk per file: MEMORY.md, two notes, and the seeded USER.md.
    assert len(docs) == 4 and sum("green tea" in d for d in docs) == 1
    assert reqs[-1]["body"]["input"] == ["car fix"]


def test_file_change_is_reindexed(penv, gateway, fake):
    ws = config(penv, fake, top=embed_cfg(fake))
    notes(ws)
    g = gateway()
    with connected_tools(g.port) as c:
        p = payload(tool_turn(c, fake, "memory_search", {"query": "kumquat"}))
        assert p["results"] == [] or all("kumquat" not in r["snippet"] for r in p["results"])
        n_before = len(fake.embedding_requests)
        with open(ws / "memory" / "2026-01-02.md", "a") as f:
            f.write("Ada brought kumquat jam to the meeting.\n")
        (ws / "memory" / "deep").mkdir()
        (ws / "memory" / "deep" / "x.md").write_text("A nested note about kumquat trees.\n")
        p = payload(tool_turn(c, fake, "memory_search", {"query": "kumquat", "minScore": 0}))
        paths = {r["path"] for r in p["results"] if "kumquat" in r["snippet"]}
        assert {"memory/2026-01-02.md", "memory/deep/x.md"} <= paths, p
        # Only the changed and the new file were embedded again (plus queries).
        new = fake.embedding_requests[n_before:]
        docs = [t for r in new for t in r["body"]["input"] if "kumquat" in t]
        assert sum(1 for t in docs if t != "kumquat") == 2, new
        assert not any("green tea" in t for r in new for t in r["body"]["input"])


def test_embedding_failure_falls_back_to_keywords(penv, gateway, fake):
    ws = config(penv, fake, top=embed_cfg(fake))
    notes(ws)
    fake.embed_errors([500])
    g = gateway()
    with connected_tools(g.port) as c:
        p = payload(tool_turn(c, fake, "memory_search", {"query": "libuv"}))
    assert p.get("partial") is True and "semantic" in p["warning"]
    assert "HTTP 500" in p["warning"]
    assert p["results"][0]["path"] == "memory/2026-01-02.md"


def test_memory_get(penv, gateway, fake):
    ws = config(penv, fake, top=NONE)
    notes(ws)
    (ws / "memory" / "long.md").write_text("".join("line %d\n" % i for i in range(1, 301)))
    (penv.home / "secret.md").write_text("top secret\n")
    os.symlink(penv.home / "secret.md", ws / "memory" / "evil.md")
    os.symlink(penv.home, ws / "memory" / "dir")
    g = gateway()
    with connected_tools(g.port) as c:
        p = payload(tool_turn(c, fake, "memory_get", {"path": "MEMORY.md"}))
        assert p["status"] == "ok" and "green tea" in p["text"] and p["from"] == 1
        p = payload(tool_turn(c, fake, "memory_get",
                              {"path": "memory/long.md", "from": 10, "lines": 3}))
        assert p["text"].startswith("line 10\nline 11\nline 12\n\n[More content available. "
                                    "Use from=13 to continue.]")
        assert p["truncated"] is True and p["nextFrom"] == 13 and p["lines"] == 3
        p = payload(tool_turn(c, fake, "memory_get", {"path": "memory/long.md", "from": 200}))
        assert p["lines"] == 101 and "truncated" not in p
        p = payload(tool_turn(c, fake, "memory_get", {"path": "memory/nope.md"}))
        assert p["status"] == "not_found" and p["text"] == ""
        for bad in ("../secret.md", "memory/../../secret.md", str(penv.home / "secret.md"),
                    "AGENTS.md", "memory/evil.md", "memory/dir/secret.md", "/etc/passwd",
                    "memory/x.txt"):
            p = payload(tool_turn(c, fake, "memory_get", {"path": bad}))
            assert p["status"] == "error", (bad, p)
            assert p["code"] == "MEMORY_PATH_NOT_ALLOWED", (bad, p)
            assert "top secret" not in json.dumps(p) and "root:" not in json.dumps(p)
        # An absolute path inside the workspace is fine.
        p = payload(tool_turn(c, fake, "memory_get", {"path": str(ws / "MEMORY.md")}))
        assert p["status"] == "ok" and p["path"] == "MEMORY.md"
        r = tool_turn(c, fake, "memory_get", {"path": "MEMORY.md", "lines": -1})
        assert r["isError"] and "lines" in r["text"]


def test_cli_without_gateway(penv, fake):
    ws = config(penv, fake, top=embed_cfg(fake))
    notes(ws)
    r = penv.run("memory", "status", "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["files"] == 0 and st["dirty"] is True and st["mode"] == "hybrid"
    r = penv.run("memory", "index")
    assert r.returncode == 0, r.stderr
    assert "3 changed" in r.stdout and "3 embedded now" in r.stdout
    r = penv.run("memory", "status", "--json")
    st = json.loads(r.stdout)
    assert st["files"] == 3 and st["chunks"] == 3 and st["embedded"] == 3
    assert st["dirty"] is False and st["model"] == "text-embedding-3-small"
    r = penv.run("memory", "search", "car", "fix", "--json")
    assert r.returncode == 0, r.stderr
    p = json.loads(r.stdout)
    assert p["results"][0]["path"] == "memory/2026-01-03.md"
    r = penv.run("memory", "search", "libuv")
    assert r.returncode == 0 and "memory/2026-01-02.md:1-5" in r.stdout
    # --force rebuilds, and embeddings of unchanged text are reused.
    n = len(fake.embedding_requests)
    r = penv.run("memory", "index", "--force")
    assert r.returncode == 0 and "0 embedded now" in r.stdout
    assert len(fake.embedding_requests) == n
    # A failing provider fails `memory index`.
    (ws / "memory" / "new.md").write_text("fresh words\n")
    fake.embed_errors([401])
    r = penv.run("memory", "index")
    assert r.returncode == 1 and "HTTP 401" in r.stderr
    r = penv.run("memory", "search")
    assert r.returncode == 2


def test_watcher_reindexes_without_a_search(penv, gateway, fake):
    ws = config(penv, fake, top=embed_cfg(fake, ", sync: { watchDebounceMs: 50 }"))
    notes(ws)
    g = gateway()
    with connected_tools(g.port) as c:
        payload(tool_turn(c, fake, "memory_search", {"query": "tea"}))  # starts the watch
    (ws / "memory" / "2026-02-01.md").write_text("A new note about quinces.\n")
    deadline = time.monotonic() + 10
    while True:
        st = json.loads(penv.run("memory", "status", "--json").stdout)
        if st["files"] == 5 and st["embedded"] == st["chunks"]:
            break
        assert time.monotonic() < deadline, st
        time.sleep(0.1)
    assert any("quinces" in t for r in fake.embedding_requests for t in r["body"]["input"])
