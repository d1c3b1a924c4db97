"""skills.status over the gateway: OpenClaw's report (per skill: source,
paths, eligible/disabled/blocked, requirements and what is missing), its
params (agentId, sessionKey; nothing else), and the same JSON as
`pincer skills info --json` gives on the host.
"""
import json

from agentkit import TOKEN
from wsclient import connected

SKILL_KEYS = {
    "name", "description", "source", "bundled", "filePath", "baseDir", "skillKey", "always",
    "disabled", "blockedByAllowlist", "blockedByAgentFilter", "eligible", "platformIncompatible",
    "modelVisible", "userInvocable", "commandVisible", "requirements", "missing", "configChecks",
    "install",
}
REQ_KEYS = {"bins", "anyBins", "env", "config", "os"}


def skill(root, name, description, extra=""):
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n{extra}---\n\n# {name}\n")
    return d


def write_skills(penv, tmp_path, agents=""):
    ws = penv.home / "workspace"
    bundled = tmp_path / "bundled"
    skill(bundled, "bundled-ok", "Bundled and allowed.")
    skill(bundled, "bundled-no", "Bundled, not allowed.")
    skill(ws / "skills", "ready", "Nothing needed.", "user-invocable: false\n")
    skill(ws / "skills", "needy", "Needs things.",
          'metadata: {"openclaw": {"emoji": "🧰", "primaryEnv": "NEEDY_KEY", '
          '"requires": {"bins": ["sh", "no-such-bin-xyz"], "anyBins": ["nope-a", "nope-b"], '
          '"env": ["NEEDY_KEY"], "config": ["browser.enabled", "channels.nothing.enabled"]}, '
          '"install": [{"kind": "uv", "package": "needy-tool", "bins": ["no-such-bin-xyz"]}]}}\n')
    skill(ws / "skills", "switched-off", "Disabled in config.")
    skill(penv.state / "skills", "managed-one", "From the managed dir.")
    penv.write_config("""{
  gateway: { auth: { token: "%s" } },
  agents: { defaults: { workspace: "%s" } %s },
  skills: { allowBundled: ["bundled-ok"], entries: { "switched-off": { enabled: false } } },
}""" % (TOKEN, ws, agents))
    return ws, {"PINCER_BUNDLED_SKILLS_DIR": str(bundled)}


def by_name(report):
    return {s["name"]: s for s in report["skills"]}


def test_report_shape_and_gating(penv, gateway, tmp_path):
    ws, env = write_skills(penv, tmp_path)
    g = gateway(env=env)
    with connected(g.port, token=TOKEN) as c:
        assert "skills.status" in c.hello["features"]["methods"]
        r = c.call("skills.status", {})
    assert r["workspaceDir"] == str(ws)
    assert r["managedSkillsDir"] == str(penv.state / "skills")
    assert r["agentId"] == "main" and "agentSkillFilter" not in r
    s = by_name(r)
    assert set(s) == {"bundled-ok", "bundled-no", "ready", "needy", "switched-off", "managed-one"}
    for k in s.values():
        assert SKILL_KEYS <= set(k), SKILL_KEYS - set(k)
        assert set(k["requirements"]) == REQ_KEYS and set(k["missing"]) == REQ_KEYS

    ok = s["ready"]
    assert ok["source"] == "openclaw-workspace" and not ok["bundled"]
    assert ok["filePath"] == str((ws / "skills" / "ready" / "SKILL.md").resolve())
    assert ok["baseDir"] == str((ws / "skills" / "ready").resolve())
    assert ok["eligible"] and ok["modelVisible"] and not ok["userInvocable"] and not ok["commandVisible"]

    n = s["needy"]
    assert not n["eligible"] and not n["modelVisible"] and not n["disabled"]
    assert n["emoji"] == "🧰" and n["primaryEnv"] == "NEEDY_KEY"
    assert n["requirements"]["bins"] == ["sh", "no-such-bin-xyz"]
    assert n["missing"] == {"bins": ["no-such-bin-xyz"], "anyBins": ["nope-a", "nope-b"],
                            "env": ["NEEDY_KEY"], "config": ["channels.nothing.enabled"], "os": []}
    assert n["configChecks"] == [{"path": "browser.enabled", "satisfied": True},
                                 {"path": "channels.nothing.enabled", "satisfied": False}]
    assert n["install"] == [{"id": "uv-0", "kind": "uv", "label": "Install needy-tool (uv)",
                             "bins": ["no-such-bin-xyz"]}]

    assert s["switched-off"]["disabled"] and not s["switched-off"]["eligible"]
    assert s["bundled-ok"]["bundled"] and s["bundled-ok"]["source"] == "openclaw-bundled"
    assert s["bundled-ok"]["eligible"] and not s["bundled-ok"]["blockedByAllowlist"]
    assert s["bundled-no"]["blockedByAllowlist"] and not s["bundled-no"]["eligible"]
    assert s["managed-one"]["source"] == "openclaw-managed" and s["managed-one"]["eligible"]


def test_same_json_as_the_cli(penv, gateway, tmp_path):
    ws, env = write_skills(penv, tmp_path)
    g = gateway(env=env)
    with connected(g.port, token=TOKEN) as c:
        rpc = by_name(c.call("skills.status", {"agentId": "main"}))
    for name in ("needy", "ready", "bundled-no"):
        out = penv.run("skills", "info", name, "--json", env=env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == rpc[name]


def test_agent_filter_and_params(penv, gateway, tmp_path):
    ws = penv.home / "workspace"
    ws, env = write_skills(penv, tmp_path, agents=""", list: [{ id: "main", default: true },
      { id: "kids", workspace: "%s", skills: ["ready"] }]""" % ws)
    g = gateway(env=env)
    with connected(g.port, token=TOKEN) as c:
        r = c.call("skills.status", {"agentId": "Kids"})
        assert r["agentId"] == "kids" and r["agentSkillFilter"] == ["ready"]
        assert r["workspaceDir"] == str(ws)
        s = by_name(r)
        assert not s["ready"]["blockedByAgentFilter"] and s["ready"]["modelVisible"]
        assert s["managed-one"]["blockedByAgentFilter"] and s["managed-one"]["eligible"]
        assert not s["managed-one"]["modelVisible"] and not s["managed-one"]["commandVisible"]

        assert "agentSkillFilter" not in c.call("skills.status", {"agentId": "main"})

        bad = c.request("skills.status", {"agentId": "nope"})
        assert not bad["ok"] and bad["error"]["code"] == "INVALID_REQUEST"
        assert bad["error"]["message"] == 'unknown agent id "nope"'
        for params in ({"agentId": ""}, {"extra": 1}, {"agentId": 5}):
            bad = c.request("skills.status", params)
            assert not bad["ok"] and bad["error"]["code"] == "INVALID_REQUEST", params
        bad = c.request("skills.status", {"sessionKey": "agent:main:nope"})
        assert not bad["ok"] and bad["error"]["message"] == "Session not found."


def test_read_scope_is_enough(penv, gateway, tmp_path):
    ws, env = write_skills(penv, tmp_path)
    g = gateway(env=env)
    with connected(g.port, token=TOKEN, scopes=["operator.read"]) as c:
        assert by_name(c.call("skills.status", {}))["ready"]["eligible"]
