"""End-to-end tests of the gateway's WebSocket protocol (OpenClaw v4):
handshake, every connect failure, scopes, hostile frames, events, shutdown.

Expected answers are what OpenClaw 2026.9.6 itself sends (see
../shared/openclaw/frames and the probe notes in docs/protocol.md).
"""
import json
import random
import re
import signal
import time

import pytest

from conftest import PINCER
from wsclient import Client, Closed, connect_params, connected

pytestmark = pytest.mark.timeout(90)

TOKEN = "test-token-123"


@pytest.fixture
def gw(gateway, penv):
    penv.write_config('{gateway: {auth: {token: "%s"}}}' % TOKEN)
    return gateway()


def expect_connect_error(c, code, detail=None, **kw):
    """connect fails with `code` (and details.code), then a 1008 close."""
    r = c.connect(**kw)
    assert r["ok"] is False, r
    assert r["error"]["code"] == code, r
    if detail:
        assert r["error"]["details"]["code"] == detail, r
    closed = c.wait_closed()
    assert closed[0] == 1008, closed
    assert closed[1] == r["error"]["message"][:123]
    return r["error"]


# ==== handshake ====


def test_challenge_then_hello_ok(gw):
    with Client(gw.port) as c:
        assert re.fullmatch(r"[0-9a-f-]{36}", c.challenge["nonce"])
        assert abs(c.challenge["ts"] - time.time() * 1000) < 60000
        r = c.connect(token=TOKEN)
        assert r["ok"] and r["id"] == "c1"
        h = r["payload"]
        assert h["type"] == "hello-ok" and h["protocol"] == 4
        assert set(h["server"]) >= {"version", "connId"}
        assert h["policy"] == {"maxPayload": 26214400, "maxBufferedBytes": 52428800,
                               "tickIntervalMs": 15000}
        assert h["auth"] == {"method": "token", "role": "operator",
                             "scopes": ["operator.admin"]}
        snap = h["snapshot"]
        assert snap["authMode"] == "token"
        assert snap["stateVersion"]["presence"] >= 1
        assert snap["health"]["ok"] is True
        assert snap["sessionDefaults"]["mainSessionKey"] == "agent:main:main"
        assert snap["presence"][0]["mode"] == "gateway"
        assert {"health", "status", "system-presence", "logs.tail"} <= set(h["features"]["methods"])
        assert "tick" in h["features"]["events"]


def test_every_advertised_method_is_served(gw):
    with connected(gw.port, token=TOKEN) as c:
        for m in c.hello["features"]["methods"]:
            r = c.request(m, {})
            if not r["ok"]:
                assert not r["error"]["message"].startswith("unknown method"), (m, r)


def test_probe_speaks_v3_and_gets_no_scopes(gw):
    with Client(gw.port) as c:
        client = {"id": "cli", "version": "dev", "platform": "linux", "mode": "probe"}
        r = c.connect(token=TOKEN, minProtocol=3, maxProtocol=4, client=client,
                      scopes=["operator.read"])
        assert r["ok"] and r["payload"]["auth"]["scopes"] == []
        assert c.request("health")["ok"]
        e = c.request("system-presence")["error"]
        assert e == {"code": "FORBIDDEN", "message": "missing scope: operator.read",
                     "details": {"code": "MISSING_SCOPE", "missingScope": "operator.read",
                                 "requiredScopes": ["operator.read"]}}


# ==== connect failures ====


def test_wrong_token(gw):
    with Client(gw.port) as c:
        e = expect_connect_error(c, "INVALID_REQUEST", "AUTH_TOKEN_MISMATCH", token="nope")
        assert e["message"] == ("unauthorized: gateway token mismatch (use this gateway's "
                                "gateway.auth.token or pair the device)")
        assert e["details"]["recommendedNextStep"] == "update_auth_credentials"
        assert e["details"]["canRetryWithDeviceToken"] is False
    assert TOKEN not in gw.output() and "nope" not in gw.output()


def test_no_credentials_asks_for_a_device_identity(gw):
    with Client(gw.port) as c:
        expect_connect_error(c, "NOT_PAIRED", "DEVICE_IDENTITY_REQUIRED")


def test_password_mode(gateway, penv):
    penv.write_config('{gateway: {auth: {mode: "password", password: "pw-1"}}}')
    g = gateway()
    with Client(g.port) as c:
        expect_connect_error(c, "INVALID_REQUEST", "AUTH_PASSWORD_MISMATCH", password="pw-2")
    with connected(g.port, password="pw-1") as c:
        assert c.hello["auth"]["method"] == "password"


