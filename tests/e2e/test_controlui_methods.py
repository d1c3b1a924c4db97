"""The methods OpenClaw's Control UI calls at start-up (src/gateway/m_controlui.c),
over the protocol, without a browser: their answers and their refusals."""
from agentkit import TOKEN, config, fake, run_agent  # noqa: F401
from wsclient import connected


def test_answers(penv, gateway, fake):  # noqa: F811
    config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        run_agent(c, "hello", sessionKey="agent:main:main")
        s = c.call("chat.startup", {})
        assert s["sessionKey"] == "agent:main:main"
        assert [m["role"] for m in s["messages"]] == ["user", "assistant"]
        assert s["sessionInfo"]["key"] == "agent:main:main"
        assert s["defaults"] == {"modelProvider": "fake", "model": "fake-model"}
        assert c.call("sessions.describe", {"key": "main"})["session"]["key"] == "agent:main:main"
        assert c.call("sessions.describe", {"key": "agent:main:never"}) == {"session": None}
        assert c.call("sessions.messages.subscribe", {"key": "main"}) == \
            {"subscribed": True, "key": "agent:main:main"}
        assert c.call("sessions.messages.unsubscribe", {"key": "main"}) == \
            {"subscribed": False, "key": "agent:main:main"}
        assert c.call("sessions.subscribe", {}) == {"subscribed": True}
        assert c.call("agent.identity.get", {}) == {"agentId": "main", "name": "Assistant"}
        assert c.call("agent.identity.get", {"agentId": "MAIN"})["agentId"] == "main"


def test_refusals(penv, gateway, fake):  # noqa: F811
    config(penv, fake)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        def bad(method, params, words):
            r = c.request(method, params)
            assert not r["ok"] and r["error"]["code"] == "INVALID_REQUEST", r
            for w in words:
                assert w in r["error"]["message"], r
        bad("chat.startup", {"bogus": 1}, ["bogus"])
        bad("chat.startup", {"limit": "ten"}, ["limit"])
        bad("chat.startup", {"agentId": "nobody"}, ["unknown agent id", "nobody"])
        bad("chat.startup", {"agentId": "../../etc"}, ["unknown agent id"])
        bad("sessions.describe", {}, ["key"])
        bad("sessions.describe", {"key": 5}, ["key"])
        bad("sessions.messages.subscribe", {"key": None}, ["key"])
        bad("sessions.messages.subscribe", {"key": "main", "includeApprovals": "yes"},
            ["includeApprovals"])
        bad("sessions.messages.unsubscribe", {}, ["key"])
        bad("agent.identity.get", {"agentId": "nobody"}, ["unknown agent id"])
        bad("agent.identity.get", {"agentId": 7}, ["agentId"])
        bad("agent.identity.get", {"extra": True}, ["extra"])
