"""The Control UI's skills list, in headless Chromium: skills.status rows
grouped by source as OpenClaw groups them, each with its status (ready,
needs setup, disabled, blocked, not for this agent) and what it is missing
in OpenClaw's words (bin:…, env:…, config:…), and the agent picker.
"""
import json

from test_skills_status import write_skills
from test_ui import artifacts, browser, login, needs_chromium  # noqa: F401


def rows(b):
    return json.loads(b.eval("""JSON.stringify(Object.fromEntries([...document.querySelectorAll(
        'tr[data-skill]')].map(r => [r.dataset.skill, {status: r.dataset.status,
        missing: r.querySelector('.skill-missing').textContent}])))"""))


@needs_chromium
def test_skills_view_shows_gating_and_missing(gateway, penv, browser, tmp_path):  # noqa: F811
    ws = penv.home / "workspace"
    _, env = write_skills(penv, tmp_path, agents=""", list: [{ id: "main", default: true },
      { id: "kids", workspace: "%s", skills: ["ready"] }]""" % ws)
    g = gateway(env=env)
    b = browser
    login(b, g.url + "/")
    b.click("a.navlink[data-route=agents]")
    b.wait("document.querySelector('tr[data-skill=needy]')")

    r = rows(b)
    assert {k: v["status"] for k, v in r.items()} == {
        "ready": "ready", "needy": "needs setup", "switched-off": "disabled",
        "bundled-ok": "ready", "bundled-no": "blocked", "managed-one": "ready"}
    miss = r["needy"]["missing"]
    for part in ("bin:no-such-bin-xyz", "bin:any of (nope-a, nope-b)", "env:NEEDY_KEY",
                 "config:channels.nothing.enabled", "Install needy-tool (uv)"):
        assert part in miss, (part, miss)
    assert "bin:sh" not in miss and "browser.enabled" not in miss
    assert r["ready"]["missing"] == "—" and r["switched-off"]["missing"] == "—"
    groups = b.eval("[...document.querySelectorAll('.skill-group h3')].map(e => e.textContent).join('|')")
    assert groups.startswith("Workspace (3)|Built-in (2)|Installed (1)"), groups
    assert b.eval("document.querySelector('#skills-summary').textContent").startswith("3 of 6 ready")
    b.eval("document.querySelector('#h-sk').scrollIntoView()")
    b.screenshot(artifacts(tmp_path) / "skills.png")

    # Another agent, limited to one skill: the rest are not for it.
    b.eval("""(() => { const s = document.querySelector('#skills-agent'); s.value = 'kids';
        s.dispatchEvent(new Event('change')); })()""")
    b.wait("document.querySelector('tr[data-skill=managed-one]')?.dataset.status === 'not for this agent'")
    r = rows(b)
    assert r["ready"]["status"] == "ready" and r["bundled-ok"]["status"] == "not for this agent"
    assert r["needy"]["status"] == "needs setup"  # still reported: not eligible comes first
    assert "limited to ready" in b.eval("document.querySelector('#skills-summary').textContent")

    unnamed = b.eval("""[...document.querySelectorAll('input, select, textarea, button')].filter(e => !e.hidden &&
        !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).length""")
    assert unnamed == 0
    assert not b.errors, b.errors
