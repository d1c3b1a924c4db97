"""OpenClaw's own Control UI (the build in the openclaw@2026.9.6 npm
package), served by pincer through gateway.controlUi.root and driven in
headless Chromium: it connects, lists the sessions, sends a chat message,
shows the fake provider's reply as it streams, and reads the conversation
back with chat.startup/chat.history after a reload.

Skips when the reference package (/work/ocref) or chromium is absent.

OpenClaw's UI asks at start-up for a number of features pincer does not
have (update.status, plugin.approval.list, openclaw.approval.list,
question.list, models.authStatus, talk.catalog, cron.*, tasks.list,
progressCard.get, chat.metadata, sessions.branches.list,
sessions.companion.state, sessions.observer.visibility). pincer answers
them with its ordinary `unknown method` error; the UI treats each as an
optional feature and shows nothing, logs nothing - the test checks both:
no console errors and no error text on the page.
"""
import time
from pathlib import Path

import pytest

import cdp
from agentkit import TOKEN, config, fake, run_agent  # noqa: F401
from test_ui import artifacts, browser  # noqa: F401
from wsclient import connected

OCREF_UI = Path("/work/ocref/node_modules/openclaw/dist/control-ui")

pytestmark = [
    pytest.mark.skipif(not cdp.available(), reason="chromium is not installed"),
    pytest.mark.skipif(not (OCREF_UI / "index.html").exists(),
                       reason="OpenClaw's Control UI (/work/ocref) is not installed"),
]

COMPOSER = "textarea[aria-label='Chat composer']"


def openclaw_ui_config(penv, fake):  # noqa: F811
    """The agent on the fake provider, and OpenClaw's UI as the Control UI."""
    config(penv, fake)
    text = (penv.state / "pincer.json").read_text()
    gw = 'gateway: { auth: { token: "%s" } },' % TOKEN
    assert gw in text
    penv.write_config(text.replace(
        gw, 'gateway: { auth: { token: "%s" }, controlUi: { root: "%s" } },' % (TOKEN, OCREF_UI), 1))


def page_text(b):
    return b.eval("document.body.innerText")


def no_errors_shown(b):
    """Nothing on the page reports a failed gateway call."""
    text = page_text(b)
    for bad in ("unknown method", "INVALID_REQUEST", "Retry"):
        assert bad not in text, (bad, text[:2000])


def test_openclaw_ui_chats_with_pincer(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    openclaw_ui_config(penv, fake)
    g = gateway()
    shots = artifacts(tmp_path)
    b = browser

    # A second session, made over the protocol before the page opens, for the sessions list.
    fake.script([{"text": "Noted."}])
    with connected(g.port, token=TOKEN) as c:
        _, final, _ = run_agent(c, "remember the side notes", sessionKey="agent:main:side-notes")
        assert final["ok"], final
        c.call("sessions.patch", {"key": "agent:main:side-notes", "label": "Side notes"})

    # OpenClaw's UI takes the token from the fragment, as pincer's does.
    b.navigate(g.url + "/#token=" + TOKEN)
    b.wait("document.querySelector(%r)" % COMPOSER, timeout=30)
    assert "token" not in b.eval("location.href")
    # Its session list (sessions.list, sessions.describe) shows the session made above.
    b.wait("document.body.innerText.includes('Side notes')", timeout=20)

    # A reply that streams: the first words arrive, the model stalls, the rest follows.
    fake.script([{"chunks": ["Streaming words ", "from the fake ", "provider, in parts."],
                  "stall_after_ms": 6000}])
    b.type(COMPOSER, "hello from OpenClaw's UI")
    b.press("Enter")
    b.wait("document.body.innerText.includes('Streaming words')", timeout=20)
    partial = page_text(b)
    assert "provider, in parts." not in partial, "the reply was not shown while it streamed"
    b.screenshot(shots / "openclaw-ui-streaming.png")
    b.wait("document.body.innerText.includes('Streaming words from the fake provider, in parts.')",
           timeout=20)
    assert "hello from OpenClaw's UI" in page_text(b)
    b.screenshot(shots / "openclaw-ui-chat.png")
    req = fake.requests[-1]["body"]
    assert "hello from OpenClaw's UI" in str(req["messages"][-1])

    # The transcript pincer wrote is what the UI reads back after a reload (chat.startup).
    b.navigate(g.url + "/")
    b.wait("document.querySelector(%r)" % COMPOSER, timeout=30)
    b.wait("document.body.innerText.includes('Streaming words from the fake provider, in parts.')",
           timeout=20)
    assert "hello from OpenClaw's UI" in page_text(b)
    no_errors_shown(b)

    # Opening the other session from the list loads its history (chat.history).
    b.eval("""(() => { const el = [...document.querySelectorAll('a, button, [role=button], [role=link],'
              + ' [role=treeitem], [role=option], li')].find(e => e.innerText && e.innerText.trim() === 'Side notes');
              el.click(); return true; })()""")
    b.wait("document.body.innerText.includes('remember the side notes') &&"
           " document.body.innerText.includes('Noted.')", timeout=20)
    b.screenshot(shots / "openclaw-ui-session.png")
    no_errors_shown(b)

    # pincer's log names OpenClaw's UI as the client; the page logged no error.
    deadline = time.monotonic() + 5
    while "openclaw-control-ui" not in g.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "openclaw-control-ui" in g.output()
    assert not b.errors, b.errors