def test_auth_none_on_loopback(gateway):
    g = gateway()
    with connected(g.port) as c:
        assert c.hello["auth"]["method"] == "none"
        assert c.hello["snapshot"]["authMode"] == "none"


@pytest.mark.parametrize("over,message", [
    ({"minProtocol": 5, "maxProtocol": 6}, "protocol mismatch"),
    ({"minProtocol": 3, "maxProtocol": 3}, "protocol mismatch"),
    ({"client": {"id": "nope", "version": "1", "platform": "linux", "mode": "cli"}},
     "invalid connect params: at /client/id: must be equal to one of the allowed values"),
    ({"client": {"id": "CLI", "version": "1", "platform": "linux", "mode": "cli"}},
     "invalid connect params: at /client/id: must be equal to one of the allowed values"),
    ({"client": {"id": "cli", "version": "1", "platform": "linux", "mode": "zz"}},
     "invalid connect params: at /client/mode: must be equal to one of the allowed values"),
    ({"role": "king"}, "invalid role"),
    ({"zzz": 1}, "invalid connect params: at root: unexpected property 'zzz'"),
    ({"scopes": "operator.read"}, "invalid connect params: at /scopes: must be array"),
    ({"minProtocol": None}, "invalid connect params: at root: must have required property "
                            "'minProtocol'"),
])
def test_bad_connect_params(gw, over, message):
    with Client(gw.port) as c:
        r = c.connect(token=TOKEN, **over)
        assert r["ok"] is False and r["error"]["code"] == "INVALID_REQUEST"
        assert r["error"]["message"] == message
        if message == "protocol mismatch":
            assert r["error"]["details"]["code"] == "PROTOCOL_MISMATCH"
            assert r["error"]["details"]["expectedProtocol"] == 4
        assert c.wait_closed()[0] == 1008


def test_first_request_must_be_connect(gw):
    with Client(gw.port) as c:
        r = c.request("health", id="h")
        assert r["error"] == {"code": "INVALID_REQUEST",
                              "message": "invalid handshake: first request must be connect"}
        assert c.wait_closed() == (1008, "invalid handshake: first request must be connect")


@pytest.mark.parametrize("raw", [
    "hello", "[1,2]", '{"id":"x","method":"connect"}', '{"type":"event","event":"x"}',
    '{"type":"res","id":"a","ok":true}', '{"type":"req","method":"connect"}',
    '{"type":"req","id":5,"method":"connect"}', '{"type":"cancel","id":"x"}',
])
def test_bad_frames_before_connect_close_the_connection(gw, raw):
    with Client(gw.port) as c:
        c.send_raw(raw)
        code, reason = c.wait_closed()
        assert code == 1008 and reason.startswith("invalid request frame"), (code, reason)


def test_binary_before_connect(gw):
    with Client(gw.port) as c:
        c.send_raw(b"\x01\x02")
        assert c.wait_closed()[0] == 1008


def test_oversized_frame_before_connect(gw):
    with Client(gw.port) as c:
        c.send_raw("X" * (64 * 1024 + 1))
        assert c.wait_closed()[0] == 1009


def test_handshake_timeout(gw):
    with Client(gw.port) as c:
        t0 = time.monotonic()
        assert c.wait_closed(timeout=30)[0] == 1000
        assert time.monotonic() - t0 > 10


# ==== origins ====


def test_foreign_origin_is_refused(gw):
    with Client(gw.port, origin="http://evil.example") as c:
        e = expect_connect_error(c, "INVALID_REQUEST", "CONTROL_UI_ORIGIN_NOT_ALLOWED",
                                 token=TOKEN)
        assert "gateway.controlUi.allowedOrigins" in e["message"]


def test_loopback_origin_and_allowed_origins(gateway, penv):
    penv.write_config('{gateway: {auth: {token: "%s"}, controlUi: {allowedOrigins: '
                      '["https://chat.example.com"]}}}' % TOKEN)
    g = gateway()
    for origin in (f"http://127.0.0.1:{g.port}", "http://localhost:3000",
                   "https://chat.example.com"):
        with connected(g.port, token=TOKEN, origin=origin):
            pass
    with Client(g.port, origin="https://chat.example.com.evil.net") as c:
        expect_connect_error(c, "INVALID_REQUEST", "CONTROL_UI_ORIGIN_NOT_ALLOWED", token=TOKEN)


