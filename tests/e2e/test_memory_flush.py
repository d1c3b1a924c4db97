"""The pre-compaction memory flush (agents.defaults.compaction.memoryFlush)
end to end: the real gateway and the fake model provider with a small
context window, so a few long messages bring a session near compaction.

With contextWindow 16000 the compaction reserve is a quarter of the window
(4000), so auto-compaction runs above 12000 estimated tokens and the flush
is due from 12000 - softThresholdTokens (4000) = 8000 tokens, that is
about 32,000 characters of history (pincer estimates chars / 4).
"""
import datetime
import json
import time

from agentkit import API_BASE, TOKEN, connected_tools, fake, run_agent, transcript_lines  # noqa: F401

KEY = "agent:main:main"
FLUSH_MARK = "Pre-compaction memory flush"


def config(penv, fake, flush=""):
    ws = penv.home / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    penv.write_config("""{
  gateway: { auth: { token: "%s" } },
  models: { providers: {
    fake: { baseUrl: "http://127.0.0.1:%d%s", apiKey: "fake-key", api: "openai-completions",
            models: [{ id: "fake-model", name: "Fake", contextWindow: 16000, maxTokens: 1024 }] },
  } },
  agents: { defaults: { model: { primary: "fake/fake-model" }, workspace: "%s",
                        userTimezone: "UTC", compaction: { %s } } },
}""" % (TOKEN, fake.port, API_BASE["openai-completions"], ws, flush))
    return ws


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def text_of(msg):
    c = msg.get("content")
    if isinstance(c, str):
        return c
    return "".join(p.get("text", "") for p in c or [] if isinstance(p, dict))


def last_user(body):
    return text_of([m for m in body["messages"] if m["role"] == "user"][-1])


def system_of(body):
    return text_of(body["messages"][0])


def tool_names(body):
    return sorted(t["function"]["name"] for t in body.get("tools") or [])


def store(penv):
    return json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())


def turn(c, message):
    c.events.clear()
    _, final, events = run_agent(c, message, sessionKey=KEY)
    assert final["ok"], final
    return final["payload"], events


def flush_script(date, note="- The user's favourite colour is teal."):
    return [{"tool_calls": [{"name": "write",
                             "arguments": {"path": "memory/%s.md" % date, "content": note}}]},
            {"text": "NO_REPLY"}]


def assert_nothing_shown(events, text="NO_REPLY"):
    """Nothing of the flush turn reaches a client: no chat event and no
    agent event carries its reply or its tool calls."""
    for e in events:
        p = e.get("payload") or {}
        if e.get("event") == "chat":
            msg = p.get("message") or {}
            assert text not in text_of(msg) and text not in (p.get("deltaText") or ""), p
        if e.get("event") == "agent":
            assert text not in json.dumps(p["data"]), p
            if p["stream"] == "tool":
                assert p["data"].get("name") != "write", p


