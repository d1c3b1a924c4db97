"""End-to-end tests of `pincer gateway run`: the HTTP surface on the gateway
port, start-up refusals, the runtime file, signals and secret redaction.

Every gateway runs with its own state dir and port 0 (or a port found free
just before), and is killed at teardown whatever happens.
"""
import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import PINCER, ROOT

pytestmark = pytest.mark.timeout(60)

VERSION = (ROOT / "VERSION").read_text().strip()
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
HTML_CSP = "default-src 'self'; frame-ancestors 'none'"


def fetch(port, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection: (status, headers lowercased, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_security_headers(h):
    for k, v in SECURITY_HEADERS.items():
        assert h.get(k) == v, (k, h)


def assert_sanitizer_clean(text):
    # Meaningful with PINCER_BIN=build-asan/pincer; harmless otherwise.
    assert "Sanitizer" not in text, text
    assert "runtime error:" not in text, text


@pytest.fixture
def raw_gateway(gateway):
    """A gateway started with exactly the given arguments (no implied --port 0)."""
    return lambda *args, env=None: gateway(*args, env=env, raw=True)


# ==== HTTP surface ====


@pytest.mark.parametrize("path", ["/health", "/healthz"])
def test_health_is_live_with_version_and_uptime(gateway, path):
    g = gateway()
    status, h, body = fetch(g.port, "GET", path)
    assert status == 200
    assert h["content-type"].startswith("application/json")
    assert h["cache-control"] == "no-store"
    assert_security_headers(h)
    assert "content-security-policy" not in h
    doc = json.loads(body)
    assert set(doc) == {"ok", "status", "version", "uptimeMs"}
    assert doc["ok"] is True and doc["status"] == "live"
    assert doc["version"] == VERSION
    assert isinstance(doc["uptimeMs"], int) and 0 <= doc["uptimeMs"] < 60_000


@pytest.mark.parametrize("path", ["/ready", "/readyz"])
def test_ready_gives_details_to_local_clients(gateway, path):
    g = gateway()
    status, h, body = fetch(g.port, "GET", path)
    assert status == 200
    doc = json.loads(body)
    assert doc["ready"] is True and doc["failing"] == []
    assert isinstance(doc["uptimeMs"], int)


def test_head_has_headers_but_no_body(gateway):
    g = gateway()
    status, h, body = fetch(g.port, "HEAD", "/health")
    assert status == 200
    assert body == b""
    assert int(h["content-length"]) > 0
    assert_security_headers(h)


def test_status_page_is_html_with_csp(gateway, penv):
    # The status page stands in for the Control UI when that is turned off
    # (tests/e2e/test_ui.py covers the UI itself).
    penv.write_config('{ gateway: { controlUi: { enabled: false } } }')
    g = gateway()
    status, h, body = fetch(g.port, "GET", "/")
    assert status == 200
    assert h["content-type"].startswith("text/html")
    assert h["content-security-policy"] == HTML_CSP
    assert_security_headers(h)
    page = body.decode()
    assert "<title>pincer</title>" in page
    assert VERSION in page
    assert "uptime" in page
    assert str(penv.state) in page
    assert "Control UI" in page and "turned off" in page


def test_unknown_path_is_json_404(gateway):
    g = gateway()
    status, h, body = fetch(g.port, "GET", "/no/such/thing?x=1")
    assert status == 404
    assert h["content-type"].startswith("application/json")
    assert json.loads(body) == {"error": {"message": "not found"}}
    assert_security_headers(h)


def test_wrong_method_is_405_with_allow(gateway):
    g = gateway()
    status, h, body = fetch(g.port, "POST", "/health", body=b"{}",
                            headers={"Content-Type": "application/json"})
    assert status == 405
    allowed = {m.strip() for m in h["allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed
    assert json.loads(body)["error"]["message"]
    assert_security_headers(h)


def test_body_over_cap_is_413_and_server_survives(gateway):
    g = gateway()
    status, h, body = fetch(g.port, "GET", "/health", body=b"x" * (2 << 20))
    assert status == 413
    assert "too large" in json.loads(body)["error"]["message"]
    assert_security_headers(h)
    # A body under the cap is accepted (and ignored by this route).
    assert fetch(g.port, "GET", "/health", body=b"small")[0] == 200


def test_expect_100_continue_is_answered(gateway):
    g = gateway()
    with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"body")
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")


def test_keepalive_connection_serves_several_requests(gateway):
    g = gateway()
    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
    try:
        for path in ("/health", "/readyz", "/", "/nope", "/health"):
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            assert r.status in (200, 404)
    finally:
        conn.close()


def test_websocket_upgrade_is_served_on_any_path(gateway):
    g = gateway()
    for path in ("/", "/ws"):
        status, h, body = fetch(g.port, "GET", path, headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        })
        assert status == 101
        assert h["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    # The gateway is still fine afterwards.
    assert fetch(g.port, "GET", "/health")[0] == 200


# ==== runtime file, state dir, signals ====


def test_runtime_file_and_state_dir_modes(gateway, penv):
    before = int(time.time() * 1000)
    g = gateway()
    st = os.stat(g.runtime)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(penv.state).st_mode) == 0o700
    info = g.info
    assert set(info) == {"pid", "port", "host", "version", "startedAt"}
    assert info["pid"] == g.proc.pid
    assert info["host"] == "127.0.0.1"
    assert info["version"] == VERSION
    assert before - 5000 <= info["startedAt"] <= int(time.time() * 1000) + 1000
    assert f"pincer gateway listening on http://127.0.0.1:{g.port}/" in g.output()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_removes_runtime_file(gateway, sig):
    g = gateway()
    assert fetch(g.port, "GET", "/health")[0] == 200
    assert g.stop(sig) == 0
    assert not g.runtime.exists()
    out = g.output()
    assert "stopping" in out and "stopped" in out
    assert_sanitizer_clean(out)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", g.port), timeout=2).close()


def test_stop_does_not_wait_for_idle_keepalive_connections(gateway):
    g = gateway()
    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
    try:
        conn.request("GET", "/health")
        conn.getresponse().read()
        t0 = time.monotonic()
        assert g.stop(signal.SIGTERM) == 0
        # The grace period is 5 s; an idle connection must not hold the stop.
        assert time.monotonic() - t0 < 3
    finally:
        conn.close()
    assert_sanitizer_clean(g.output())


def test_stop_finishes_a_request_in_progress(gateway):
    g = gateway()
    s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
        time.sleep(1.0)  # headers read; the body is half there
        g.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # The listener is closed at once...
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", g.port), timeout=2).close()
        assert g.proc.poll() is None
        # ...but the request in progress is answered, then its connection closed.
        s.sendall(b"world")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["ok"] is True
    assert g.proc.wait(timeout=10) == 0
    assert not g.runtime.exists()
    assert_sanitizer_clean(g.output())


# ==== refusing to start ====


def test_port_in_use_is_a_clear_error(penv):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = penv.run("gateway", "run", "--port", str(port), timeout=20)
    assert r.returncode == 1
    assert (f"port {port} is already in use (another gateway running? stop it, use "
            "--force, or pick another --port)" in r.stderr)
    assert not (penv.state / "gateway.json").exists()
    assert_sanitizer_clean(r.stderr)


@pytest.mark.parametrize("how", ["flag", "config"])
def test_lan_bind_without_auth_is_refused(penv, how):
    if how == "config":
        penv.write_config('{ gateway: { bind: "lan" } }\n')
        r = penv.run("gateway", "run", "--port", "0", timeout=20)
    else:
        r = penv.run("gateway", "run", "--port", "0", "--bind", "lan", timeout=20)
    assert r.returncode == 1
    assert "without auth" in r.stderr and "gateway.auth.token" in r.stderr
    assert not (penv.state / "gateway.json").exists()
    assert_sanitizer_clean(r.stderr)


def test_lan_bind_with_token_starts(gateway, penv):
    penv.write_config('{ gateway: { auth: { token: "lan-token-0123456789" } } }\n')
    g = gateway("--bind", "lan")
    assert g.info["host"] == "0.0.0.0"
    assert fetch(g.port, "GET", "/health")[0] == 200


def test_custom_bind_uses_custom_bind_host(gateway, penv):
    penv.write_config('{ gateway: { bind: "custom", customBindHost: "127.0.0.1" } }\n')
    g = gateway()
    assert g.info["host"] == "127.0.0.1"
    assert fetch(g.port, "GET", "/health")[0] == 200


def _local_ipv4_addresses():
    """This machine's own IPv4 addresses, from the kernel's routing trie."""
    lines = open("/proc/net/fib_trie").read().splitlines()
    return {lines[i - 1].split()[-1] for i, line in enumerate(lines)
            if "/32 host LOCAL" in line and i > 0}


def test_tailnet_bind_needs_a_tailscale_address(penv):
    if any(a.startswith("100.") and 64 <= int(a.split(".")[1]) <= 127
           for a in _local_ipv4_addresses()):
        pytest.skip("this machine has a Tailscale address")
    r = penv.run("gateway", "run", "--port", "0", "--bind", "tailnet", timeout=10)
    assert r.returncode == 1
    assert "needs a Tailscale address" in r.stderr
    assert_sanitizer_clean(r.stderr)


def test_auto_bind(gateway, penv):
    # In a container auto means every interface, which needs auth.
    penv.write_config('{ gateway: { auth: { token: "auto-token-0123456789" } } }\n')
    g = gateway("--bind", "auto")
    assert g.info["host"] in ("127.0.0.1", "0.0.0.0") or g.info["host"].startswith("100.")
    assert fetch(g.port, "GET", "/health")[0] == 200


def test_force_stops_the_running_gateway(gateway, penv):
    first = gateway()
    second = gateway("--force", raw=True, env={"PINCER_GATEWAY_PORT": str(first.port)})
    assert second.port == first.port
    assert first.proc.wait(timeout=15) == 0
    assert "stopping the running gateway (pid %d)" % first.proc.pid in second.output()
    assert fetch(second.port, "GET", "/health")[0] == 200


def test_unknown_bind_mode_is_a_usage_error(penv):
    r = penv.run("gateway", "run", "--bind", "everywhere", timeout=20)
    assert r.returncode == 2
    assert "everywhere" in r.stderr


def test_invalid_config_refuses_to_start_with_positions(penv):
    cfg = penv.write_config('{\n  gateway: {\n    bogus: 1,\n    port: "x",\n  },\n}\n')
    r = penv.run("gateway", "run", "--port", "0", timeout=20)
    assert r.returncode == 1
    assert "pincer: invalid config; the gateway will not start:" in r.stderr
    assert f"{cfg}:3:5" in r.stderr
    assert f"{cfg}:4:5" in r.stderr
    assert not (penv.state / "gateway.json").exists()
    assert_sanitizer_clean(r.stderr)


def test_usage_names_gateway_run(penv):
    for args in (("gateway", "-h"), ("gateway", "run", "-h"), ("help", "gateway")):
        r = penv.run(*args, timeout=20)
        assert r.returncode == 0
        assert r.stdout.startswith("usage: pincer gateway run")


# ==== secrets ====


def test_token_and_password_never_reach_logs_or_console(gateway, penv):
    token = "tok-Zq8Hh3kPq7WnB2vR9sLx"
    password = "pw-Kd93nVb7Qa1Yx6Tz"
    penv.write_config(
        "{\n"
        f'  gateway: {{ auth: {{ token: "{token}", password: "{password}" }} }},\n'
        '  logging: { level: "debug" },\n'
        "}\n")
    g = gateway("--verbose")
    for path in (f"/{token}", f"/health?token={token}", f"/x/{password}"):
        fetch(g.port, "GET", path)
    fetch(g.port, "GET", "/readyz", headers={"Authorization": f"Bearer {token}"})
    fetch(g.port, "GET", "/", headers={"X-Api-Key": password})
    assert g.stop() == 0
    out = g.output()
    logs = "".join(p.read_text(errors="replace")
                   for p in (penv.state / "logs").glob("*") if p.is_file())
    # The requests did reach both sinks (with the secret masked)...
    assert "404" in out and "404" in logs
    assert "***" in logs
    # ...and neither secret appears anywhere.
    for text in (out, logs):
        assert token not in text
        assert password not in text
    assert_sanitizer_clean(out)


# ==== port resolution ====


def test_pincer_gateway_port_env_is_honoured(raw_gateway):
    port = free_port()
    g = raw_gateway(env={"PINCER_GATEWAY_PORT": str(port), "OPENCLAW_GATEWAY_PORT": "1"})
    assert g.port == port
    assert fetch(port, "GET", "/health")[0] == 200
    assert g.stop() == 0


def test_openclaw_gateway_port_env_is_honoured(raw_gateway):
    port = free_port()
    g = raw_gateway(env={"OPENCLAW_GATEWAY_PORT": str(port)})
    assert g.port == port
    assert g.stop() == 0


def test_port_flag_beats_env_and_env_beats_config(raw_gateway, penv):
    cfg_port, env_port = free_port(), free_port()
    penv.write_config(f"{{ gateway: {{ port: {cfg_port} }} }}\n")
    g = raw_gateway("--port", "0", env={"PINCER_GATEWAY_PORT": str(env_port)})
    assert g.port not in (cfg_port, env_port)
    assert g.stop() == 0
    g = raw_gateway(env={"PINCER_GATEWAY_PORT": str(env_port)})
    assert g.port == env_port
    assert g.stop() == 0
    g = raw_gateway()
    assert g.port == cfg_port
    assert g.stop() == 0


def test_bad_port_env_is_refused(penv):
    r = penv.run("gateway", "run", env={"PINCER_GATEWAY_PORT": "eighty"}, timeout=20)
    assert r.returncode == 1
    assert "PINCER_GATEWAY_PORT" in r.stderr
    assert_sanitizer_clean(r.stderr)


def test_dotenv_in_state_dir_feeds_config_vars(gateway, penv):
    # The gateway loads .env files as every other command does: without one
    # the ${VAR} is a load error; with <state>/.env it starts, and the value
    # it supplied (a credential) never reaches the log.
    penv.write_config('{gateway: {auth: {mode: "token", token: "${GW_DOTENV_TOKEN}"}}}')
    r = penv.run("gateway", "run", "--port", "0", timeout=20)
    assert r.returncode == 1 and "GW_DOTENV_TOKEN is not set" in r.stderr
    (penv.state / ".env").write_text("GW_DOTENV_TOKEN=dotenv-secret-value\n")
    g = gateway()
    assert g.stop() == 0
    log = "".join(p.read_text() for p in (penv.state / "logs").iterdir())
    assert "dotenv-secret-value" not in log + g.output()