# ==== rate limit ====


def test_failed_attempts_lock_the_address_out(gateway, penv):
    penv.write_config('{gateway: {auth: {token: "%s", rateLimit: {maxAttempts: 3, '
                      'windowMs: 60000, lockoutMs: 60000, exemptLoopback: false}}}}' % TOKEN)
    g = gateway()
    for _ in range(3):
        with Client(g.port) as c:
            expect_connect_error(c, "INVALID_REQUEST", "AUTH_TOKEN_MISMATCH", token="bad")
    # Now even the right token is refused until the lockout ends.
    with Client(g.port) as c:
        e = expect_connect_error(c, "INVALID_REQUEST", "AUTH_RATE_LIMITED", token=TOKEN)
        assert e["retryable"] is True and 0 < e["retryAfterMs"] <= 60000
        assert e["details"]["recommendedNextStep"] == "wait_then_retry"


def test_loopback_is_exempt_by_default(gw):
    for _ in range(12):
        with Client(gw.port) as c:
            expect_connect_error(c, "INVALID_REQUEST", "AUTH_TOKEN_MISMATCH", token="bad")
    with connected(gw.port, token=TOKEN):
        pass


# ==== after the handshake ====


def test_errors_after_connect_keep_the_connection(gw):
    with connected(gw.port, token=TOKEN) as c:
        assert c.request("nope")["error"] == {"code": "INVALID_REQUEST",
                                              "message": "unknown method: nope"}
        c.send({"type": "req", "method": "health"})
        r = c.res("invalid")
        assert r["error"]["message"] == ("invalid request frame: must have required property "
                                         "'id'")
        assert c.request("connect", connect_params(token=TOKEN))["error"]["message"] == \
            "connect is only valid as the first request"
        c.send({"type": "cancel", "id": "no-such-request"})
        assert c.call("health")["ok"] is True


def test_scopes_gate_methods(gw):
    with connected(gw.port, token=TOKEN, scopes=[]) as c:
        assert c.call("health")["ok"]
        assert c.request("status")["error"]["details"]["missingScope"] == "operator.read"
    with connected(gw.port, token=TOKEN, scopes=["operator.read"]) as c:
        assert c.call("status")["runtimeVersion"]
    with connected(gw.port, token=TOKEN, scopes=["operator.write"]) as c:
        assert c.call("system-presence")


HOSTILE = [
    "not json", "{", "[]", "null", "42", '"str"', "{}", '{"type":"req"}',
    '{"type":"req","id":""}', '{"type":"req","id":"x"}', '{"type":"req","id":"x","method":""}',
    '{"type":"req","id":"x","method":7}', '{"type":"req","id":"x","method":"health","zz":1}',
    '{"type":"req","id":"x","method":"no.such"}', '{"type":"res","id":"x","ok":true}',
    '{"type":"event","event":"tick"}', '{"type":"cancel"}', '{"type":"cancel","id":"x","y":1}',
    '{"type":"req","id":"x","method":"logs.tail","params":{"limit":-1}}',
    '{"type":"req","id":"x","method":"logs.tail","params":{"bogus":1}}',
    '{"type":"req","id":"x","method":"health","params":{"probe":"yes"}}',
    '{"type":"req","id":"x","method":"health","traceparent":' + json.dumps("t" * 200) + "}",
    '{"type":"req","id":"x","id":"y","method":"health"}',
    '{"type":"req","id":"x","method":"connect","params":{}}',
    '\u00e9\u00e8 garbage \u2603',
]


def test_a_thousand_hostile_frames(gw):
    rnd = random.Random(1234)
    bystander = connected(gw.port, token=TOKEN, scopes=["operator.read"])
    with connected(gw.port, token=TOKEN) as c:
        for i in range(1000):
            c.send_raw(rnd.choice(HOSTILE))
            if i % 100 == 0:
                # Other clients keep being served meanwhile.
                assert bystander.call("health")["ok"]
        # Every frame that can be answered is answered; the connection stays usable.
        answered = 0
        c.send({"type": "req", "id": "last", "method": "health"})
        while True:
            f = c.recv()
            if f.get("id") == "last":
                assert f["ok"]
                break
            assert f["type"] == "res" and f["ok"] is False, f
            assert f["error"]["code"] == "INVALID_REQUEST", f
            answered += 1
        assert answered > 800
    assert bystander.call("status")
    bystander.close()
    assert gw.proc.poll() is None