def test_flush_before_the_turn_once_per_cycle(penv, gateway, fake):
    ws = config(penv, fake)
    date = today()
    g = gateway()
    with connected_tools(g.port) as c:
        turn(c, "first " + "a" * 20000)  # ~5,000 tokens: no flush yet
        assert len(fake.requests) == 1 and FLUSH_MARK not in last_user(fake.requests[0]["body"])

        fake.reset()
        fake.script(flush_script(date) + [{"text": "Here is the real answer."}])
        payload, events = turn(c, "second " + "b" * 14000)  # now ~8,500 tokens
        reqs = [r["body"] for r in fake.requests]
        assert len(reqs) == 3, [last_user(b)[:60] for b in reqs]
        # 1: the flush turn: its prompt as the user message, its system prompt, read + write
        assert last_user(reqs[0]).startswith(FLUSH_MARK)
        assert "memory/%s.md" % date in last_user(reqs[0])
        assert "Current time:" in last_user(reqs[0])
        assert "Pre-compaction memory flush turn." in system_of(reqs[0])
        assert tool_names(reqs[0]) == ["read", "write"]
        # the session's history is there, the user's new message is not
        assert any("a" * 1000 in text_of(m) for m in reqs[0]["messages"])
        assert not any("b" * 1000 in text_of(m) for m in reqs[0]["messages"])
        # 2: the flush turn goes on after its write
        assert reqs[1]["messages"][-1]["role"] == "tool"
        assert "Appended content to memory/%s.md" % date in text_of(reqs[1]["messages"][-1])
        # 3: the user's own turn, without any of the flush
        assert last_user(reqs[2]).startswith("second ")
        assert FLUSH_MARK not in json.dumps(reqs[2]["messages"])
        assert "Pre-compaction" not in system_of(reqs[2]) and len(tool_names(reqs[2])) > 2
        # the client saw the real answer only
        assert payload["result"]["payloads"][0]["text"] == "Here is the real answer."
        chats = [e["payload"] for e in events if e.get("event") == "chat"]
        assert chats[-1]["state"] == "final"
        assert text_of(chats[-1]["message"]) == "Here is the real answer."
        assert len([ch for ch in chats if ch["state"] == "final"]) == 1
        assert_nothing_shown(events)
        trace = payload["result"]["meta"]["executionTrace"]
        assert len(trace["attempts"]) == 1 and trace["fallbackUsed"] is False

        # the note is in the workspace
        note = (ws / "memory" / (date + ".md")).read_text()
        assert note == "- The user's favourite colour is teal."
        entry = store(penv)[KEY]
        assert entry["memoryFlush"] == {"kind": "succeeded", "compactionCount": 0}
        assert "memoryFlushAt" not in entry and "memoryFlushCompactionCount" not in entry

        # a later turn of the same compaction cycle does not flush again
        fake.reset()
        turn(c, "third, short")
        assert len(fake.requests) == 1
        assert last_user(fake.requests[0]["body"]) == "third, short"

    # OpenClaw keeps the flush turn out of the transcript
    lines = transcript_lines(penv, entry["sessionId"])
    dump = json.dumps(lines)
    assert FLUSH_MARK not in dump and "NO_REPLY" not in dump and "teal" not in dump
    users = [text_of(l["message"]) for l in lines
             if l["type"] == "message" and l["message"]["role"] == "user"]
    assert [u.split(" ")[0] for u in users] == ["first", "second", "third,"]


def test_flush_then_compaction_then_turn(penv, gateway, fake):
    """A message that crosses both thresholds: the flush runs first, then the
    compaction, then the user's turn; the next cycle may flush again."""
    ws = config(penv, fake)
    date = today()
    g = gateway()
    with connected_tools(g.port) as c:
        turn(c, "one " + "a" * 8000)
        fake.reset()
        fake.script(flush_script(date, "first note") +
                    [{"text": "SUMMARY: a long exchange."}, {"text": "Answer after compaction."}])
        payload, events = turn(c, "two " + "c" * 44000)  # ~13,000 tokens: over 12,000
        reqs = [r["body"] for r in fake.requests]
        assert len(reqs) == 4
        assert last_user(reqs[0]).startswith(FLUSH_MARK)
        assert "compacting a conversation" in system_of(reqs[2])
        assert last_user(reqs[3]).startswith("two ")
        assert payload["result"]["payloads"][0]["text"] == "Answer after compaction."
        assert_nothing_shown(events)
        entry = store(penv)[KEY]
        assert entry["compactionCount"] == 1
        assert entry["memoryFlush"] == {"kind": "succeeded", "compactionCount": 0}

        # compaction began a new cycle: near the threshold again, the flush runs again
        fake.reset()
        fake.script(flush_script(date, "second note") + [{"text": "ok"}])
        turn(c, "three " + "d" * 1000)
        reqs = [r["body"] for r in fake.requests]
        assert last_user(reqs[0]).startswith(FLUSH_MARK), [last_user(b)[:40] for b in reqs]
        assert store(penv)[KEY]["memoryFlush"] == {"kind": "succeeded", "compactionCount": 1}
    # appended, each note on a line of its own
    assert (ws / "memory" / (date + ".md")).read_text() == "first note\nsecond note"


def test_flush_write_is_append_only_to_the_day_file(penv, gateway, fake):
    ws = config(penv, fake)
    date = today()
    (ws / "memory").mkdir()
    (ws / "memory" / (date + ".md")).write_text("earlier entry\n")
    (ws / "SOUL.md").write_text("soul")
    g = gateway()
    with connected_tools(g.port) as c:
        run_agent(c, "hello", sessionKey="agent:main:other")
        fake.reset()
        # a flush turn that tries other files and tools first
        fake.script([{"tool_calls": [{"name": "write", "arguments": {"path": "SOUL.md",
                                                                     "content": "x"}}]},
                     {"tool_calls": [{"name": "exec", "arguments": {"command": "true"}}]},
                     {"tool_calls": [{"name": "write", "arguments": {
                         "path": "memory/%s.md" % date, "content": "new entry"}}]},
                     {"text": "NO_REPLY"}, {"text": "fine"}])
        c.events.clear()
        _, final, events = run_agent(c, "one " + "a" * 34000, sessionKey="agent:main:other")
        assert final["ok"], final
        reqs = [r["body"] for r in fake.requests]
        assert "restricted to memory/%s.md" % date in text_of(reqs[1]["messages"][-1])
        assert "only read and append-only write" in text_of(reqs[2]["messages"][-1])
        assert_nothing_shown(events)
    assert (ws / "SOUL.md").read_text() == "soul"
    assert (ws / "memory" / (date + ".md")).read_text() == "earlier entry\nnew entry"


