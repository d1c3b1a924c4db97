"""The exec approval panel of pincer's Control UI (ui/js/views/approvals.js)
against real prompts: the fake model calls the `exec` tool with a command
the policy (tools.exec security=allowlist, ask=on-miss) does not cover, so
the gateway asks; the prompt appears in the open page from the
exec.approval.requested event alone (the page sends nothing while it
waits), and each answer does what it says:

- Allow once: the command runs and the reply arrives; the next identical
  call asks again.
- Always allow: the command is added to the allowlist and the next
  identical call runs without asking.
- Deny: the tool reports the denial to the model.

A prompt answered anywhere (here, or by another operator over the
protocol) leaves the page on exec.approval.resolved, and the nav badge
follows. Screenshots go where test_ui.py puts them.
"""
import json
import threading

import pytest

import cdp
from agentkit import TOKEN, config, connected_tools, fake, tool_turn  # noqa: F401
from test_ui import artifacts, browser, login  # noqa: F401
from wsclient import connected

needs_exec = pytest.mark.skipif(
    not (__import__("pathlib").Path(__file__).resolve().parents[2] / "src" / "tools" / "exec.c").exists(),
    reason="no exec tool in this build")
pytestmark = [pytest.mark.skipif(not cdp.available(), reason="chromium is not installed"), needs_exec]

EXEC_TOP = 'tools: { exec: { security: "allowlist", ask: "on-miss" } },'
CARD = "document.querySelector('.approval pre.cmd')"
EMPTY = "document.body.textContent.includes('Nothing is waiting.')"


class Turn:
    """One agent turn in a thread: the model calls exec with `command`."""

    def __init__(self, g, fake, command, key):  # noqa: F811
        self.result = None
        self.error = None

        def run():
            try:
                with connected_tools(g.port) as c:
                    self.result = tool_turn(c, fake, "exec", {"command": command},
                                            session_key=key, reply="ran it", timeout=60)
            except BaseException as e:  # surfaced by join()
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join(60)
        assert not self.thread.is_alive(), "the turn did not finish"
        if self.error:
            raise self.error
        return self.result


def record_frames(b):
    """Collect the page's outgoing WebSocket frames (method names) from now on."""
    sent = []
    orig = b._event

    def ev(msg):
        if msg.get("method") == "Network.webSocketFrameSent":
            try:
                sent.append(json.loads(msg["params"]["response"]["payloadData"]).get("method"))
            except ValueError:
                sent.append("?")
        orig(msg)
    b._event = ev
    return sent


def card_command(b):
    return b.eval("document.querySelector('.approval pre.cmd').textContent")


def test_exec_prompts_allow_once_always_deny(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    ws = config(penv, fake, top=EXEC_TOP)
    g = gateway()
    shots = artifacts(tmp_path)
    b = browser
    login(b, g.url + "/approvals")
    b.wait(EMPTY)
    sent = record_frames(b)

    with connected(g.port, token=TOKEN) as op:
        # ---- allow once: the prompt appears by itself, the command runs ----
        t = Turn(g, fake, "uname -s", "agent:main:ui-approvals")
        b.wait(CARD, timeout=30)
        assert card_command(b) == "uname -s"
        assert str(ws) in b.eval("document.querySelector('.approval').textContent")
        assert not sent, "the page asked the gateway for something while it waited: %r" % sent
        b.wait("document.querySelector('[data-badge=approvals]').textContent === '1'")
        assert b.eval("[...document.querySelectorAll('.approval button')].map(x => x.textContent)") == \
            ["Allow once", "Always allow", "Deny"]
        b.screenshot(shots / "exec-approval.png")
        aid = op.call("exec.approval.list", {})[0]["id"]
        op.events.clear()
        b.click(".approval .btn.primary")
        r = t.join()
        assert not r["isError"], r
        assert "Linux" in r["text"]
        b.wait(EMPTY)
        b.wait("!document.querySelector('[data-badge=approvals]').textContent")
        assert sent == ["exec.approval.resolve"], sent
        res = op.event("exec.approval.resolved")["payload"]
        assert res["id"] == aid and res["decision"] == "allow-once"
        # allow-once added nothing: the file, if any, has no allowlist entry for it
        f = penv.state / "exec-approvals.json"
        assert not f.exists() or "allow-always" not in f.read_text()

        # ---- always: added to the allowlist, the next identical call does not ask ----
        t = Turn(g, fake, "uname -s", "agent:main:ui-approvals")
        b.wait(CARD, timeout=30)
        assert card_command(b) == "uname -s"
        b.click(".approval .btn:not(.primary):not(.danger)")
        r = t.join()
        assert not r["isError"] and "Linux" in r["text"], r
        b.wait(EMPTY)
        entry = json.loads(f.read_text())["agents"]["main"]["allowlist"][0]
        assert entry["source"] == "allow-always" and entry["pattern"].endswith("uname")
        op.events.clear()
        with connected_tools(g.port) as c:
            r = tool_turn(c, fake, "exec", {"command": "uname -s"},
                          session_key="agent:main:ui-approvals", timeout=60)
        assert not r["isError"] and "Linux" in r["text"], r
        assert not [e for e in op.events if e.get("event") == "exec.approval.requested"]
        entry = json.loads(f.read_text())["agents"]["main"]["allowlist"][0]
        assert entry["lastUsedAt"] and entry["lastResolvedPath"].endswith("uname")  # it ran by the allowlist
        assert b.eval(EMPTY) and not b.eval(CARD + " !== null")

        # ---- deny: the tool reports the denial ----
        t = Turn(g, fake, "uname -n", "agent:main:ui-approvals")
        b.wait(CARD, timeout=30)
        assert card_command(b) == "uname -n"
        b.click(".approval .btn.danger")
        r = t.join()
        assert r["isError"], r
        assert "denied" in r["text"].lower(), r
        b.wait(EMPTY)

        # ---- answered elsewhere: exec.approval.resolved takes it off the page ----
        t = Turn(g, fake, "uname -m", "agent:main:ui-approvals")
        b.wait(CARD, timeout=30)
        pending = op.call("exec.approval.list", {})
        assert [p["request"]["command"] for p in pending] == ["uname -m"]
        del sent[:]
        op.call("exec.approval.resolve", {"id": pending[0]["id"], "decision": "allow-once"})
        b.wait(EMPTY)
        b.wait("!document.querySelector('[data-badge=approvals]').textContent")
        r = t.join()
        assert not r["isError"], r
        assert "exec.approval.resolve" not in sent and "exec.approval.list" not in sent, sent
    b.screenshot(shots / "exec-approval-done.png")
    assert not b.errors, b.errors


def test_pending_prompt_shown_after_reload(gateway, penv, fake, browser):  # noqa: F811
    """A prompt that was already waiting when the page opened is listed
    (exec.approval.list) and counted on the badge from any view."""
    config(penv, fake, top=EXEC_TOP)
    g = gateway()
    b = browser
    with connected(g.port, token=TOKEN) as op:
        t = Turn(g, fake, "uname -r", "agent:main:ui-approvals")
        op.event("exec.approval.requested", timeout=30)
        login(b, g.url + "/")
        b.wait("document.querySelector('[data-badge=approvals]').textContent === '1'")
        b.click("a.navlink[data-route=approvals]")
        b.wait(CARD)
        assert card_command(b) == "uname -r"
        b.click(".approval .btn.danger")
        r = t.join()
        assert r["isError"], r
        b.wait(EMPTY)
    assert not b.errors, b.errors
