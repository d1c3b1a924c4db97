"""Shared helpers for tests that drive real agent turns against the fake
model provider (tests/fakes/fake_llm.py): a config pointing the default
agent at the fake, `run_agent` for one `agent` RPC, and `tool_turn` to make
the model call one tool and get back what the tool answered.

    from agentkit import fake, config, connected_tools, tool_turn  # noqa: F401

    def test_read(penv, gateway, fake):
        ws = config(penv, fake)
        (ws / "a.txt").write_text("hi")  # the workspace exists once config() ran
        g = gateway()
        with connected_tools(g.port) as c:
            r = tool_turn(c, fake, "read", {"path": "a.txt"})
            assert not r["isError"] and "hi" in r["text"]
"""
import json
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
    """Write a config whose default agent talks to `fake`; returns the
    workspace path (created). `top` is extra top-level JSON5 (e.g. a
    `tools: {...}` block), `agents_extra` extra keys of agents.defaults."""
    ws = penv.home / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
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


def connected_tools(port, **kw):
    """A connected operator client that receives tool events."""
    kw.setdefault("token", TOKEN)
    kw.setdefault("caps", ["tool-events"])
    return connected(port, **kw)


def run_agent(c, message, timeout=30, **params):
    """Send `agent`, return (accepted payload, final res frame, events seen)."""
    params = dict(message=message, idempotencyKey=params.pop("idempotencyKey", None) or
                  "run-%d" % time.monotonic_ns(), **params)
    rid = "a%d" % time.monotonic_ns()
    c.send({"type": "req", "id": rid, "method": "agent", "params": params})
    acc = c.res(rid)
    assert acc["ok"], acc
    assert acc["payload"]["status"] == "accepted"
    final = c.res(rid, timeout=timeout)
    return acc["payload"], final, list(c.events)


def tool_results(events):
    """The `tool` stream's result events, in order (needs the tool-events cap)."""
    out = []
    for e in events:
        p = e.get("payload") or {}
        if e.get("event") == "agent" and p.get("stream") == "tool" and \
                p["data"].get("phase") == "result":
            d = dict(p["data"])
            d["text"] = "\n".join(b.get("text", "") for b in d.get("result") or []
                                  if isinstance(b, dict) and b.get("type") == "text")
            out.append(d)
    return out


def tool_turn(c, fake, name, args, session_key="agent:main:tooltest", reply="done",
              timeout=30, **params):
    """One agent turn in which the model calls `name` with `args` and then
    answers `reply`. Returns the tool's result: {isError, result (content
    blocks), text (the text blocks joined), name, toolCallId}."""
    c.events.clear()
    fake.script([{"tool_calls": [{"name": name, "arguments": args}]}, {"text": reply}])
    _, final, events = run_agent(c, "use the tool", sessionKey=session_key, timeout=timeout,
                                 **params)
    assert final["ok"], final
    res = tool_results(events)
    assert res, "no tool result event (did the client ask for the tool-events cap?)"
    return res[-1]


def transcript_lines(penv, session_id, agent="main"):
    p = penv.state / "agents" / agent / "sessions" / (session_id + ".jsonl")
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()]
