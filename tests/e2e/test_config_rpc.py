"""End-to-end tests of the config RPCs (config.get, config.schema,
config.schema.lookup, config.set, config.patch, config.apply) and of live
reload when the file changes on disk.

Shapes and error texts are OpenClaw 2026.9.6's, as probed against the real
gateway: the redaction sentinel, the baseHash messages, the rate-limit
error, config.changed {path, hash, ts}.
"""
import json
import os
import re
import stat
import time

import pytest

from wsclient import connected

pytestmark = pytest.mark.timeout(90)

TOKEN = "test-token-123"
R = "__OPENCLAW_REDACTED__"

BASE = """// pincer config for the RPC tests
{
  gateway: { auth: { token: "%s" } },
  models: { providers: { fake: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-live-abcdef",
    api: "openai-completions", models: [{ id: "m1", name: "One" }] } } },
  agents: { list: [{ id: "main", default: true }, { id: "work" }] },
}
""" % TOKEN


@pytest.fixture
def gw(gateway, penv):
    penv.write_config(BASE)
    return gateway()


def admin(g):
    return connected(g.port, token=TOKEN)


def reader(g):
    return connected(g.port, token=TOKEN, scopes=["operator.read"])


def read_file(penv):
    return penv.config.read_bytes()


def wait_for(pred, what, timeout=10):
    """Poll `pred` (no timing assertion: only a deadline for giving up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def replace_file(path, text):
    """Save the way editors do: a temp file renamed over the old one."""
    tmp = path.with_name(path.name + ".swp")
    tmp.write_text(text)
    os.replace(tmp, path)


def stop_clean(g):
    """Stop with SIGTERM: exit 0, and (under make asan) no sanitizer report or leak."""
    rc = g.stop()
    out = g.output()
    assert rc == 0, out
    assert "Sanitizer" not in out and "runtime error:" not in out, out


def err(r):
    assert r["ok"] is False, r
    return r["error"]


# ==== config.get ====


def test_get_redacts_credentials_for_readers(gateway, penv):
    penv.write_config("""{
  // comments survive in raw
  gateway: { auth: { token: "%s" } },
  models: { providers: { fake: { baseUrl: "http://x/v1", apiKey: "${FAKE_KEY}", models: [] },
                         other: { baseUrl: "http://y/v1", apiKey: "sk-other-998877", models: [] } } },
  channels: { telegram: { botToken: "123456:telegram-secret" } },
}
""" % TOKEN)
    g = gateway(env={"FAKE_KEY": "sk-from-env-554433"})
    with reader(g) as c:
        p = c.call("config.get", {})
    blob = json.dumps(p)
    for secret in (TOKEN, "sk-from-env-554433", "sk-other-998877", "telegram-secret"):
        assert secret not in blob
    assert p["path"] == str(penv.config) and p["exists"] is True and p["valid"] is True
    assert "// comments survive in raw" in p["raw"]
    assert 'token: "%s"' % R in p["raw"]
    # a ${VAR} placeholder is not a secret; its value is
    assert "${FAKE_KEY}" in p["raw"]
    assert p["parsed"]["models"]["providers"]["fake"]["apiKey"] == "${FAKE_KEY}"
    assert p["config"]["models"]["providers"]["fake"]["apiKey"] == R
    assert p["parsed"]["channels"]["telegram"]["botToken"] == R
    assert p["parsed"]["models"]["providers"]["fake"]["baseUrl"] == "http://x/v1"
    assert re.fullmatch(r"hmac-sha256:v1:[A-Za-z0-9_-]{43}", p["hash"])
    assert p["configRevisionHash"] == p["appliedConfigHash"]
    assert p["issues"] == [] and p["includedPaths"] == []
    stop_clean(g)


def test_get_without_a_file(gateway, penv):
    g = gateway()
    with reader(g) as c:
        p = c.call("config.get", {})
    assert p["exists"] is False and p["raw"] is None and p["parsed"] == {}
    assert p["valid"] is True and p["hash"].startswith("hmac-sha256:v1:")
    with reader(g) as c:
        assert err(c.request("config.get", {"x": 1}))["code"] == "INVALID_REQUEST"


def test_get_reports_an_invalid_file(gw, penv):
    with reader(gw) as c:
        penv.config.write_text("{ gateway: { bnd: 1 } }")
        p = c.call("config.get", {})
    assert p["valid"] is False and p["raw"] is None and p["config"] == {}
    assert p["issues"][0]["path"] == "gateway.bnd"
    assert p["issues"][0]["line"] == 1 and "unknown key" in p["issues"][0]["message"]


# ==== scopes ====


def test_readers_cannot_write(gw, penv):
    before = read_file(penv)
    for scopes in (["operator.read"], ["operator.write"]):
        with connected(gw.port, token=TOKEN, scopes=scopes) as c:
            h = c.call("config.get", {})["hash"]
            for m in ("config.set", "config.patch", "config.apply"):
                e = err(c.request(m, {"raw": "{}", "baseHash": h}))
                assert e["code"] == "FORBIDDEN"
                assert e["details"]["missingScope"] == "operator.admin"
    assert read_file(penv) == before


# ==== config.patch ====


def test_patch_needs_the_current_base_hash(gw, penv):
    before = read_file(penv)
    with admin(gw) as c:
        e = err(c.request("config.patch", {"raw": "{logging: {level: 'debug'}}"}))
        assert e == {"code": "INVALID_REQUEST",
                     "message": "config base hash required; re-run config.get and retry"}
        e = err(c.request("config.patch", {"raw": "{logging: {level: 'debug'}}",
                                           "baseHash": "hmac-sha256:v1:stale"}))
        assert e["message"] == "config changed since last load; re-run config.get and retry"
        # someone else writes after our read: our hash is stale now
        h = c.call("config.get", {})["hash"]
        replace_file(penv.config, BASE.replace('"One"', '"Uno"'))
        e = err(c.request("config.patch", {"raw": "{logging: {level: 'debug'}}", "baseHash": h}))
        assert e["message"].startswith("config changed since last load")
    assert b"debug" not in read_file(penv) and b"Uno" in read_file(penv)
    assert before != read_file(penv)


def test_invalid_patch_writes_nothing(gw, penv):
    before = read_file(penv)
    with admin(gw) as c:
        h = c.call("config.get", {})["hash"]
        e = err(c.request("config.patch", {"raw": "{logging: {levl: 'debug'}}", "baseHash": h}))
        assert e["code"] == "INVALID_REQUEST"
        # the position is where the patch text said it
        assert e["message"].startswith("invalid config: 1:12: logging.levl: unknown key")
        issue = e["details"]["issues"][0]
        assert (issue["path"], issue["line"], issue["column"]) == ("logging.levl", 1, 12)
        e = err(c.request("config.patch", {"raw": "{gateway: {port: 'x'}}", "baseHash": h}))
        assert "gateway.port: expected integer, got string" in e["message"]
        e = err(c.request("config.patch", {"raw": "{logging: {", "baseHash": h}))
        assert e["message"].startswith("JSON5 parse failed at 1:12:")
        e = err(c.request("config.patch", {"raw": "[1]", "baseHash": h}))
        assert e["message"] == "config.patch raw must be an object"
        e = err(c.request("config.patch", {"raw": "", "baseHash": h}))
        assert e["code"] == "INVALID_REQUEST"
        e = err(c.request("config.patch", {"raw": "{}", "baseHash": h, "zzz": 1}))
        assert e["message"].startswith("invalid config.patch params")
        # ${VAR}s are checked against the gateway's environment before writing
        e = err(c.request("config.patch", {"raw": "{logging: {file: '${NOPE_NOT_SET}'}}",
                                           "baseHash": h}))
        assert "NOPE_NOT_SET" in e["message"]
        assert c.call("config.get", {})["hash"] == h
    assert read_file(penv) == before
    stop_clean(gw)


def test_good_patch_is_written_applied_and_announced(gw, penv):
    with admin(gw) as c, reader(gw) as watcher:
        h = c.call("config.get", {})["hash"]
        r = c.call("config.patch", {
            "raw": """{
              models: { providers: { fake: { models: [{ id: "m2", name: "Two" }] } } },
              agents: { list: [{ id: "ops", name: "Ops" }] },
              logging: { level: "debug" },
            }""",
            "baseHash": h, "note": "via test"})
        assert r["ok"] is True and r["path"] == str(penv.config)
        assert r["hash"] != h and r["restartRequired"] is False
        assert sorted(r["changedPaths"]) == ["agents.list", "logging",
                                             "models.providers.fake.models"]
        assert r["config"]["gateway"]["auth"]["token"] == R
        assert r["sentinel"]["payload"]["stats"] == {
            "mode": "config.patch", "root": str(penv.config), "requiresRestart": False}
        assert r["sentinel"]["payload"]["message"] == "via test"
        ev = watcher.event("config.changed")
        assert ev["payload"]["path"] == str(penv.config)
        assert ev["payload"]["hash"] == r["hash"] and ev["payload"]["ts"] > 0
        # the running gateway sees it
        assert c.call("config.get", {})["hash"] == r["hash"]
        # arrays of {id} objects merge by id
        ids = [m["id"] for m in watcher.call("models.list")["models"]]
        assert ids == ["m1", "m2"]
        agents = [a["id"] for a in watcher.call("agents.list")["agents"]]
        assert agents == ["main", "work", "ops"]
    st = os.stat(penv.config)
    assert stat.S_IMODE(st.st_mode) == 0o600
    on_disk = json.loads(read_file(penv))
    assert on_disk["gateway"]["auth"]["token"] == TOKEN
    assert on_disk["models"]["providers"]["fake"]["apiKey"] == "sk-live-abcdef"
    assert on_disk["logging"] == {"level": "debug"}
    stop_clean(gw)


def test_patch_arrays_merge_by_id_and_removals_need_replace_paths(gw, penv):
    with admin(gw) as c:
        h = c.call("config.get", {})["hash"]
        # null deletes a key inside an id entry; a new id is appended
        r = c.call("config.patch", {"raw": "{agents: {list: [{id: 'main', default: null},"
                                           " {id: 'new'}]}}", "baseHash": h})
        assert r["config"]["agents"]["list"] == [{"id": "main"}, {"id": "work"}, {"id": "new"}]
        # a patch array of {id}s merges: it cannot drop an agent by leaving it out
        r = c.call("config.patch", {"raw": "{agents: {list: [{id: 'main', name: 'M'}]}}",
                                    "baseHash": r["hash"]})
        assert [a["id"] for a in r["config"]["agents"]["list"]] == ["main", "work", "new"]
        # a plain array that loses values needs replacePaths
        r = c.call("config.patch", {"raw": "{models: {providers: {fake: {models: [{id: 'm1',"
                                           " input: ['text', 'image']}]}}}}",
                                    "baseHash": r["hash"]})
        e = err(c.request("config.patch", {"raw": "{models: {providers: {fake: {models: [{id:"
                                                  " 'm1', input: ['text']}]}}}}",
                                           "baseHash": r["hash"]}))
        assert e["message"].startswith("config.patch would remove entries from array path(s): "
                                       "models.providers.fake.models[].input. Pass replacePaths")
        r = c.call("config.patch", {"raw": "{models: {providers: {fake: {models: [{id: 'm1',"
                                           " input: ['text']}]}}}}", "baseHash": r["hash"],
                                    "replacePaths": ["models.providers.fake.models[0].input"]})
        assert r["config"]["models"]["providers"]["fake"]["models"][0]["input"] == ["text"]
        e = err(c.request("config.patch", {"raw": "{agents: {list: null}}",
                                           "baseHash": r["hash"]}))
        assert "agents.list" in e["message"]
        r = c.call("config.patch", {"raw": "{agents: {list: [{id: 'main'}]}}",
                                    "baseHash": r["hash"], "replacePaths": ["agents.list"]})
        assert r["config"]["agents"]["list"] == [{"id": "main"}]
        assert [a["id"] for a in c.call("agents.list")["agents"]] == ["main"]
    stop_clean(gw)


def test_logging_changes_apply_live(gw, penv):
    with admin(gw) as c:
        assert "open from 127.0.0.1" not in gw.output()  # a debug line
        h = c.call("config.get", {})["hash"]
        c.call("config.patch", {"raw": "{logging: {consoleLevel: 'debug'}}", "baseHash": h})
        with reader(gw):
            pass
    wait_for(lambda: "open from 127.0.0.1" in gw.output(), "a debug line after the change")
    stop_clean(gw)


def test_patch_noop(gw, penv):
    before = read_file(penv)
    with admin(gw) as c:
        h = c.call("config.get", {})["hash"]
        r = c.call("config.patch", {"raw": "{agents: {list: [{id: 'work'}]}}", "baseHash": h})
        assert r["noop"] is True and r["changedPaths"] == []
    assert read_file(penv) == before


def test_restart_kind_change_restarts_the_gateway(gw, penv):
    with admin(gw) as c:
        boot = c.hello["server"]["bootId"]
        h = c.call("config.get", {})["hash"]
        r = c.call("config.patch", {"raw": "{gateway: {auth: {rateLimit: {maxAttempts: 7}}}}",
                                    "baseHash": h, "restartDelayMs": 0})
        assert r["restartRequired"] is True
        assert r["restartPaths"] == ["gateway.auth.rateLimit.maxAttempts"]
        assert r["restart"]["ok"] is True and r["restart"]["coalesced"] is False
        assert r["restart"]["mode"] == "exec"
        ev = c.event("shutdown")
        assert ev["payload"] == {"reason": "config change", "restartExpectedMs": 1000}
        assert c.wait_closed()[0] == 1012
    # The same process (exec keeps the pid) comes back on the same port.
    def back():
        try:
            with admin(gw) as c2:
                return c2.hello["server"]["bootId"]
        except Exception:
            return None
    new_boot = wait_for(back, "the restarted gateway")
    assert new_boot != boot
    assert gw.proc.poll() is None
    assert json.loads(gw.runtime.read_text())["pid"] == gw.proc.pid
    assert "restarting to apply the config change" in gw.output()
    # A second restart soon after waits out the cooldown (and is not run here).
    with admin(gw) as c:
        h = c.call("config.get", {})["hash"]
        r = c.call("config.patch", {"raw": "{gateway: {auth: {rateLimit: {maxAttempts: 8}}}}",
                                    "baseHash": h, "restartDelayMs": 0})
        assert r["restart"]["cooldownMsApplied"] > 0
    stop_clean(gw)


def test_masked_credentials_round_trip(gw, penv):
    with admin(gw) as c:
        p = c.call("config.get", {})
        assert R in p["raw"]
        r = c.call("config.set", {"raw": p["raw"].replace('"One"', '"Eins"'),
                                  "baseHash": p["hash"]})
        assert r["config"]["models"]["providers"]["fake"]["apiKey"] == R
        on_disk = json.loads(read_file(penv))
        assert on_disk["gateway"]["auth"]["token"] == TOKEN
        assert on_disk["models"]["providers"]["fake"]["apiKey"] == "sk-live-abcdef"
        assert on_disk["models"]["providers"]["fake"]["models"][0]["name"] == "Eins"
        # the sentinel is not a value anywhere else
        e = err(c.request("config.patch", {"raw": "{logging: {file: '%s'}}" % R,
                                           "baseHash": r["hash"]}))
        assert "logging.file" in e["message"]
        e = err(c.request("config.patch", {"raw": "{gateway: {auth: {password: '%s'}}}" % R,
                                           "baseHash": r["hash"]}))
        assert "gateway.auth.password" in e["message"]
    stop_clean(gw)


# ==== config.set / config.apply ====


def test_set_reports_line_and_column(gw, penv):
    before = read_file(penv)
    with admin(gw) as c:
        h = c.call("config.get", {})["hash"]
        raw = "{\n  gateway: {\n    bnd: 'lan',\n  },\n}"
        e = err(c.request("config.set", {"raw": raw, "baseHash": h}))
        assert e["message"].startswith('invalid config: 3:5: gateway.bnd: unknown key; '
                                       'did you mean "bind"?')
        issue = e["details"]["issues"][0]
        assert (issue["path"], issue["line"], issue["column"]) == ("gateway.bnd", 3, 5)
    assert read_file(penv) == before
    stop_clean(gw)


def test_set_refuses_to_drop_agents_and_apply_replaces(gw, penv):
    with admin(gw) as c, reader(gw) as watcher:
        h = c.call("config.get", {})["hash"]
        raw = "{gateway: {auth: {token: '%s'}}, agents: {list: [{id: 'main'}]}}" % R
        e = err(c.request("config.set", {"raw": raw, "baseHash": h}))
        assert e["message"].startswith("config.set would remove existing agent entries: work.")
        r = c.call("config.apply", {"raw": raw, "baseHash": h, "note": "trim",
                                    "sessionKey": "agent:main:main"})
        assert r["ok"] is True and r["restartRequired"] is False
        assert r["sentinel"]["payload"]["kind"] == "config-apply"
        assert r["sentinel"]["payload"]["sessionKey"] == "agent:main:main"
        assert watcher.event("config.changed")["payload"]["hash"] == r["hash"]
        assert [a["id"] for a in watcher.call("agents.list")["agents"]] == ["main"]
        assert watcher.call("models.list")["models"] == []
    assert json.loads(read_file(penv)) == {"gateway": {"auth": {"token": TOKEN}},
                                           "agents": {"list": [{"id": "main"}]}}
    stop_clean(gw)


def test_first_write_creates_the_file(gateway, penv):
    g = gateway()
    assert not penv.config.exists()
    with admin(g) as c:
        r = c.call("config.patch", {"raw": "{agents: {list: [{id: 'solo'}]}}"})
        assert r["ok"] is True
        assert c.call("agents.list")["defaultId"] == "solo"
    assert stat.S_IMODE(os.stat(penv.config).st_mode) == 0o600
    stop_clean(g)


def test_write_rate_limit(gw, penv):
    with admin(gw) as c:
        for _ in range(30):
            e = err(c.request("config.patch", {"raw": "{}", "baseHash": "x"}))
            assert e["code"] == "INVALID_REQUEST"
        e = err(c.request("config.patch", {"raw": "{}", "baseHash": "x"}))
        assert e["code"] == "UNAVAILABLE"
        assert e["message"].startswith("rate limit exceeded for config.patch; retry after ")
        assert e["retryable"] is True and 0 < e["retryAfterMs"] <= 60000
        assert e["details"] == {"method": "config.patch", "limit": "30 per 60s"}
        # per method: apply has its own budget, and set has none
        assert err(c.request("config.apply", {"raw": "{}", "baseHash": "x"}))["code"] == \
            "INVALID_REQUEST"
        assert err(c.request("config.set", {"raw": "{}", "baseHash": "x"}))["code"] == \
            "INVALID_REQUEST"
    stop_clean(gw)


# ==== config.schema ====


def test_schema_and_lookup(gw):
    with reader(gw) as c:
        s = c.call("config.schema", {})
        assert s["schema"]["type"] == "object" and "gateway" in s["schema"]["properties"]
        assert s["uiHints"]["gateway.auth.token"] == {"label": "Gateway Token",
                                                      "sensitive": True}
        assert s["version"] and s["generatedAt"]
        p = c.call("config.schema.lookup", {"path": "gateway.port"})
        assert p["path"] == "gateway.port" and p["reloadKind"] == "restart"
        assert p["schema"]["type"] == "integer" and p["schema"]["default"] == 18789
        assert p["hint"]["label"] == "Gateway Port" and p["children"] == []
        p = c.call("config.schema.lookup", {"path": "gateway.reload"})
        assert [ch["key"] for ch in p["children"]] == ["mode"]
        assert p["children"][0]["reloadKind"] == "hot"
        p = c.call("config.schema.lookup", {"path": "agents.list[0].id"})
        assert p["path"] == "agents.list.0.id" and p["hintPath"] == "agents.list[].id"
        p = c.call("config.schema.lookup", {"path": "models.providers.fake.apiKey"})
        assert p["hintPath"] == "models.providers.*.apiKey" and p["hint"]["sensitive"] is True
        e = err(c.request("config.schema.lookup", {"path": "nope.zz"}))
        assert e["message"] == "config schema path not found"
        e = err(c.request("config.schema.lookup", {"path": "a b"}))
        assert e["code"] == "INVALID_REQUEST"
    stop_clean(gw)


# ==== live reload from disk ====


def test_file_edit_is_applied_and_announced(gw, penv):
    with reader(gw) as c:
        replace_file(penv.config, BASE.replace("{ id: \"work\" }", "{ id: \"work\" }, { id: \"qa\" }"))
        ev = c.event("config.changed")
        assert ev["payload"]["path"] == str(penv.config)
        assert ev["payload"]["hash"] == c.call("config.get", {})["hash"]
        assert [a["id"] for a in c.call("agents.list")["agents"]] == ["main", "work", "qa"]
        health = c.event("health")
        assert [a["agentId"] for a in health["payload"]["agents"]] == ["main", "work", "qa"]
    assert "config reloaded (file change): agents.list" in gw.output()
    stop_clean(gw)


def test_bad_file_edit_is_logged_and_the_old_config_kept(gw, penv):
    with reader(gw) as c:
        bad = BASE.replace("agents: {", "agents: {\n    lst: [],")
        replace_file(penv.config, bad)
        wait_for(lambda: "keeping the running config" in gw.output(), "the reload error")
        out = gw.output()
        assert re.search(r"%s:7:5: agents\.lst: unknown key" % re.escape(str(penv.config)), out)
        assert [a["id"] for a in c.call("agents.list")["agents"]] == ["main", "work"]
        # fixing the file applies it
        replace_file(penv.config, BASE.replace('{ id: "work" }', '{ id: "fixed" }'))
        c.event("config.changed")
        assert [a["id"] for a in c.call("agents.list")["agents"]] == ["main", "fixed"]
    stop_clean(gw)


def test_included_file_edits_are_watched(gateway, penv):
    inc = penv.write_config("{ list: [{ id: 'a1' }] }", name="agents.json5")
    penv.write_config('{ gateway: { auth: { token: "%s" } }, agents: { $include: "./agents.json5" } }'
                      % TOKEN)
    g = gateway()
    with reader(g) as c:
        p = c.call("config.get", {})
        assert p["includedPaths"] == [str(inc)]
        replace_file(inc, "{ list: [{ id: 'a1' }, { id: 'a2' }] }")
        ev = c.event("config.changed")
        assert ev["payload"]["hash"] != p["hash"]
        assert [a["id"] for a in c.call("agents.list")["agents"]] == ["a1", "a2"]
    stop_clean(g)


def test_reload_mode_off_ignores_edits(gateway, penv):
    penv.write_config(BASE.replace("gateway: {", "gateway: { reload: { mode: 'off' },"))
    g = gateway()
    with reader(g) as c:
        replace_file(penv.config, BASE.replace("gateway: {", "gateway: { reload: { mode: 'off' },")
                     .replace('{ id: "work" }', '{ id: "other" }'))
        wait_for(lambda: "since gateway.reload.mode is off" in g.output(), "the skip in the log")
        assert [a["id"] for a in c.call("agents.list")["agents"]] == ["main", "work"]
    stop_clean(g)


