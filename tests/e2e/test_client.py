"""pincer's gateway client commands against pincer's own gateway:
`gateway call`, `gateway status`, `health` and `status`, including a wrong
token, missing credentials, a gateway that is not running, a stale runtime
file and a server that never answers.

Every gateway is started by the `gateway` fixture (port 0, private state
dir) and killed at teardown.
"""
import json
import os
import socket
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.timeout(90)

VERSION = (ROOT / "VERSION").read_text().strip()
TOKEN = "client-test-token-7f3e"


@pytest.fixture
def gw(gateway, penv):
    penv.write_config('{gateway: {auth: {token: "%s"}}}' % TOKEN)
    return gateway()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def other_state(penv, name, config=None):
    """A second state dir for the client, so that it does not share the gateway's."""
    d = penv.home / name
    d.mkdir(mode=0o700)
    if config is not None:
        (d / "pincer.json").write_text(config)
    return {"PINCER_STATE_DIR": str(d)}


def assert_no_secret(r, secret=TOKEN):
    assert secret not in r.stdout and secret not in r.stderr


# ==== gateway call ====


def test_call_health_finds_the_local_gateway(gw, penv):
    # No options: the port comes from gateway.json, the token from the config.
    r = penv.run("gateway", "call", "health")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True and doc["defaultAgentId"] == "main"
    assert "\n  " in r.stdout
    assert r.stderr == ""
    assert_no_secret(r)


def test_call_json_is_one_compact_line(gw, penv):
    r = penv.run("gateway", "call", "health", "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1
    assert json.loads(r.stdout)["ok"] is True


def test_call_status_with_params(gw, penv):
    r = penv.run("gateway", "call", "status", "--params", "{}", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["runtimeVersion"] == VERSION


def test_call_with_explicit_url_port_and_token(gw, penv):
    for args in (["--url", f"ws://127.0.0.1:{gw.port}", "--token", TOKEN],
                 ["--port", str(gw.port), "--token", TOKEN],
                 ["--url", f"ws://localhost:{gw.port}/"]):
        r = penv.run("gateway", "call", "health", "--json", *args)
        assert r.returncode == 0, (args, r.stderr)


def test_call_bad_params_is_a_usage_error(penv):
    for bad in ("{x", "[1, 2]", "3"):
        r = penv.run("gateway", "call", "health", "--params", bad)
        assert r.returncode == 2, (bad, r.stderr)
        assert r.stderr.startswith("pincer gateway call: --params")
    r = penv.run("gateway", "call")
    assert r.returncode == 2
    r = penv.run("gateway", "call", "health", "--url", "http://127.0.0.1:1/")
    assert r.returncode == 2 and "--url" in r.stderr


def test_call_unknown_method(gw, penv):
    r = penv.run("gateway", "call", "no.such.method")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == "error: INVALID_REQUEST: unknown method: no.such.method\n"


def test_call_wrong_token(gw, penv):
    r = penv.run("gateway", "call", "health", "--token", "not-the-token")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0].startswith("error: INVALID_REQUEST: unauthorized: gateway token mismatch")
    assert lines[1] == ("hint: the gateway refused the token (from --token); check "
                        "gateway.auth.token or PINCER_GATEWAY_TOKEN")
    assert r.stdout == ""
    assert_no_secret(r, "not-the-token")
    # The same, with the token from the environment.
    r = penv.run("gateway", "call", "health", env={"PINCER_GATEWAY_TOKEN": "env-wrong-token"})
    assert r.returncode == 1
    assert "(from PINCER_GATEWAY_TOKEN)" in r.stderr
    assert_no_secret(r, "env-wrong-token")


def test_call_environment_token_beats_config(gw, penv):
    r = penv.run("gateway", "call", "health", env={"OPENCLAW_GATEWAY_TOKEN": TOKEN})
    assert r.returncode == 0, r.stderr


def test_call_without_credentials(gw, penv):
    env = other_state(penv, "client")
    env["PINCER_GATEWAY_PORT"] = str(gw.port)
    r = penv.run("gateway", "call", "health", env=env)
    assert r.returncode == 1
    assert r.stderr.startswith("error: ")
    assert "hint: the gateway wants credentials" in r.stderr and "--token" in r.stderr


def test_call_when_no_gateway_runs(penv):
    port = free_port()
    r = penv.run("gateway", "call", "health", env={"PINCER_GATEWAY_PORT": str(port)})
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f"error: UNAVAILABLE: cannot connect to ws://127.0.0.1:{port}: connection refused",
        "hint: no gateway is running here; start one with 'pincer gateway run'",
    ]


def test_stale_runtime_file_is_ignored(penv):
    # A gateway.json whose pid is gone must not be used to find the port.
    dead = subprocess.Popen(["true"])
    dead.wait()
    port = free_port()
    penv.state.mkdir(mode=0o700, exist_ok=True)
    (penv.state / "gateway.json").write_text(
        json.dumps({"pid": dead.pid, "port": 1, "host": "127.0.0.1", "version": VERSION,
                    "startedAt": 0}))
    r = penv.run("gateway", "call", "health", env={"PINCER_GATEWAY_PORT": str(port)})
    assert r.returncode == 1
    assert f"ws://127.0.0.1:{port}:" in r.stderr
    r = penv.run("gateway", "status", env={"PINCER_GATEWAY_PORT": str(port)})
    assert r.returncode == 1
    assert f"stale gateway.json: pid {dead.pid} is gone" in r.stdout


