"""models.authStatus: for the default agent's model and every provider,
whether a credential is there and where it comes from (auth profile,
config apiKey, SecretRef, env var, keyless local server), never the
credential itself. `pincer models status --json` is built by the same
function, so the two must agree.
"""
import json

from agentkit import TOKEN
from wsclient import connected

# Keys of the runner's own environment must not leak into these tests.
NO_KEYS = {k: "" for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
                           "OPENROUTER_API_KEY", "OLLAMA_API_KEY", "PINCER_TEST_ANTHROPIC")}

SECRET_ENV = "sk-ant-env-SECRET-0123456789"
SECRET_CFG = "sk-ant-cfg-SECRET-0123456789"
SECRET_PROFILE = "sk-ant-prof-SECRET-0123456789"


def write(penv, model, providers=""):
    penv.write_config("""{
  gateway: { auth: { token: "%s" } },
  models: { providers: { %s } },
  agents: { defaults: { model: { primary: "%s" } } },
}""" % (TOKEN, providers, model))


def status(g, **params):
    with connected(g.port, token=TOKEN, scopes=["operator.read"]) as c:
        assert "models.authStatus" in c.hello["features"]["methods"]
        r = c.request("models.authStatus", params)
    assert r["ok"], r
    text = json.dumps(r["payload"])
    for s in (SECRET_ENV, SECRET_CFG, SECRET_PROFILE, "SECRET"):
        assert s not in text, text
    return r["payload"]


def row(payload, provider):
    rows = [p for p in payload["providers"] if p["provider"] == provider]
    assert len(rows) == 1, payload["providers"]
    return rows[0]


def test_no_key_says_what_is_missing(penv, gateway):
    write(penv, "anthropic/claude-sonnet-5")
    g = gateway(env=NO_KEYS)
    p = status(g)
    assert p["agentId"] == "main" and isinstance(p["ts"], int)
    m = p["defaultModel"]
    assert m["model"] == "anthropic/claude-sonnet-5" and m["provider"] == "anthropic"
    assert m["usable"] is False and m["credentials"] == []
    assert "ANTHROPIC_API_KEY" in m["problem"] and "models.providers.anthropic.apiKey" in m["problem"]
    a = row(p, "anthropic")
    assert a["status"] == "missing" and a["usable"] is False and "apiKey" not in a
    assert a["envVars"] == ["ANTHROPIC_API_KEY"] and a["displayName"] == "Anthropic"
    # The CLI reports the same thing from the same function, and fails.
    r = penv.run("models", "status", "--json", env=NO_KEYS)
    assert r.returncode == 1
    cli = json.loads(r.stdout)
    assert cli["usable"] is False and cli["problem"] == m["problem"]
    r = penv.run("models", "status", env=NO_KEYS)
    assert "ANTHROPIC_API_KEY" in r.stdout


def test_env_key(penv, gateway):
    write(penv, "anthropic/claude-sonnet-5")
    g = gateway(env=dict(NO_KEYS, ANTHROPIC_API_KEY=SECRET_ENV))
    p = status(g)
    m = p["defaultModel"]
    assert m["usable"] is True and "problem" not in m
    assert m["credentials"] == [{"id": "anthropic:env", "hasKey": True, "availableAt": 0,
                                 "source": "env", "envVar": "ANTHROPIC_API_KEY"}]
    a = row(p, "anthropic")
    assert a["status"] == "static" and a["apiKey"] == {"source": "env", "envVar": "ANTHROPIC_API_KEY"}
    r = penv.run("models", "status", "--json", env=dict(NO_KEYS, ANTHROPIC_API_KEY=SECRET_ENV))
    assert r.returncode == 0 and SECRET_ENV not in r.stdout
    assert json.loads(r.stdout)["credentials"] == m["credentials"]


def test_config_key(penv, gateway):
    write(penv, "anthropic/claude-sonnet-5", 'anthropic: { apiKey: "%s" }' % SECRET_CFG)
    g = gateway(env=NO_KEYS)
    p = status(g)
    m = p["defaultModel"]
    assert m["usable"] is True
    assert m["credentials"][0]["source"] == "config" and "envVar" not in m["credentials"][0]
    assert row(p, "anthropic")["apiKey"] == {"source": "config"}


