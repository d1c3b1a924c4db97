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
