"""Device identity and pairing end to end: signatures checked as OpenClaw
checks them, silent pairing on loopback, pending requests for remote
devices, approval through the RPCs, device tokens, rotation and removal."""
import json
import os
import stat

import pytest

from wsclient import Client, Device, connect_params, connected, device_connect

pytestmark = pytest.mark.timeout(60)

TOKEN = "pair-token-1"


@pytest.fixture
def gw(gateway, penv):
    penv.write_config('{gateway: {auth: {token: "%s"}}}' % TOKEN)
    return gateway()


def proxied(port):
    """A client that looks remote: a proxy header makes loopback count as not direct."""
    return Client(port, headers={"X-Forwarded-For": "203.0.113.7"})


def test_loopback_device_is_paired_silently_and_gets_a_token(gw, penv):
    dev = Device()
    with Client(gw.port) as c:
        r = device_connect(c, dev, token=TOKEN)
        assert r["ok"], r
        auth = r["payload"]["auth"]
        assert auth["method"] == "token" and auth["deviceToken"] and auth["issuedAtMs"] > 0
    # Persisted as OpenClaw's baseline files, private.
    d = penv.state / "devices"
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    paired = json.loads((d / "paired.json").read_text())
    assert paired[dev.id]["approvedVia"] == "silent"
    assert stat.S_IMODE(os.stat(d / "paired.json").st_mode) == 0o600
    assert dev.token not in gw.output()
    # The device comes back with its token alone.
    with Client(gw.port) as c:
        r = device_connect(c, dev, params=connect_params(auth=None) | {"auth": {"deviceToken": dev.token}})
        assert r["ok"], r
        assert r["payload"]["auth"]["method"] == "device-token"


@pytest.mark.parametrize("mutate,code", [
    (lambda d: d.update(id="0" * 64), "DEVICE_AUTH_DEVICE_ID_MISMATCH"),
    (lambda d: d.update(nonce="other-nonce"), "DEVICE_AUTH_NONCE_MISMATCH"),
    (lambda d: d.update(signedAt=d["signedAt"] - 10 * 60 * 1000), "DEVICE_AUTH_SIGNATURE_EXPIRED"),
    (lambda d: d.update(signature="A" * 86), "DEVICE_AUTH_SIGNATURE_INVALID"),
])
def test_bad_device_signatures(gw, mutate, code):
    dev = Device()
    with Client(gw.port) as c:
        params = dev.sign(connect_params(token=TOKEN), c.challenge["nonce"])
        mutate(params["device"])
        r = c.request("connect", params, id="c1")
        assert r["ok"] is False and r["error"]["details"]["code"] == code, r
        assert c.wait_closed()[0] == 1008


def test_replayed_signature_is_refused(gw):
    dev = Device()
    with Client(gw.port) as c1:
        params = dev.sign(connect_params(token=TOKEN), c1.challenge["nonce"])
    with Client(gw.port) as c2:  # a new challenge: the old signature no longer fits
        r = c2.request("connect", params, id="c1")
        assert r["error"]["details"]["code"] == "DEVICE_AUTH_NONCE_MISMATCH"


def test_remote_device_waits_for_approval(gw):
    admin = connected(gw.port, token=TOKEN, scopes=["operator.admin"])
    dev = Device()
    with proxied(gw.port) as c:
        r = device_connect(c, dev, token=TOKEN, scopes=["operator.read"])
        assert r["ok"] is False and r["error"]["code"] == "NOT_PAIRED", r
        d = r["error"]["details"]
        assert d["code"] == "PAIRING_REQUIRED" and d["reason"] == "not-paired"
        assert d["deviceId"] == dev.id and d["requestId"]
        code, reason = c.wait_closed()
        assert code == 1008 and d["requestId"] in reason
    ev = admin.event("device.pair.requested")
    assert ev["payload"]["deviceId"] == dev.id
    listed = admin.call("device.pair.list")
    assert [p["requestId"] for p in listed["pending"]] == [d["requestId"]]

    ok = admin.call("device.pair.approve", {"requestId": d["requestId"]})
    assert ok["device"]["deviceId"] == dev.id and "tokens" in ok["device"]
    assert all("token" not in t for t in ok["device"]["tokens"])
    assert admin.event("device.pair.resolved")["payload"]["decision"] == "approved"

    with proxied(gw.port) as c:
        r = device_connect(c, dev, token=TOKEN, scopes=["operator.read"])
        assert r["ok"], r
        assert r["payload"]["auth"]["deviceToken"]
    # Asking for more than was approved is a scope upgrade: pending again.
    with proxied(gw.port) as c:
        r = device_connect(c, dev, token=TOKEN, scopes=["operator.admin"])
        assert r["error"]["details"]["reason"] == "scope-upgrade"
    admin.close()