def test_secretref_that_does_not_resolve_then_does(penv, gateway):
    write(penv, "anthropic/claude-sonnet-5",
          'anthropic: { apiKey: { source: "env", provider: "default", id: "PINCER_TEST_ANTHROPIC" } }')
    g = gateway(env=NO_KEYS)
    p = status(g)
    m = p["defaultModel"]
    assert m["usable"] is False and "PINCER_TEST_ANTHROPIC" in m["problem"]
    a = row(p, "anthropic")
    assert a["status"] == "missing" and a["secretRef"] == {"source": "env", "envVar": "PINCER_TEST_ANTHROPIC"}
    g.stop()
    g = gateway(env=dict(NO_KEYS, PINCER_TEST_ANTHROPIC=SECRET_ENV))
    p = status(g)
    m = p["defaultModel"]
    assert m["usable"] is True
    assert m["credentials"][0]["source"] == "secretRef"
    assert m["credentials"][0]["envVar"] == "PINCER_TEST_ANTHROPIC"
    assert row(p, "anthropic")["apiKey"] == {"source": "env", "envVar": "PINCER_TEST_ANTHROPIC"}


def test_auth_profile(penv, gateway):
    write(penv, "anthropic/claude-sonnet-5")
    d = penv.state / "agents" / "main" / "agent"
    d.mkdir(parents=True)
    (d / "auth-profiles.json").write_text(json.dumps({"version": 1, "profiles": {
        "anthropic:work": {"type": "api_key", "provider": "anthropic", "key": SECRET_PROFILE},
        "anthropic:ref": {"type": "api_key", "provider": "anthropic",
                          "keyRef": {"source": "env", "provider": "default", "id": "PINCER_NOPE"}},
        "openai:old": {"type": "oauth", "provider": "openai", "access": SECRET_PROFILE}}}))
    g = gateway(env=NO_KEYS)
    p = status(g)
    m = p["defaultModel"]
    assert m["usable"] is True
    assert [c["id"] for c in m["credentials"]] == ["anthropic:work"]
    assert m["credentials"][0]["source"] == "profile"
    profs = {x["profileId"]: x for x in row(p, "anthropic")["profiles"]}
    assert profs["anthropic:work"]["status"] == "static" and profs["anthropic:work"]["source"] == "saved"
    assert profs["anthropic:ref"]["status"] == "missing"
    assert profs["anthropic:ref"]["reasonCode"] == "unresolved_ref"
    o = row(p, "openai")
    assert o["status"] == "missing" and o["profiles"][0]["reasonCode"] == "oauth_unsupported"


def test_keyless_ollama(penv, gateway):
    write(penv, "ollama/llama3.3")
    g = gateway(env=NO_KEYS)
    p = status(g)
    m = p["defaultModel"]
    assert m["usable"] is True and m["keyless"] is True
    assert m["credentials"] == [{"id": "ollama:env", "hasKey": False, "availableAt": 0, "source": "keyless"}]
    o = row(p, "ollama")
    assert o["usable"] is True and o["keyless"] is True and "apiKey" not in o


def test_no_model_and_bad_params(penv, gateway):
    penv.write_config('{ gateway: { auth: { token: "%s" } } }' % TOKEN)
    g = gateway(env=NO_KEYS)
    p = status(g)
    assert p["defaultModel"]["model"] is None and p["defaultModel"]["usable"] is False
    assert "no model" in p["defaultModel"]["problem"]
    with connected(g.port, token=TOKEN) as c:
        r = c.request("models.authStatus", {"agentId": "../../etc"})
        assert not r["ok"] and r["error"]["code"] == "INVALID_REQUEST"
        assert "unknown agent id" in r["error"]["message"]
        r = c.request("models.authStatus", {"bogus": 1})
        assert not r["ok"] and r["error"]["code"] == "INVALID_REQUEST"
        assert c.call("models.authStatus", {"agentId": "main", "refresh": True})["agentId"] == "main"