def test_oversized_frame_after_connect(gw):
    with connected(gw.port, token=TOKEN) as c:
        c.send_raw("x" * (64 * 1024 + 10))  # fine after auth: answered as a bad frame
        assert c.res("invalid")["ok"] is False
        c.send_raw("x" * (25 * 1024 * 1024 + 1))
        assert c.wait_closed(timeout=30)[0] == 1009


# ==== methods ====


def test_logs_tail(gw):
    with connected(gw.port, token=TOKEN) as c:
        r = c.call("logs.tail", {"limit": 50})
        assert r["file"].endswith("pincer.log") and r["size"] > 0
        assert any("listening on" in line for line in r["lines"])
        for line in r["lines"]:
            json.loads(line)
        again = c.call("logs.tail", {"cursor": r["cursor"]})
        assert again["cursor"] >= r["cursor"]


def test_models_and_agents_from_config(gateway, penv):
    penv.write_config("""{
      gateway: {auth: {token: "%s"}},
      models: {providers: {fake: {baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions",
        models: [{id: "m1", name: "Model One", contextWindow: 1000, reasoning: false}]}}},
      agents: {list: [{id: "home", name: "Home"}, {id: "work", default: true}]},
    }""" % TOKEN)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        assert c.call("models.list") == {"models": [
            {"id": "m1", "name": "Model One", "provider": "fake", "contextWindow": 1000,
             "reasoning": False}]}
        a = c.call("agents.list")
        assert a["defaultId"] == "work" and [x["id"] for x in a["agents"]] == ["home", "work"]
        assert c.hello["snapshot"]["sessionDefaults"]["mainSessionKey"] == "agent:work:main"
        h = c.call("health")
        assert [x["agentId"] for x in h["agents"]] == ["home", "work"]


# ==== events ====


def test_presence_events_with_seq_and_state_version(gw):
    with connected(gw.port, token=TOKEN, scopes=[]) as watcher:
        base = watcher.hello["snapshot"]["stateVersion"]["presence"]
        ui = {"id": "openclaw-tui", "version": "1", "platform": "linux", "mode": "ui",
              "instanceId": "ui-1"}
        other = connected(gw.port, token=TOKEN, client=ui)
        ev = watcher.event("presence")
        assert ev["seq"] == 1 and ev["stateVersion"]["presence"] == base + 1
        assert any(p.get("instanceId") == "ui-1" for p in ev["payload"]["presence"])
        other.close()
        ev = watcher.event("presence")
        assert ev["seq"] == 2
        assert not any(p.get("instanceId") == "ui-1" for p in ev["payload"]["presence"])


def test_shutdown_event_then_close(gw):
    c = connected(gw.port, token=TOKEN)
    gw.proc.send_signal(signal.SIGTERM)
    ev = c.event("shutdown")
    assert ev["payload"] == {"reason": "SIGTERM"}
    assert c.wait_closed()[0] == 1001
    c.close()
    rc = gw.stop()
    assert rc == 0, gw.output()


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_slow_consumer_is_dropped_not_buffered(gw, penv):
    # Make logs.tail answers big: ~1 MB of valid log lines.
    line = json.dumps({"time": "2026-01-01T00:00:00.000Z", "level": "info",
                       "subsystem": "filler", "message": "x" * 200}) + "\n"
    with open(penv.state / "logs" / "pincer.log", "a") as f:
        f.write(line * (1000000 // len(line)))
    bystander = connected(gw.port, token=TOKEN)
    # max_queue=1: the client library stops reading, so the socket backs up.
    slow = Client(gw.port, max_queue=1)
    assert slow.connect(token=TOKEN)["ok"]
    for i in range(120):  # 120 MB asked for, never read
        slow.send({"type": "req", "id": f"t{i}", "method": "logs.tail",
                   "params": {"maxBytes": 1000000, "limit": 5000}})
    deadline = time.monotonic() + 30
    while "dropping slow websocket client" not in gw.output() and time.monotonic() < deadline:
        assert bystander.call("health")["ok"]
        time.sleep(0.2)
    assert "dropping slow websocket client" in gw.output()
    # The memory went back (ASan keeps freed memory quarantined: not there);
    # the others never noticed.
    if "asan" not in PINCER:
        assert rss_kib(gw.proc.pid) < 150 * 1024
    assert bystander.call("status")
    slow.close()
    bystander.close()
