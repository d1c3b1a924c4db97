"""`pincer config` against real files: JSON5, includes, env, secrets, errors."""
import json
import os
import stat


def test_missing_file_means_defaults(penv):
    r = penv.run("config", "validate")
    assert r.returncode == 0
    assert "no file: using defaults" in r.stdout
    assert penv.run("config", "get", "gateway.port").stdout == "18789\n"
    assert penv.run("config", "get", "gateway.bind").stdout == "loopback\n"
    assert penv.run("config", "get", "gateway.bind", "--json").stdout == '"loopback"\n'
    r = penv.run("config", "get", "gateway.customBindHost")
    assert r.returncode == 1 and "not set" in r.stderr


def test_json5_config_is_read(penv):
    penv.write_config("""// JSON5, as OpenClaw writes it
{
  $schema: 'https://example.invalid/schema.json',
  gateway: {
    port: 0x4A3B,          // hex
    bind: 'lan',
    auth: {mode: "token", token: 'abc\\
def',},                   // line continuation, trailing commas
  },
  agents: {defaults: {maxConcurrent: +2}, list: [{id: 'main', default: true,},],},
}
""")
    assert penv.run("config", "validate").returncode == 0
    assert penv.run("config", "get", "gateway.port").stdout == "%d\n" % 0x4A3B
    assert penv.run("config", "get", "agents.defaults.maxConcurrent").stdout == "2\n"
    assert penv.run("config", "get", "agents.list[0].id").stdout == "main\n"
    # Credentials are masked unless asked for.
    assert penv.run("config", "get", "gateway.auth.token").stdout == "__REDACTED__\n"
    assert penv.run("config", "get", "gateway.auth.token",
                    "--show-secrets").stdout == "abcdef\n"
    out = json.loads(penv.run("config", "get", "gateway.auth", "--json").stdout)
    assert out == {"mode": "token", "token": "__REDACTED__"}


def test_errors_name_file_line_col_and_key(penv):
    path = penv.write_config("""{
  gateway: {
    port: "18789",
    bnd: "lan",
    auth: {mode: "tokn"},
  },
  logging: {level: "loud"},
}
""")
    r = penv.run("config", "validate")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0] == "pincer: invalid config %s:" % path
    assert "%s:3:5: gateway.port: expected integer, got string" % path in lines
    assert "%s:4:5: gateway.bnd: unknown key; did you mean \"bind\"?" % path in lines
    assert any(l.startswith("%s:5:12: gateway.auth.mode: invalid value \"tokn\"" % path)
               for l in lines)
    assert any(l.startswith("%s:7:13: logging.level: invalid value \"loud\"" % path)
               for l in lines)
    # config get refuses to read an invalid config, naming the same problems
    r = penv.run("config", "get", "gateway.port")
    assert r.returncode == 1 and "gateway.port: expected integer" in r.stderr
    r = penv.run("config", "validate", "--json")
    out = json.loads(r.stdout)
    assert out["valid"] is False and out["exists"] is True and len(out["errors"]) == 4
    assert all(e.startswith(str(path) + ":") for e in out["errors"])


def test_syntax_error_position(penv):
    path = penv.write_config('{\n  gateway: {\n    port: 18789\n    bind: "lan"\n  }\n}\n')
    r = penv.run("config", "validate")
    assert r.returncode == 1
    assert r.stderr.splitlines()[1].startswith("%s:4:5: " % path)
    assert "expected" in r.stderr


def test_unknown_top_level_section_and_schema_key(penv):
    penv.write_config('{"$schema": "x", "bogus": {}}')
    r = penv.run("config", "validate")
    assert r.returncode == 1 and ":1:18: bogus: unknown key" in r.stderr
    # OpenClaw sections pincer does not implement yet are accepted as they are.
    penv.write_config('{channels: {telegram: {enabled: true}}, tools: {profile: "coding"}}')
    assert penv.run("config", "validate").returncode == 0


