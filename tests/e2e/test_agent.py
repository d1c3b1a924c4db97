"""The agent runtime end to end: the real gateway, the fake model provider
(tests/fakes/fake_llm.py) speaking each wire format, and the protocol's
agent/chat/sessions methods, as OpenClaw's clients use them."""
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from wsclient import connected

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))
from fake_llm import FakeLLM  # noqa: E402

TOKEN = "test-token-123"

# api -> the baseUrl path prefix that API's clients put before their endpoint
API_BASE = {
    "openai-completions": "/v1",
    "openai-responses": "/v1",
    "anthropic-messages": "",
    "ollama": "",
    "google-generative-ai": "/v1beta",
}


@pytest.fixture
def fake():
    f = FakeLLM(port=0)
    f.start()
    yield f
    f.stop()


def config(penv, fake, api="openai-completions", extra_models="", agents_extra="", top=""):
    ws = penv.home / "workspace"
    penv.write_config("""{
  gateway: { auth: { token: "%s" } },
  models: { providers: {
    fake: { baseUrl: "http://127.0.0.1:%d%s", apiKey: "fake-key", api: "%s",
            models: [{ id: "fake-model", name: "Fake", contextWindow: 128000, maxTokens: 4096 }] },
    %s
  } },
  agents: { defaults: { model: { primary: "fake/fake-model" %s }, workspace: "%s" } },
  %s
}""" % (TOKEN, fake.port, API_BASE[api], api, extra_models, agents_extra, ws, top))
    return ws


def run_agent(c, message, **params):
    """Send `agent`, return (accepted payload, final res frame, events seen)."""
    params = dict(message=message, idempotencyKey=params.pop("idempotencyKey", None) or
                  "run-%d" % time.monotonic_ns(), **params)
    rid = "a%d" % time.monotonic_ns()
    c.send({"type": "req", "id": rid, "method": "agent", "params": params})
    acc = c.res(rid)
    assert acc["ok"], acc
    assert acc["payload"]["status"] == "accepted"
    final = c.res(rid, timeout=30)
    return acc["payload"], final, list(c.events)


def transcript_lines(penv, session_id, agent="main"):
    p = penv.state / "agents" / agent / "sessions" / (session_id + ".jsonl")
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()]


def test_agent_turn_events_and_transcript(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        acc, final, events = run_agent(c, "hi again", sessionId="test",
                                       sessionKey="agent:main:explicit:test", deliver=False,
                                       timeout=600)
        assert acc["sessionKey"] == "agent:main:explicit:test" and acc["agentId"] == "main"
        assert final["ok"], final
        p = final["payload"]
        assert p["status"] == "ok" and p["summary"] == "completed"
        assert p["result"]["payloads"][0]["text"] == "Hello from the fake provider."
        assert p["result"]["meta"]["agentMeta"]["provider"] == "fake"
        agent = [e["payload"] for e in events if e.get("event") == "agent"]
        streams = [(a["stream"], a["data"].get("phase")) for a in agent]
        assert ("lifecycle", "start") in streams and ("lifecycle", "model") in streams
        assert ("lifecycle", "end") in streams and ("assistant", None) in streams
        seqs = [a["seq"] for a in agent]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        first = next(a for a in agent if a["stream"] == "assistant")
        assert first["data"]["delta"] == "Hello" and first["data"]["text"] == "Hello"
        chats = [e["payload"] for e in events if e.get("event") == "chat"]
        assert chats[-1]["state"] == "final"
        assert chats[-1]["message"]["content"][0]["text"] == "Hello from the fake provider."
        assert any(ch["state"] == "delta" and ch["deltaText"] for ch in chats)
    lines = transcript_lines(penv, "test")
    assert lines[0]["type"] == "session" and lines[0]["version"] == 3 and lines[0]["id"] == "test"
    msgs = [l["message"] for l in lines if l["type"] == "message"]
    assert msgs[0]["role"] == "user" and msgs[0]["content"][0]["text"] == "hi again"
    assert msgs[1]["role"] == "assistant" and msgs[1]["stopReason"] == "stop"
    assert msgs[1]["usage"]["output"] == 7
    store = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())
    assert store["agent:main:explicit:test"]["sessionId"] == "test"
    # the request the provider saw: system prompt first, then the user's message
    body = fake.requests[-1]["body"]
    assert body["messages"][0]["role"] == "system" and body["stream"] is True
    assert body["messages"][-1]["role"] == "user"


