"""Tool plumbing end to end: a tool called by the model through a real
turn, tool policy, tools.catalog / tools.effective, POST /tools/invoke."""
from agentkit import config, connected_tools, fake, tool_turn  # noqa: F401


def test_session_status_through_a_turn(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "session_status", {})
        assert not r["isError"]
        assert "Session: agent:main:tooltest" in r["text"]


import json  # noqa: E402
import urllib.request  # noqa: E402

from agentkit import TOKEN, run_agent  # noqa: E402
from wsclient import connected  # noqa: E402


def _offered(fake):
    """Tool names the model was offered in the last request (OpenAI chat wire format)."""
    body = fake.requests[-1]["body"]
    return sorted(t["function"]["name"] for t in body.get("tools", []))


def test_policy_filters_offered_tools_and_refuses_calls(penv, gateway, fake):
    config(penv, fake, top='tools: { deny: ["session_status"] },')
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "session_status", {})
        assert r["isError"]
        assert "denied by tools.allow/deny" in r["text"]
        first = fake.requests[0]["body"]
        assert "session_status" not in [t["function"]["name"] for t in first.get("tools", [])]


def test_profile_minimal_offers_only_its_tools(penv, gateway, fake):
    config(penv, fake, top='tools: { profile: "minimal" },')
    g = gateway()
    with connected_tools(g.port) as c:
        fake.script([{"text": "ok"}])
        _, final, _ = run_agent(c, "hi", sessionKey="agent:main:p")
        assert final["ok"]
    # OpenClaw's minimal profile: session_status and gateway (config reads)
    assert _offered(fake) == ["gateway", "session_status"]


def test_tools_catalog_and_effective(penv, gateway, fake):
    config(penv, fake, top='tools: { profile: "minimal" },')
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        cat = c.request("tools.catalog", {})
        assert cat["ok"], cat
        p = cat["payload"]
        assert p["agentId"] == "main"
        assert [x["id"] for x in p["profiles"]] == ["minimal", "coding", "messaging", "full"]
        ids = [t["id"] for grp in p["groups"] for t in grp["tools"]]
        assert "session_status" in ids
        ss = [t for grp in p["groups"] for t in grp["tools"] if t["id"] == "session_status"][0]
        assert "minimal" in ss["defaultProfiles"]
        eff = c.request("tools.effective", {"sessionKey": "main"})
        assert eff["ok"], eff
        assert eff["payload"]["profile"] == "minimal"
        assert sorted(t["id"] for t in eff["payload"]["groups"][0]["tools"]) == \
            ["gateway", "session_status"]
        bad = c.request("tools.effective", {})
        assert not bad["ok"]
        inv = c.request("tools.invoke", {"name": "session_status", "sessionKey": "main"})
        assert inv["ok"] and inv["payload"]["ok"], inv
        assert "Session: agent:main:main" in inv["payload"]["output"]["content"][0]["text"]
        nf = c.request("tools.invoke", {"name": "nope"})
        assert nf["ok"] and not nf["payload"]["ok"]
        assert nf["payload"]["error"]["code"] == "not_found"
        bad = c.request("tools.invoke", {"name": "session_status", "args": [1, 2]})
        assert bad["ok"] and not bad["payload"]["ok"]
        assert bad["payload"]["error"]["code"] == "validation_error"
        missing = c.request("tools.invoke", {})
        assert not missing["ok"]


def _post(port, body, token=TOKEN, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    rq = urllib.request.Request("http://127.0.0.1:%d/tools/invoke" % port, data=data,
                                method="POST", headers={"Content-Type": "application/json"})
    if token:
        rq.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(rq, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_http_tools_invoke(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    st, body = _post(g.port, {"tool": "session_status", "sessionKey": "main"})
    assert st == 200 and body["ok"], body
    assert "Session: agent:main:main" in body["result"]["content"][0]["text"]
    st, body = _post(g.port, {"tool": "session_status"}, token="wrong")
    assert st == 401 and not body["ok"]
    st, body = _post(g.port, {"tool": "session_status"}, token=None)
    assert st == 401
    st, body = _post(g.port, {"tool": "nope"})
    assert st == 404 and body["error"]["type"] == "not_found"
    st, body = _post(g.port, {"args": {}})
    assert st == 400 and body["error"]["type"] == "invalid_request"
    st, body = _post(g.port, None, raw=b"{not json")
    assert st == 400
    st, body = _post(g.port, {"tool": "session_status", "args": "not an object"})
    assert st == 400 and body["error"]["message"] == "args must be an object"
    # the HTTP deny list: exec is refused over HTTP even where the agent may use it
    st, body = _post(g.port, {"tool": "exec", "args": {"command": "true"}})
    assert st == 404
    # a body over 2 MB is refused before any tool runs
    st, _ = _post(g.port, None, raw=b'{"tool":"session_status","args":{"x":"' +
                  b"a" * (2 * 1024 * 1024) + b'"}}')
    assert st == 413