def test_set_writes_atomically_with_private_modes(penv):
    penv.write_config("""{
  // a comment that set cannot keep
  gateway: {port: 19000, auth: {mode: "token", token: "${GW_TOKEN}"}},
  $include: "./extra.json5",
}
""")
    (penv.state / "extra.json5").write_text('{logging: {level: "debug"}}')
    os.chmod(penv.state, 0o755)
    r = penv.run("config", "set", "gateway.bind", "lan", env={"GW_TOKEN": "t0ken-value"})
    assert r.returncode == 0, r.stderr
    assert "restart the gateway" in r.stdout
    raw = json.loads(penv.config.read_text())
    # The rest of the file is kept as written: ${VAR} and $include untouched.
    assert raw == {"gateway": {"port": 19000, "bind": "lan",
                               "auth": {"mode": "token", "token": "${GW_TOKEN}"}},
                   "$include": "./extra.json5"}
    assert stat.S_IMODE(penv.config.stat().st_mode) == 0o600
    assert stat.S_IMODE(penv.state.stat().st_mode) == 0o700
    assert not [p for p in penv.state.iterdir() if ".tmp" in p.name]
    env = {"GW_TOKEN": "t0ken-value"}
    assert penv.run("config", "get", "logging.level", env=env).stdout == "debug\n"


def test_set_creates_state_dir_0700(penv):
    assert not penv.state.exists()
    r = penv.run("config", "set", "gateway.port", "19001")
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(penv.state.stat().st_mode) == 0o700
    assert json.loads(penv.config.read_text()) == {"gateway": {"port": 19001}}


def test_set_value_parsing_and_validation(penv):
    assert penv.run("config", "set", "gateway.controlUi.allowedOrigins",
                    '["https://a.example", "https://b.example"]').returncode == 0
    assert penv.run("config", "set", "agents.list[0]", "{id: 'main'}").returncode == 0
    assert penv.run("config", "set", "agents.list[1].id", "work").returncode == 0
    raw = json.loads(penv.config.read_text())
    assert raw["agents"]["list"] == [{"id": "main"}, {"id": "work"}]
    assert raw["gateway"]["controlUi"]["allowedOrigins"][1] == "https://b.example"
    before = penv.config.read_text()
    r = penv.run("config", "set", "gateway.port", "70000")
    assert r.returncode == 1 and "out of range" in r.stderr
    r = penv.run("config", "set", "gateway.port", "port")
    assert r.returncode == 1 and "expected integer, got string" in r.stderr
    r = penv.run("config", "set", "gateway.bind", "lna")
    assert r.returncode == 1 and 'did you mean "lan"' in r.stderr
    r = penv.run("config", "set", "gateway.prot", "1")
    assert r.returncode == 1 and "did you mean 'gateway.port'" in r.stderr
    r = penv.run("config", "set", "gateway.port", "{", "--strict-json")
    assert r.returncode == 2 and "not valid JSON5" in r.stderr
    assert penv.config.read_text() == before  # nothing written on failure


def test_unset(penv):
    penv.run("config", "set", "gateway.port", "19002")
    r = penv.run("config", "unset", "gateway.port")
    assert r.returncode == 0
    assert penv.run("config", "get", "gateway.port").stdout == "18789\n"
    r = penv.run("config", "unset", "gateway.port")
    assert r.returncode == 1 and "is not set" in r.stderr


def test_set_refuses_to_edit_unparseable_file(penv):
    penv.write_config("{gateway: {port: 1,,}}")
    r = penv.run("config", "set", "gateway.port", "2")
    assert r.returncode == 1 and ":1:20:" in r.stderr
    assert penv.config.read_text() == "{gateway: {port: 1,,}}"


def test_includes(penv):
    (penv.state / "conf.d").mkdir(parents=True)
    penv.write_config("""{
  $include: ["./conf.d/a.json5", "./conf.d/b.json5"],
  gateway: {port: 19100},
}""")
    (penv.state / "conf.d" / "a.json5").write_text(
        '{gateway: {port: 1, bind: "lan"}, logging: {level: "warn"}}')
    (penv.state / "conf.d" / "b.json5").write_text(
        '{logging: {level: "error"}, $include: "./c.json5"}')
    (penv.state / "conf.d" / "c.json5").write_text('{session: {dmScope: "per-peer"}}')
    assert penv.run("config", "validate").returncode == 0
    get = lambda k: penv.run("config", "get", k).stdout.strip()
    assert get("gateway.port") == "19100"      # the including file wins
    assert get("gateway.bind") == "lan"        # merged from a
    assert get("logging.level") == "error"     # later include wins
    assert get("session.dmScope") == "per-peer"  # nested, relative to b