def test_call_times_out_on_a_silent_server(penv):
    # Accepts TCP connections and never answers the WebSocket upgrade.
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        r = penv.run("gateway", "call", "health", "--url", f"ws://127.0.0.1:{port}",
                     "--timeout", "300")
    assert r.returncode == 1
    assert r.stderr.startswith("error: ")
    assert "TIMEOUT" in r.stderr or "timed out" in r.stderr


def test_remote_mode_uses_remote_url_and_token(gw, penv):
    env = other_state(penv, "remote", '{gateway: {mode: "remote", remote: '
                                      '{url: "ws://127.0.0.1:%d", token: "%s"}}}'
                      % (gw.port, TOKEN))
    r = penv.run("gateway", "call", "health", "--json", env=env)
    assert r.returncode == 0, r.stderr
    env = other_state(penv, "remote2", '{gateway: {mode: "remote"}}')
    r = penv.run("gateway", "call", "health", env=env)
    assert r.returncode == 1
    assert "gateway.remote.url is not set" in r.stderr


def test_secret_ref_token_from_environment(gateway, penv):
    penv.write_config('{gateway: {auth: {token: {source: "env", id: "GW_TOKEN_FOR_TEST"}}}}')
    g = gateway(env={"GW_TOKEN_FOR_TEST": TOKEN})
    r = penv.run("gateway", "call", "health", "--json", env={"GW_TOKEN_FOR_TEST": TOKEN})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"] is True


# ==== health ====


def test_health_summary_and_json(gw, penv):
    r = penv.run("health")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"Gateway: ok (ws://127.0.0.1:{gw.port}, answered in ")
    assert "Agents: main (default)" in lines
    assert "Sessions: 0" in lines
    assert "Channels: none configured" in lines
    r = penv.run("health", "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["ok"] is True


def test_health_wrong_token_and_no_gateway(gw, penv):
    r = penv.run("health", "--token", "nope-nope")
    assert r.returncode == 1 and r.stderr.startswith("error: INVALID_REQUEST: unauthorized")
    gw.stop()
    r = penv.run("health")
    assert r.returncode == 1 and r.stderr.startswith("error: UNAVAILABLE: cannot connect")


# ==== status ====


def test_status_overview(gw, penv):
    r = penv.run("status")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("pincer status\n\n")
    assert f"ws://127.0.0.1:{gw.port} (local, gateway.json)" in out
    assert "reachable in" in out and "auth token" in out
    assert f"Version    {VERSION} · up " in out
    assert "Agents     1 (default main) · sessions 0" in out
    assert f"Config     {penv.config}" in out
    assert f"State dir  {penv.state}" in out
    assert_no_secret(r)


def test_status_json(gw, penv):
    r = penv.run("status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["gateway"]["reachable"] is True
    assert doc["gateway"]["url"] == f"ws://127.0.0.1:{gw.port}"
    assert doc["hello"]["type"] == "hello-ok"
    assert doc["hello"]["auth"]["scopes"] == ["operator.read"]
    assert doc["health"]["ok"] is True
    assert doc["status"]["runtimeVersion"] == VERSION
    assert doc["stateDir"] == str(penv.state)
    assert doc["configPath"] == str(penv.config)


def test_status_unreachable(penv):
    port = free_port()
    r = penv.run("status", env={"PINCER_GATEWAY_PORT": str(port)})
    assert r.returncode == 1
    assert "unreachable: cannot connect" in r.stdout and "connection refused" in r.stdout
    assert f"State dir  {penv.state}" in r.stdout
    assert "pincer gateway run" in r.stderr
    r = penv.run("status", "--json", env={"PINCER_GATEWAY_PORT": str(port)})
    doc = json.loads(r.stdout)
    assert doc["gateway"]["reachable"] is False
    assert doc["gateway"]["error"]["code"] == "UNAVAILABLE"
    assert doc["hello"] is None and doc["health"] is None


# ==== gateway status ====


def test_gateway_status_running_and_reachable(gw, penv):
    r = penv.run("gateway", "status")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"Gateway: running (pid {gw.proc.pid}, pincer {VERSION}, up ")
    assert f"Listening: 127.0.0.1:{gw.port}" in lines
    assert f"Probe target: ws://127.0.0.1:{gw.port} (gateway.json)" in lines
    assert "Auth: token" in lines
    assert any(line.startswith("Probe: reachable (") for line in lines)
    assert "Health: ok" in lines
    r = penv.run("gateway", "status", "--json")
    doc = json.loads(r.stdout)
    assert doc["runtime"]["pid"] == gw.proc.pid and doc["runtime"]["alive"] is True
    assert doc["probe"]["status"] == "reachable" and doc["probe"]["ok"] is True
    assert doc["probe"]["health"]["ok"] is True
    assert doc["target"]["auth"] == "gateway.auth.token"


def test_gateway_status_auth_failed(gw, penv):
    r = penv.run("gateway", "status", "--token", "wrong-wrong")
    assert r.returncode == 1
    assert "Probe: auth failed: unauthorized: gateway token mismatch" in r.stdout
    assert "gateway.auth.token" in r.stderr
    r = penv.run("gateway", "status", "--json", "--token", "wrong-wrong")
    doc = json.loads(r.stdout)
    assert doc["probe"]["status"] == "auth-failed"
    assert doc["probe"]["error"]["details"]["code"] == "AUTH_TOKEN_MISMATCH"


def test_gateway_status_not_running(gw, penv):
    gw.stop()
    r = penv.run("gateway", "status")
    assert r.returncode == 1
    assert r.stdout.startswith("Gateway: not running here (no ")
    assert "Probe: unreachable: cannot connect" in r.stdout
    doc = json.loads(penv.run("gateway", "status", "--json").stdout)
    assert doc["runtime"] is None and doc["probe"]["status"] == "unreachable"
