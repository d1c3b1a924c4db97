"""Skills stay fresh without rescanning on every turn: the gateway watches
the skill folders (skills.load.watch, on by default) and a skill dropped
into <workspace>/skills, edited, or removed shows in the next turn's
<available_skills>, as the fake provider's recorded system prompt shows.
With the watch off, the old time-based rescan still picks changes up.
"""
import shutil
import time

from agentkit import config, fake, run_agent  # noqa: F401
from wsclient import connected
from agentkit import TOKEN

# The watch debounces for 250 ms; this leaves room for a loaded machine.
SETTLE = 1.5


def skill(root, name, description, extra=""):
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n{extra}---\n\n# {name}\n")
    return d


def system_prompt(fake):  # noqa: F811
    body = fake.requests[-1]["body"]
    assert body["messages"][0]["role"] == "system"
    return body["messages"][0]["content"]


def turn(c, fake, text="hi"):  # noqa: F811
    fake.script([{"text": "ok"}])
    _, final, _ = run_agent(c, text, sessionKey="agent:main:main")
    assert final["ok"], final
    return system_prompt(fake)


def start(penv, gateway, fake, tmp_path, top=""):  # noqa: F811
    ws = config(penv, fake, top=top)
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    g = gateway(env={"PINCER_BUNDLED_SKILLS_DIR": str(bundled)})
    return ws, g


def test_new_skill_in_a_fresh_workspace_reaches_the_next_turn(penv, gateway, fake, tmp_path):  # noqa: F811
    ws, g = start(penv, gateway, fake, tmp_path)
    with connected(g.port, token=TOKEN) as c:
        assert "<available_skills>" not in turn(c, fake)
        # <workspace>/skills does not exist yet: the watch is on the workspace for it.
        assert not (ws / "skills").exists()
        skill(ws / "skills", "otter-facts", "Facts about otters.")
        # clients showing skills hear of it
        ev = c.event("skills.changed", timeout=5)
        assert ev["payload"]["reason"] == "watch" and ev["payload"]["agentId"] == "main"
        time.sleep(SETTLE)
        p = turn(c, fake)
        assert "<name>otter-facts</name>" in p and "Facts about otters." in p
        assert str((ws / "skills" / "otter-facts" / "SKILL.md").resolve()) in p

        # A second skill in the now-existing root, and an edit of the first.
        skill(ws / "skills", "beaver-facts", "Facts about beavers.")
        skill(ws / "skills", "otter-facts", "Otters, updated.")
        time.sleep(SETTLE)
        p = turn(c, fake)
        assert "<name>beaver-facts</name>" in p and "Otters, updated." in p
        assert "Facts about otters." not in p

        # Removing a skill folder takes it out again.

        shutil.rmtree(ws / "skills" / "beaver-facts")
        time.sleep(SETTLE)
        p = turn(c, fake)
        assert "beaver-facts" not in p and "<name>otter-facts</name>" in p
    # The watches are closed at shutdown: the gateway exits cleanly, not on a timeout.
    assert g.stop() == 0


def test_managed_dir_and_editor_style_saves(penv, gateway, fake, tmp_path):  # noqa: F811
    ws, g = start(penv, gateway, fake, tmp_path)
    managed = penv.state / "skills"
    skill(managed, "shared", "A shared skill.")
    with connected(g.port, token=TOKEN) as c:
        assert "A shared skill." in turn(c, fake)
        # Editors write a temporary file and rename it over SKILL.md.
        tmp = managed / "shared" / ".SKILL.md.swp"
        tmp.write_text("---\nname: shared\ndescription: Saved by an editor.\n---\n")
        tmp.rename(managed / "shared" / "SKILL.md")
        time.sleep(SETTLE)
        assert "Saved by an editor." in turn(c, fake)


def test_gating_follows_config_reload(penv, gateway, fake, tmp_path):  # noqa: F811
    ws, g = start(penv, gateway, fake, tmp_path)
    skill(ws / "skills", "gated", "Needs a key.",
          'metadata: {"openclaw": {"requires": {"env": ["GATED_TEST_KEY"]}}}\n')
    with connected(g.port, token=TOKEN) as c:
        assert "gated" not in turn(c, fake)
        # Giving the skill its env in the config makes it eligible after the reload.
        config(penv, fake, top='skills: { entries: { gated: { env: { GATED_TEST_KEY: "x" } } } },')
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "<name>gated</name>" in turn(c, fake):
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the config reload did not make the skill eligible")


def test_watch_off_still_rescans(penv, gateway, fake, tmp_path):  # noqa: F811
    ws, g = start(penv, gateway, fake, tmp_path, top="skills: { load: { watch: false } },")
    with connected(g.port, token=TOKEN) as c:
        turn(c, fake)
        skill(ws / "skills", "late", "Arrived late.")
        # Without a watch the snapshot is rescanned once it is 5 s old.
        time.sleep(5.5)
        assert "<name>late</name>" in turn(c, fake)