def test_include_errors(penv):
    penv.write_config('{\n  $include: "./a.json5",\n}')
    (penv.state / "a.json5").write_text('{\n  $include: "./pincer.json",\n}')
    r = penv.run("config", "validate")
    assert r.returncode == 1 and "include cycle" in r.stderr
    penv.write_config('{\n  $include: "./missing.json5",\n}')
    r = penv.run("config", "validate")
    assert r.returncode == 1
    assert ":2:3: $include: cannot include \"./missing.json5\"" in r.stderr
    # An error inside an included file names that file and its line.
    penv.write_config('{$include: "./bad.json5"}')
    bad = penv.state / "bad.json5"
    bad.write_text('{\n  gateway: {\n    port: true,\n  },\n}')
    r = penv.run("config", "validate")
    assert "%s:3:5: gateway.port: expected integer, got boolean" % bad in r.stderr


def test_env_substitution_and_dotenv(penv):
    penv.write_config("""{
  gateway: {auth: {mode: "token", token: "${PINCER_TEST_TOKEN}"}},
  agents: {defaults: {workspace: "$${HOME}/ws"}},
  env: {vars: {FROM_CONFIG: "cfg"}},
}""")
    r = penv.run("config", "validate")
    assert r.returncode == 1
    assert ":2:35: gateway.auth.token: environment variable PINCER_TEST_TOKEN is not set" \
        in r.stderr
    # .env in the state dir supplies it; the process env wins over it.
    (penv.state / ".env").write_text("# secrets\nPINCER_TEST_TOKEN=from-dotenv\n")
    show = ("config", "get", "gateway.auth.token", "--show-secrets")
    assert penv.run(*show).stdout == "from-dotenv\n"
    assert penv.run(*show, env={"PINCER_TEST_TOKEN": "from-env"}).stdout == "from-env\n"
    # ./.env in the working directory comes before the state dir's.
    (penv.home / ".env").write_text("PINCER_TEST_TOKEN=from-cwd\n")
    assert penv.run(*show).stdout == "from-cwd\n"
    # $${VAR} is an escape for the literal text.
    assert penv.run("config", "get", "agents.defaults.workspace").stdout == "${HOME}/ws\n"


def test_secret_refs(penv, tmp_path):
    secrets = penv.home / "secrets.json"
    secrets.write_text(json.dumps({"gateway": {"token": "file-token"}}))
    os.chmod(secrets, 0o600)
    penv.write_config(json.dumps({
        "secrets": {"providers": {"vault": {"source": "file", "path": str(secrets),
                                            "mode": "json"}}},
        "gateway": {"auth": {"mode": "token", "token": {
            "source": "file", "provider": "vault", "id": "/gateway/token"}}},
    }))
    assert penv.run("config", "validate").returncode == 0
    bad = {"source": "env", "provider": "default", "id": "lower-case"}
    penv.write_config(json.dumps({"gateway": {"auth": {"token": bad}}}))
    r = penv.run("config", "validate")
    assert r.returncode == 1 and "gateway.auth.token: invalid SecretRef" in r.stderr


def test_schema(penv):
    doc = json.loads(penv.run("config", "schema").stdout)
    port = doc["properties"]["gateway"]["properties"]["port"]
    assert port["type"] == "integer" and port["default"] == 18789
    assert port["x-reload"] == "restart"
    assert doc["additionalProperties"] is False
    one = json.loads(penv.run("config", "schema", "agents.list[0].id").stdout)
    assert one["type"] == "string" and one["reloadKind"] == "hot"
    keys = penv.run("config", "schema", "--keys").stdout.split()
    assert "gateway.port" in keys and "models.providers.*.baseUrl" in keys