def test_chat_send_history_and_workspace_seeded(penv, gateway, fake):
    ws = config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        r = c.call("chat.send", {"sessionKey": "main", "message": "hello there",
                                 "idempotencyKey": "k1"})
        assert r == {"runId": "k1", "status": "started"}
        while True:
            ev = c.event("chat", timeout=20)["payload"]
            if ev["state"] in ("final", "error"):
                break
        assert ev["state"] == "final", ev
        h = c.call("chat.history", {"sessionKey": "agent:main:main"})
        roles = [m["role"] for m in h["messages"]]
        assert roles == ["user", "assistant"]
        # the same idempotency key again starts nothing new
        r = c.call("chat.send", {"sessionKey": "main", "message": "hello there",
                                 "idempotencyKey": "k1"})
        assert r["runId"] == "k1"
        lst = c.call("sessions.list", {})
        assert any(s["key"] == "agent:main:main" for s in lst["sessions"])
    assert (ws / "AGENTS.md").exists() and (ws / "SOUL.md").exists()


@pytest.mark.parametrize("api", list(API_BASE))
def test_tool_calling_turn_every_format(penv, gateway, fake, api):
    # one tool offered: the fake's TOOLCALL behaviour calls the first tool it sees
    config(penv, fake, api=api, top='tools: { allow: ["session_status"] },')
    g = gateway()
    with connected(g.port, token=TOKEN, caps=["tool-events"]) as c:
        _, final, events = run_agent(c, "TOOLCALL please check the session",
                                     sessionKey="agent:main:tools")
        assert final["ok"], final
        assert final["payload"]["result"]["payloads"][0]["text"] == "Hello from the fake provider."
        agent = [e["payload"] for e in events if e.get("event") == "agent"]
        items = [a["data"] for a in agent if a["stream"] == "item"]
        assert [i["phase"] for i in items] == ["start", "end"]
        assert items[0]["name"] == "session_status"
        tools = [a["data"] for a in agent if a["stream"] == "tool"]
        assert [t["phase"] for t in tools] == ["start", "result"]
    assert len(fake.requests) == 2
    sid = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())[
        "agent:main:tools"]["sessionId"]
    msgs = [l["message"] for l in transcript_lines(penv, sid) if l["type"] == "message"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "toolResult", "assistant"]
    call = [b for b in msgs[1]["content"] if b["type"] == "toolCall"][0]
    assert msgs[2]["toolCallId"] == call["id"] and msgs[2]["isError"] is False
    assert "Session: agent:main:tools" in msgs[2]["content"][0]["text"]