def test_reject_and_remove(gw):
    admin = connected(gw.port, token=TOKEN)
    dev = Device()
    with proxied(gw.port) as c:
        rid = device_connect(c, dev, token=TOKEN)["error"]["details"]["requestId"]
    r = admin.call("device.pair.reject", {"requestId": rid})
    assert r["requestId"] == rid and r["deviceId"] == dev.id
    assert admin.request("device.pair.approve", {"requestId": rid})["error"]["message"] == \
        "unknown requestId"

    # Pair a local device, connect it, then remove it: its connection is closed.
    local = Device()
    c = Client(gw.port)
    assert device_connect(c, local, token=TOKEN)["ok"]
    assert admin.call("device.pair.remove", {"deviceId": local.id}) == {"deviceId": local.id}
    assert c.wait_closed() == (1008, "device removed")
    c.close()
    assert admin.request("device.pair.remove", {"deviceId": local.id})["error"]["message"] == \
        "unknown deviceId"
    admin.close()


def test_token_rotate_and_revoke(gw):
    dev = Device()
    with Client(gw.port) as c:
        assert device_connect(c, dev, token=TOKEN, scopes=["operator.read"])["ok"]
    old = dev.token
    admin = connected(gw.port, token=TOKEN)
    r = admin.call("device.token.rotate", {"deviceId": dev.id, "role": "operator"})
    assert r["tokenDelivery"] == "withheld-cross-device" and "token" not in r
    with Client(gw.port) as c:
        r = device_connect(c, dev, params=connect_params(scopes=["operator.read"]) |
                           {"auth": {"deviceToken": old}})
        assert r["error"]["details"]["code"] == "AUTH_DEVICE_TOKEN_MISMATCH"
    admin.call("device.token.revoke", {"deviceId": dev.id, "role": "operator"})
    listed = admin.call("device.pair.list")["paired"]
    assert listed[0]["tokens"][0]["revokedAtMs"] > 0
    admin.close()


def test_pairing_methods_need_the_pairing_scope(gw):
    with connected(gw.port, token=TOKEN, scopes=["operator.read"]) as c:
        e = c.request("device.pair.list")["error"]
        assert e["code"] == "FORBIDDEN" and e["details"]["missingScope"] == "operator.pairing"
    with connected(gw.port, token=TOKEN, scopes=["operator.pairing"]) as c:
        assert c.call("device.pair.list") == {"pending": [], "paired": []}


def test_control_ui_needs_a_device_identity(gw):
    ui = {"id": "openclaw-control-ui", "version": "1", "platform": "web", "mode": "webchat"}
    with Client(gw.port, origin=f"http://127.0.0.1:{gw.port}") as c:
        r = c.connect(token=TOKEN, client=ui)
        assert r["error"]["details"]["code"] == "CONTROL_UI_DEVICE_IDENTITY_REQUIRED"
    with Client(gw.port, origin=f"http://127.0.0.1:{gw.port}") as c:
        assert device_connect(c, Device(), token=TOKEN, client=ui)["ok"]