def test_no_flush_without_history(penv, gateway, fake):
    """A first message, however long, has no earlier conversation to save."""
    ws = config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        turn(c, "one " + "a" * 34000)
        assert len(fake.requests) == 1
        assert last_user(fake.requests[0]["body"]).startswith("one ")
    assert not (ws / "memory" / (today() + ".md")).exists()


def test_flush_forced_by_size(penv, gateway, fake):
    """forceFlushTranscriptBytes: a history that big flushes below the token threshold."""
    config(penv, fake, flush='memoryFlush: { softThresholdTokens: 0, '
                             'forceFlushTranscriptBytes: "20kb" }')
    g = gateway()
    with connected_tools(g.port) as c:
        turn(c, "hello")
        fake.reset()
        turn(c, "one " + "a" * 18000)  # ~4,500 tokens, far below 12,000, but 18 KB
        assert len(fake.requests) == 1
        fake.reset()
        turn(c, "two " + "b" * 4000)  # now over 20 KB
        assert last_user(fake.requests[0]["body"]).startswith(FLUSH_MARK)
        assert last_user(fake.requests[-1]["body"]).startswith("two ")


def test_flush_disabled(penv, gateway, fake):
    ws = config(penv, fake, flush="memoryFlush: { enabled: false }")
    g = gateway()
    with connected_tools(g.port) as c:
        turn(c, "hello")
        turn(c, "one " + "a" * 34000)
        assert len(fake.requests) == 2
        assert last_user(fake.requests[1]["body"]).startswith("one ")
    assert not (ws / "memory" / (today() + ".md")).exists()
    assert "memoryFlush" not in store(penv)[KEY]


def test_flush_failure_does_not_stop_the_turn(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        turn(c, "hello")
        fake.reset()
        fake.script([{"error": 500}, {"text": "still answered"}])
        payload, events = turn(c, "one " + "a" * 34000)
        assert payload["result"]["payloads"][0]["text"] == "still answered"
        assert last_user(fake.requests[0]["body"]).startswith(FLUSH_MARK)
        assert not [e for e in events if e.get("event") == "chat"
                    and e["payload"]["state"] == "error"]
        entry = store(penv)[KEY]
        assert entry["memoryFlush"] == {"kind": "failed", "failureCount": 1}
        # the next turn of the cycle tries again
        fake.reset()
        turn(c, "two")
        assert last_user(fake.requests[0]["body"]).startswith(FLUSH_MARK)
        assert store(penv)[KEY]["memoryFlush"] == {"kind": "succeeded", "compactionCount": 0}


def test_abort_during_flush(penv, gateway, fake):
    """chat.abort while the flush turn streams: the run ends aborted, nothing
    of the flush is shown or recorded, and the next turn flushes again."""
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        turn(c, "hello")
        fake.reset()
        fake.script([{"stall_after_ms": 30000, "text": "NO_REPLY stalls here"}])
        c.events.clear()
        c.call("chat.send", {"sessionKey": KEY, "message": "one " + "a" * 34000,
                             "idempotencyKey": "ab1"})
        deadline = time.monotonic() + 10
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert last_user(fake.requests[0]["body"]).startswith(FLUSH_MARK)
        assert c.call("chat.abort", {"sessionKey": KEY})["aborted"] is True
        while True:
            ev = c.event("chat", timeout=10)["payload"]
            if ev["state"] in ("aborted", "final", "error"):
                break
        assert ev["state"] == "aborted"
        assert_nothing_shown(c.events)
        assert "memoryFlush" not in store(penv)[KEY]
        h = c.call("chat.history", {"sessionKey": KEY})
        assert [m["role"] for m in h["messages"]] == ["user", "assistant", "user"]
        fake.reset()
        turn(c, "two")
        assert last_user(fake.requests[0]["body"]).startswith(FLUSH_MARK)
    sid = store(penv)[KEY]["sessionId"]
    assert "NO_REPLY" not in json.dumps(transcript_lines(penv, sid))