def test_tool_events_need_the_cap(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        _, final, events = run_agent(c, "TOOLCALL go", sessionKey="agent:main:nocap")
        assert final["ok"]
        streams = {e["payload"]["stream"] for e in events if e.get("event") == "agent"}
        assert "item" in streams and "tool" not in streams


def test_provider_errors_are_clean(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        for step, kind in (({"error": 500}, "unknown"), ({"error": 429, "retry_after": 1},
                                                          "rate_limit"),
                           ({"error": "context_overflow"}, "context_length"),
                           ({"malformed": True}, "unknown"),
                           ({"drop_after": 2}, "unknown")):
            fake.reset()
            # overflow: compaction is tried once, and its summary call fails the same way
            fake.script([step, step, step])
            rid = "e%d" % time.monotonic_ns()
            c.send({"type": "req", "id": rid, "method": "agent",
                    "params": {"message": "hi", "sessionKey": "agent:main:err",
                               "idempotencyKey": rid}})
            assert c.res(rid)["ok"]
            f = c.res(rid, timeout=30)
            assert not f["ok"], (step, f)
            assert f["error"]["code"] == "UNAVAILABLE" and f["error"]["message"]
            chat = [e["payload"] for e in c.events if e.get("event") == "chat"
                    and e["payload"]["runId"] == rid]
            assert chat[-1]["state"] == "error", (step, chat)
            assert chat[-1]["errorKind"] == kind, (step, chat[-1])
            c.events.clear()
        # the session still works, and its transcript is whole
        fake.reset()
        _, final, _ = run_agent(c, "still there?", sessionKey="agent:main:err")
        assert final["ok"]
    store = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())
    for line in (penv.state / "agents/main/sessions" /
                 (store["agent:main:err"]["sessionId"] + ".jsonl")).read_text().splitlines():
        json.loads(line)


def test_failover_to_fallback_model(penv, gateway, fake):
    config(penv, fake,
           extra_models='fake2: { baseUrl: "http://127.0.0.1:%d/v1", apiKey: "k2", '
                        'api: "openai-completions", models: [{ id: "other" }] },' % fake.port,
           agents_extra=', fallbacks: ["fake2/other"]')
    g = gateway()
    fake.script([{"error": 503}])
    with connected(g.port, token=TOKEN) as c:
        _, final, _ = run_agent(c, "hi", sessionKey="agent:main:fo")
        assert final["ok"], final
        trace = final["payload"]["result"]["meta"]["executionTrace"]
        assert [a["result"] for a in trace["attempts"]] == ["error", "success"]
        assert trace["winnerModel"] == "other" and trace["fallbackUsed"] is True
    assert [r["body"]["model"] for r in fake.requests] == ["fake-model", "other"]


def test_auth_profile_rotation_and_cooldown(penv, gateway, fake):
    config(penv, fake)
    adir = penv.state / "agents" / "main" / "agent"
    adir.mkdir(parents=True)
    (adir / "auth-profiles.json").write_text(json.dumps({"version": 1, "profiles": {
        "fake:one": {"type": "api_key", "provider": "fake", "key": "key-one"},
        "fake:two": {"type": "api_key", "provider": "fake", "key": "key-two"}}}))
    g = gateway()
    fake.script([{"error": 401}])
    with connected(g.port, token=TOKEN) as c:
        _, final, _ = run_agent(c, "hi", sessionKey="agent:main:rot")
        assert final["ok"], final
    keys = [r["headers"].get("authorization") for r in fake.requests]
    assert len(keys) == 2 and keys[0] != keys[1]
    stats = json.loads((adir / "auth-profiles.json").read_text())["usageStats"]
    failed = "fake:one" if keys[0] == "Bearer key-one" else "fake:two"
    assert stats[failed]["cooldownUntil"] > time.time() * 1000
    assert "key-one" not in g.output() and "key-two" not in g.output()


def test_queue_collect_merges_messages(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    fake.script([{"delay_ms": 800, "text": "first answer"}])
    with connected(g.port, token=TOKEN) as c:
        for i, m in enumerate(["one", "two", "three"]):
            c.call("chat.send", {"sessionKey": "main", "message": m, "idempotencyKey": "q%d" % i})
        finals = set()
        deadline = time.time() + 30
        while time.time() < deadline and len(finals) < 2:
            ev = c.event("chat", timeout=20)["payload"]
            if ev["state"] == "final":
                finals.add(ev["runId"])
    assert len(fake.requests) == 2
    last_user = fake.requests[1]["body"]["messages"][-1]["content"]
    text = last_user if isinstance(last_user, str) else json.dumps(last_user)
    assert "two" in text and "three" in text


def test_queue_followup_runs_each(penv, gateway, fake):
    config(penv, fake, top='messages: { queue: { mode: "followup", debounceMs: 0 } },')
    g = gateway()
    fake.script([{"delay_ms": 500, "text": "a"}])
    with connected(g.port, token=TOKEN) as c:
        for i, m in enumerate(["one", "two", "three"]):
            c.call("chat.send", {"sessionKey": "main", "message": m, "idempotencyKey": "f%d" % i})
        n = 0
        while n < 3:
            if c.event("chat", timeout=20)["payload"]["state"] == "final":
                n += 1
    assert len(fake.requests) == 3


def test_abort_leaves_valid_transcript(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    fake.script([{"stall_after_ms": 30000, "text": "partial answer that stalls"}])
    with connected(g.port, token=TOKEN) as c:
        c.call("chat.send", {"sessionKey": "main", "message": "go", "idempotencyKey": "ab1"})
        c.event("chat", timeout=10)  # status
        time.sleep(0.5)
        r = c.call("chat.abort", {"sessionKey": "main"})
        assert r["aborted"] is True
        while True:
            ev = c.event("chat", timeout=10)["payload"]
            if ev["state"] in ("aborted", "final", "error"):
                break
        assert ev["state"] == "aborted"
        h = c.call("chat.history", {"sessionKey": "main"})
        assert h["messages"][0]["role"] == "user"
        # and the session goes on
        fake.reset()
        _, final, _ = run_agent(c, "again", sessionKey="agent:main:main")
        assert final["ok"]


def test_slash_commands(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        def say(text):
            _, f, _ = run_agent(c, text, sessionKey="agent:main:main")
            assert f["ok"], f
            return f["payload"]["result"]["payloads"][0]["text"]

        assert "/think" in say("/help")
        assert "high" in say("/think high")
        assert "Thinking: high" in say("/status")
        say("hello")
        old = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())[
            "agent:main:main"]["sessionId"]
        assert "New session" in say("/new")
        store = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())
        assert store["agent:main:main"]["sessionId"] != old
        assert store["agent:main:main"]["thinkingLevel"] == "high"
        archived = list((penv.state / "agents/main/sessions").glob(old + ".jsonl.reset.*"))
        assert archived
    assert len(fake.requests) == 1


def test_compact_command(penv, gateway, fake):
    config(penv, fake, top='agents_unused: null,' if False else "")
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        for i in range(3):
            run_agent(c, "message number %d " % i + "x" * 2000, sessionKey="agent:main:main")
        fake.script([{"text": "SUMMARY: the user sent three numbered messages."}])
        r = c.call("sessions.compact", {"key": "agent:main:main"})
        assert r["ok"] is True, r
    sid = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())[
        "agent:main:main"]["sessionId"]
    entries = transcript_lines(penv, sid)
    comp = [e for e in entries if e["type"] == "compaction"]
    assert comp and comp[0]["summary"].startswith("SUMMARY")
    kept = next(e for e in entries if e.get("id") == comp[0]["firstKeptEntryId"])
    assert kept["message"]["role"] == "user"


def test_crash_mid_turn_and_restart(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    fake.script([{"stall_after_ms": 30000, "text": "never finished"}])
    with connected(g.port, token=TOKEN) as c:
        c.call("chat.send", {"sessionKey": "main", "message": "before crash",
                             "idempotencyKey": "c1"})
        time.sleep(0.5)
    os.killpg(g.proc.pid, signal.SIGKILL)
    g.proc.wait()
    fake.reset()
    g2 = gateway()
    with connected(g2.port, token=TOKEN) as c:
        h = c.call("chat.history", {"sessionKey": "main"})
        assert h["messages"][0]["content"][0]["text"] == "before crash"
        _, final, _ = run_agent(c, "after crash", sessionKey="agent:main:main")
        assert final["ok"], final


def test_cli_agent_through_gateway_and_local(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    r = penv.run("agent", "-m", "hi", "--token", TOKEN, "--port", str(g.port))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Hello from the fake provider."
    r = penv.run("agent", "-m", "hi", "--json", "--token", TOKEN, "--port", str(g.port))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "ok"
    r = penv.run("sessions", "--json", "--token", TOKEN, "--port", str(g.port))
    assert r.returncode == 0 and json.loads(r.stdout)["sessions"]
    g.stop()
    r = penv.run("agent", "--local", "-m", "hi", "--session-id", "loc")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Hello from the fake provider."
    assert (penv.state / "agents/main/sessions/loc.jsonl").exists()


def test_cli_models(penv, fake):
    config(penv, fake)
    r = penv.run("models", "status", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["model"] == "fake/fake-model" and s["usable"] is True
    assert "fake-key" not in r.stdout
    r = penv.run("models", "list")
    assert "fake/fake-model" in r.stdout
    r = penv.run("models", "set", "nosuch/provider-model")
    assert r.returncode != 0


def test_agent_methods_refuse_bad_params(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        def bad(method, params, words):
            r = c.request(method, params)
            assert not r["ok"], (method, params, r)
            assert r["error"]["code"] == "INVALID_REQUEST", r
            for w in words:
                assert w in r["error"]["message"], (w, r["error"]["message"])

        bad("agent", {"idempotencyKey": "x"}, ["agent", "message"])
        bad("agent", {"message": "", "idempotencyKey": "x"}, ["message"])
        bad("agent", {"message": "hi", "idempotencyKey": "x", "bogus": 1}, ["bogus"])
        bad("agent", {"message": 5, "idempotencyKey": "x"}, ["message"])
        bad("chat.send", {"sessionKey": "main", "message": "hi"}, ["idempotencyKey"])
        bad("chat.send", {"sessionKey": "main", "message": "hi", "idempotencyKey": "k",
                          "nope": True}, ["nope"])
        bad("chat.send", {"sessionKey": "agent:Bad Id!:x", "message": "hi",
                          "idempotencyKey": "k2"}, ["session key"])
        bad("chat.history", {"sessionKey": "agent:main:main", "limit": "ten"}, ["limit"])
        bad("sessions.patch", {"key": "agent:main:main", "thinkingLevel": "extreme"},
            ["thinkingLevel"])
        bad("sessions.patch", {"key": "agent:main:main", "whatever": 1}, ["whatever"])
        bad("sessions.patch", {"key": "agent:main:main", "model": "nosuch/thing"},
            ["nosuch"])
        bad("wake", {"mode": "later", "text": "x"}, ["mode"])
        bad("agent.wait", {}, ["runId"])
        # a 4 MiB message (~1M tokens) cannot fit a 128k window: a clear context
        # error, no model call, and the message is still recorded whole
        big = "y" * (4 << 20)
        n = len(fake.requests)
        _, final, _ = run_agent(c, big, sessionKey="agent:main:big")
        assert not final["ok"] and final["error"]["details"]["errorKind"] == "context_length"
        assert "/new" in final["error"]["message"]
        assert len(fake.requests) == n
        assert c.call("agent.wait", {"runId": "never-seen", "timeoutMs": 10})["status"] == "unknown"
        assert c.call("sessions.delete", {"key": "agent:main:none"})["deleted"] is False
    sid = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())[
        "agent:main:big"]["sessionId"]
    user = [l for l in transcript_lines(penv, sid) if l["type"] == "message"][0]
    assert user["message"]["content"][0]["text"] == big


def test_session_maintenance_enforce_prunes_old_sessions(penv, gateway, fake):
    config(penv, fake, top='session: { maintenance: { mode: "enforce", pruneAfter: "1d" } },')
    sdir = penv.state / "agents" / "main" / "sessions"
    sdir.mkdir(parents=True)
    old = int(time.time() * 1000) - 3 * 86400000
    (sdir / "sessions.json").write_text(json.dumps({
        "agent:main:old": {"sessionId": "old-1", "updatedAt": old},
        "agent:main:fresh": {"sessionId": "fresh-1", "updatedAt": int(time.time() * 1000)}}))
    (sdir / "old-1.jsonl").write_text('{"type":"session","version":3,"id":"old-1"}\n')
    g = gateway(env={"PINCER_SWEEP_MS": "100"})
    # the gateway loads the store with its first use: touch it
    with connected(g.port, token=TOKEN) as c:
        c.call("sessions.list", {})
        deadline = time.time() + 10
        while time.time() < deadline:
            keys = [s["key"] for s in c.call("sessions.list", {})["sessions"]]
            if "agent:main:old" not in keys:
                break
            time.sleep(0.1)
        assert keys == ["agent:main:fresh"]
    assert not (sdir / "old-1.jsonl").exists()
    assert list(sdir.glob("old-1.jsonl.deleted.*"))


def test_evicted_transcript_is_read_again_whole(penv, gateway, fake):
    """Idle sessions keep at most 256 kB of parsed transcript between them; one
    pushed out is parsed again on its next turn, and the model still gets all of it."""
    config(penv, fake)
    g = gateway()
    big = "x" * 200_000
    with connected(g.port, token=TOKEN) as c:
        run_agent(c, "first " + big, sessionKey="agent:main:a")
        run_agent(c, "second " + big, sessionKey="agent:main:b")  # a is evicted now
        run_agent(c, "third", sessionKey="agent:main:b")
        fake.reset()
        _, final, _ = run_agent(c, "again", sessionKey="agent:main:a")
        assert final["ok"], final
    msgs = fake.requests[-1]["body"]["messages"]
    texts = [m["content"] if isinstance(m["content"], str) else
             "".join(p.get("text", "") for p in m["content"]) for m in msgs if m["role"] == "user"]
    assert texts[-2] == "first " + big and texts[-1] == "again"
