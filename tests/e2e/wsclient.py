"""A small client of the gateway protocol for the end-to-end tests.

Synchronous on the outside (each call runs the asyncio loop until done), so
tests read top to bottom. It speaks raw frames: tests decide what to send,
including things a well-behaved client never would.
"""
import asyncio
import itertools
import json

import websockets

CONNECT = {
    "minProtocol": 4,
    "maxProtocol": 4,
    "client": {"id": "cli", "version": "1.0.0", "platform": "linux", "mode": "cli"},
    "caps": [],
    "role": "operator",
    "scopes": ["operator.admin"],
}


def connect_params(token=None, password=None, **over):
    p = json.loads(json.dumps(CONNECT))
    auth = {}
    if token is not None:
        auth["token"] = token
    if password is not None:
        auth["password"] = password
    if auth:
        p["auth"] = auth
    for k, v in over.items():
        if v is None:
            p.pop(k, None)
        else:
            p[k] = v
    return p


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class Client:
    """One WebSocket connection. `challenge` holds the connect.challenge payload."""

    def __init__(self, port, origin=None, headers=None, max_size=2**26, max_queue=32):
        self.loop = asyncio.new_event_loop()
        self.port = port
        self.ids = itertools.count(1)
        self.events = []
        kw = {"max_size": max_size, "open_timeout": 10, "ping_interval": None,
              "max_queue": max_queue}
        if origin:
            kw["origin"] = origin
        if headers:
            kw["extra_headers"] = headers
        url = f"ws://127.0.0.1:{port}/"

        async def open_ws():
            # Created inside the coroutine, so it binds to this client's loop.
            return await websockets.connect(url, **kw)

        self.ws = self._run(open_ws())
        first = self.recv()
        assert first["type"] == "event" and first["event"] == "connect.challenge", first
        self.challenge = first["payload"]

    def _run(self, coro, timeout=15):
        # websockets' legacy client binds to the current loop: make it ours.
        asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def send_raw(self, data):
        self._run(self.ws.send(data))

    def send(self, frame):
        self.send_raw(json.dumps(frame))

    def recv(self, timeout=10):
        """The next frame, parsed; raises Closed when the server closed."""
        try:
            msg = self._run(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as e:
            raise Closed(e.rcvd.code if e.rcvd else None, e.rcvd.reason if e.rcvd else None)
        return json.loads(msg)

    def wait_closed(self, timeout=10):
        """Read until the server closes; returns (code, reason)."""
        try:
            while True:
                self.recv(timeout)
        except Closed as c:
            return c.code, c.reason

    def res(self, id, timeout=10):
        """The response to `id`; events seen on the way are kept in .events."""
        while True:
            f = self.recv(timeout)
            if f.get("type") == "res" and f.get("id") == id:
                return f
            self.events.append(f)

    def request(self, method, params=None, id=None):
        id = id or f"r{next(self.ids)}"
        f = {"type": "req", "id": id, "method": method}
        if params is not None:
            f["params"] = params
        self.send(f)
        return self.res(id)

    def connect(self, **kw):
        """Send connect; returns the res frame (hello-ok on success)."""
        params = kw.pop("params", None) or connect_params(**kw)
        return self.request("connect", params, id="c1")

    def call(self, method, params=None):
        """A request that must succeed; returns its payload."""
        r = self.request(method, params)
        assert r["ok"], r
        return r.get("payload")

    def event(self, name, timeout=10):
        for i, f in enumerate(self.events):
            if f.get("event") == name:
                return self.events.pop(i)
        while True:
            f = self.recv(timeout)
            if f.get("type") == "event" and f.get("event") == name:
                return f
            self.events.append(f)

    def close(self):
        try:
            self._run(self.ws.close(), 5)
        except Exception:
            pass
        self.loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def connected(port, **kw):
    """A client that has completed the handshake (asserting hello-ok)."""
    c = Client(port, origin=kw.pop("origin", None))
    r = c.connect(**kw)
    assert r["ok"] and r["payload"]["type"] == "hello-ok", r
    c.hello = r["payload"]
    return c


class Device:
    """An Ed25519 device identity that signs connect requests as OpenClaw's
    clients do (payload v3)."""

    def __init__(self):
        import base64
        import hashlib

        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        self.id = hashlib.sha256(raw).hexdigest()
        self.token = None  # the device token from the last hello-ok

    def sign(self, params, nonce, signed_at=None, version=3):
        """Add params["device"] for this connect, signed over the challenge nonce."""
        import base64
        import time

        c = params["client"]
        auth = params.get("auth", {})
        token = next((auth[k] for k in ("token", "deviceToken", "bootstrapToken") if k in auth),
                     "")
        signed_at = int(time.time() * 1000) if signed_at is None else signed_at
        fields = ["v%d" % version, self.id, c["id"], c["mode"], params.get("role", "operator"),
                  ",".join(params.get("scopes", [])), str(signed_at), token, nonce]
        if version == 3:
            fields += [c.get("platform", "").strip().lower(),
                       c.get("deviceFamily", "").strip().lower()]
        sig = self.key.sign("|".join(fields).encode())
        params["device"] = {"id": self.id, "publicKey": self.public_key,
                            "signature": base64.urlsafe_b64encode(sig).rstrip(b"=").decode(),
                            "signedAt": signed_at, "nonce": nonce}
        return params


def device_connect(conn, device, **kw):
    """connect with `device`'s signature; remembers a device token it is given."""
    params = kw.pop("params", None) or connect_params(**kw)
    device.sign(params, conn.challenge["nonce"])
    r = conn.request("connect", params, id="c1")
    if r["ok"] and r["payload"]["auth"].get("deviceToken"):
        device.token = r["payload"]["auth"]["deviceToken"]
    return r