def test_node_role_needs_a_device(gw):
    node = {"id": "node-host", "version": "1", "platform": "linux", "mode": "node"}
    with Client(gw.port) as c:
        r = c.connect(token=TOKEN, client=node, role="node", scopes=[])
        assert r["error"]["details"]["code"] == "DEVICE_IDENTITY_REQUIRED"


def test_gateway_identity_is_created_once_and_kept(gw, penv, gateway):
    with connected(gw.port, token=TOKEN, scopes=["operator.read"]) as c:
        ident = c.call("gateway.identity.get")
    f = penv.state / "identity" / "device.json"
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    saved = json.loads(f.read_text())
    assert saved["deviceId"] == ident["deviceId"] and saved["version"] == 1
    assert "BEGIN PRIVATE KEY" in saved["privateKeyPem"]
    import base64, hashlib
    raw = base64.urlsafe_b64decode(ident["publicKey"] + "=")
    assert hashlib.sha256(raw).hexdigest() == ident["deviceId"] and len(raw) == 32
    gw.stop()
    g2 = gateway()
    with connected(g2.port, token=TOKEN, scopes=["operator.read"]) as c:
        assert c.call("gateway.identity.get") == ident


def test_devices_cli(gw, penv):
    dev = Device()
    with proxied(gw.port) as c:
        rid = device_connect(c, dev, token=TOKEN, scopes=["operator.read"])["error"]["details"]["requestId"]
    r = penv.run("devices", "list")
    assert r.returncode == 0, r.stderr
    assert "Pending (1)" in r.stdout and rid in r.stdout
    r = penv.run("devices", "list", "--json")
    assert json.loads(r.stdout)["pending"][0]["deviceId"] == dev.id
    r = penv.run("devices", "approve", "--latest")
    assert r.returncode == 0 and f"approved {rid}" in r.stdout, r.stderr
    r = penv.run("devices", "list")
    assert "Paired (1)" in r.stdout and dev.id[:12] in r.stdout
    with proxied(gw.port) as c:
        assert device_connect(c, dev, token=TOKEN, scopes=["operator.read"])["ok"]
    r = penv.run("devices", "remove", dev.id)
    assert r.returncode == 0 and "removed device" in r.stdout
    r = penv.run("devices", "reject", "no-such-request")
    assert r.returncode == 1 and "unknown requestId" in r.stderr
    r = penv.run("devices", "approve")
    assert r.returncode == 2
    r = penv.run("devices", "approve", "--latest")
    assert r.returncode == 1 and "no pending pairing requests" in r.stderr


def test_a_broken_identity_file_is_reported_and_kept(gateway, penv):
    penv.write_config('{gateway: {auth: {token: "%s"}}}' % TOKEN)
    f = penv.state / "identity" / "device.json"
    f.parent.mkdir(parents=True)
    f.write_text("{not json")
    g = gateway()
    with connected(g.port, token=TOKEN, scopes=["operator.read"]) as c:
        e = c.request("gateway.identity.get")["error"]
        assert e["code"] == "UNAVAILABLE" and "not a device identity" in e["message"]
        assert c.call("health")["ok"]
    assert f.read_text() == "{not json"


def test_rename_a_device(gw):
    dev = Device()
    with Client(gw.port) as c:
        assert device_connect(c, dev, token=TOKEN)["ok"]
    with connected(gw.port, token=TOKEN) as admin:
        r = admin.call("device.pair.rename", {"deviceId": dev.id, "label": "kitchen tablet"})
        assert r["device"]["operatorLabel"] == "kitchen tablet"
        for bad in ({"deviceId": dev.id, "label": ""}, {"deviceId": dev.id, "label": "x" * 65},
                    {"deviceId": dev.id}, {"deviceId": dev.id, "label": 5},
                    {"deviceId": "nope", "label": "x"}):
            e = admin.request("device.pair.rename", bad)["error"]
            assert e["code"] == "INVALID_REQUEST", (bad, e)
        assert admin.call("device.pair.list")["paired"][0]["operatorLabel"] == "kitchen tablet"
