"""The session tools through real agent turns: sessions_list, sessions_history,
sessions_send (reply back, fire-and-forget, self, ping-pong cap, agent-to-agent
gate), sessions_spawn (announce back), agents_list and message (WebChat)."""
import json
import time

from agentkit import TOKEN, config, connected_tools, fake, run_agent, tool_turn  # noqa: F401


def _j(r):
    return json.loads(r["text"])


def test_sessions_list_and_history(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        fake.script([{"text": "the other reply"}])
        _, final, _ = run_agent(c, "hello other", sessionKey="agent:main:other")
        assert final["ok"]
        r = tool_turn(c, fake, "sessions_list", {"messageLimit": 2})
        assert not r["isError"], r
        data = _j(r)
        keys = [s["key"] for s in data["sessions"]]
        assert "agent:main:other" in keys and "agent:main:tooltest" in keys
        other = [s for s in data["sessions"] if s["key"] == "agent:main:other"][0]
        assert [m["role"] for m in other["messages"]] == ["user", "assistant"]
        r = tool_turn(c, fake, "sessions_history", {"sessionKey": "agent:main:other"})
        h = _j(r)
        assert h["sessionKey"] == "agent:main:other"
        texts = json.dumps(h["messages"])
        assert "hello other" in texts and "the other reply" in texts
        # tool traffic is left out by default
        r = tool_turn(c, fake, "sessions_history", {"sessionKey": "agent:main:tooltest"})
        assert all(m["role"] != "toolResult" for m in _j(r)["messages"])
        r = tool_turn(c, fake, "sessions_history", {"sessionKey": "agent:main:tooltest",
                                                    "includeTools": True})
        assert any(m["role"] == "toolResult" for m in _j(r)["messages"])
        r = tool_turn(c, fake, "sessions_history", {"sessionKey": "bad key with spaces"})
        assert r["isError"]
        # a history over 80 KB loses its oldest messages, never the newest
        for i in range(3):
            fake.script([{"text": ("reply %d " % i) + "x" * 40000}])
            _, final, _ = run_agent(c, "big %d" % i, sessionKey="agent:main:big")
            assert final["ok"]
        r = tool_turn(c, fake, "sessions_history", {"sessionKey": "agent:main:big"})
        h = _j(r)
        assert h["truncated"] is True and h["bytes"] <= 80 * 1024
        assert "reply 2 " in json.dumps(h["messages"][-1])
        assert "reply 0 " not in json.dumps(h["messages"])


def test_sessions_send_reply_back_and_limits(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        # caller calls sessions_send; the target's turn answers; the caller then finishes
        fake.script([
            {"tool_calls": [{"name": "sessions_send",
                             "arguments": {"sessionKey": "agent:main:peer",
                                           "message": "ping from caller"}}]},
            {"text": "pong from peer"},
            {"text": "caller done"},
        ])
        _, final, events = run_agent(c, "go", sessionKey="agent:main:caller")
        assert final["ok"], final
        res = [e["payload"]["data"] for e in events if e.get("event") == "agent"
               and e["payload"]["stream"] == "tool" and e["payload"]["data"]["phase"] == "result"]
        out = json.loads(res[0]["result"][0]["text"])
        assert out["status"] == "ok" and out["reply"] == "pong from peer", out
        peer_req = [r for r in fake.requests if "ping from caller" in json.dumps(r["body"])][0]
        assert "sessions_send" in json.dumps(peer_req["body"]["messages"][0])
        # to itself: refused
        r = tool_turn(c, fake, "sessions_send", {"sessionKey": "agent:main:tooltest",
                                                 "message": "x"})
        assert r["isError"] and "this session" in r["text"]
        # fire and forget
        fake.reset()
        c.events.clear()
        fake.script([{"tool_calls": [{"name": "sessions_send", "arguments": {
            "sessionKey": "agent:main:peer2", "message": "fyi", "timeoutSeconds": 0}}]},
            {"text": "sent"}, {"text": "peer2 got it"}])
        _, final, events = run_agent(c, "go", sessionKey="agent:main:caller2")
        assert final["ok"]
        out = [e["payload"]["data"] for e in events if e.get("event") == "agent" and
               e["payload"]["stream"] == "tool" and e["payload"]["data"]["phase"] == "result"]
        assert json.loads(out[0]["result"][0]["text"])["status"] == "accepted"
        # another agent's session: off unless tools.agentToAgent.enabled
        r = tool_turn(c, fake, "sessions_send", {"agentId": "ops", "message": "x"})
        assert r["isError"] and "agentToAgent" in r["text"]


def test_ping_pong_cap(penv, gateway, fake):
    config(penv, fake, top='session: { agentToAgent: { maxPingPongTurns: 1 } },')
    g = gateway()
    with connected_tools(g.port) as c:
        # A -> B, and B tries to send on to C: one hop allowed, the second refused
        fake.script([
            {"tool_calls": [{"name": "sessions_send", "arguments": {
                "sessionKey": "agent:main:b", "message": "hop one"}}]},
            {"tool_calls": [{"name": "sessions_send", "arguments": {
                "sessionKey": "agent:main:c", "message": "hop two"}}]},
            {"text": "b done"},
            {"text": "a done"},
        ])
        _, final, events = run_agent(c, "start", sessionKey="agent:main:a")
        assert final["ok"]
    b_second = [r for r in fake.requests if "hop two" in json.dumps(r["body"])][-1]
    assert "maxPingPongTurns" in json.dumps(b_second["body"]["messages"])


def test_sessions_spawn_announces_back(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        fake.script([
            {"tool_calls": [{"name": "sessions_spawn", "arguments": {
                "task": "count the stars", "label": "stars"}}]},
            {"text": "spawned it"},
            {"text": "there are many stars"},
            {"text": "the sub-agent says: many"},
        ])
        _, final, events = run_agent(c, "go", sessionKey="agent:main:boss")
        assert final["ok"]
        res = [e["payload"]["data"] for e in events if e.get("event") == "agent" and
               e["payload"]["stream"] == "tool" and e["payload"]["data"]["phase"] == "result"]
        out = json.loads(res[0]["result"][0]["text"])
        assert out["status"] == "accepted" and ":subagent:" in out["childSessionKey"]
        # the announcement turn runs in the requester's session
        deadline = time.time() + 10
        while time.time() < deadline and fake.pending:
            time.sleep(0.05)
        time.sleep(0.3)
    bodies = [json.dumps(r["body"]) for r in fake.requests]
    child = [b for b in bodies if "count the stars" in b and "sub-agent started" in b]
    assert child, "the child run was not started with its task"
    # sub-agents do not get message/sessions_send/gateway
    child_tools = [t["function"]["name"] for t in json.loads(child[0])["tools"]]
    assert "sessions_send" not in child_tools and "message" not in child_tools
    announce = [b for b in bodies if "[Sub-agent stars finished]" in b]
    assert announce and "there are many stars" in announce[0]
    store = json.loads((penv.state / "agents/main/sessions/sessions.json").read_text())
    assert store[out["childSessionKey"]]["label"] == "stars"


def test_agents_list_and_message(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "agents_list", {})
        d = _j(r)
        assert d["requester"] == "main" and d["agents"][0]["id"] == "main"
        assert d["agents"][0]["model"] == "fake/fake-model"
        c.events.clear()
        r = tool_turn(c, fake, "message", {"action": "send", "message": "note for you"})
        assert not r["isError"], r
        assert _j(r)["to"] == "agent:main:main"
        shown = [e["payload"] for e in c.events if e.get("event") == "chat" and
                 e["payload"].get("sessionKey") == "agent:main:main"]
        assert shown and "note for you" in json.dumps(shown[-1]["message"])
        h = c.request("chat.history", {"sessionKey": "main"})
        assert "note for you" in json.dumps(h["payload"]["messages"])
        r = tool_turn(c, fake, "message", {"action": "react", "message": "x"})
        assert r["isError"] and "not supported" in r["text"]
        r = tool_turn(c, fake, "message", {"action": "send", "channel": "telegram",
                                           "message": "x"})
        assert r["isError"] and "not connected" in r["text"]
