"""The `view_image` (alias `image`) and `gateway` tools through real agent
turns against the fake model provider."""
import base64
import http.server
import json
import threading
import time
import zlib
import struct

import pytest

from agentkit import API_BASE, TOKEN, config, connected_tools, fake, run_agent, tool_turn  # noqa: F401


def png_bytes(w=2, h=2):
    """A real (tiny) PNG."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = png_bytes()
PNG_B64 = base64.b64encode(PNG).decode()
# agentkit.config's agents_extra lands inside agents.defaults.model: close it first
IMAGE_MODEL = ' }, imageModel: { primary: "vis/vis-model" '
IMAGE_MODEL_STR = ' }, imageModel: "vis/vis-model", contextPruning: { mode: "off" '


def vision_provider(fake, api):
    """A second provider on the fake whose model accepts images."""
    return """vis: { baseUrl: "http://127.0.0.1:%d%s", apiKey: "vis-key", api: "%s",
            models: [{ id: "vis-model", name: "Vis", input: ["text", "image"],
                       contextWindow: 128000, maxTokens: 4096 }] },""" % (
        fake.port, API_BASE[api], api)


def image_turn(c, fake, args, answer="A small red square.", session_key="agent:main:img"):
    """The model calls view_image; the image model (if any) answers `answer`."""
    c.events.clear()
    fake.script([{"tool_calls": [{"name": "view_image", "arguments": args}]},
                 {"text": answer}, {"text": "done"}])
    _, final, events = run_agent(c, "look at it", sessionKey=session_key)
    assert final["ok"], final
    from agentkit import tool_results
    res = tool_results(events)
    assert res
    return res[-1]


def vision_request(fake):
    """The request that went to the image model (the one whose model is vis-model)."""
    for r in fake.requests:
        if r["body"].get("model") == "vis-model":
            return r
    raise AssertionError("no request reached the image model")


@pytest.mark.parametrize("api", ["openai-completions", "anthropic-messages"])
def test_image_one_shot_wire_format(penv, gateway, fake, api):
    ws = config(penv, fake, extra_models=vision_provider(fake, api),
                agents_extra=IMAGE_MODEL)
    (ws / "pic.png").write_bytes(PNG)
    g = gateway()
    with connected_tools(g.port) as c:
        r = image_turn(c, fake, {"path": "pic.png", "prompt": "What colour?"})
    assert not r["isError"], r
    assert r["text"] == "A small red square."
    body = vision_request(fake)["body"]
    msg = body["messages"][-1]
    assert msg["role"] == "user"
    if api == "openai-completions":
        parts = msg["content"]
        assert {"type": "text", "text": "What colour?"} in parts
        urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
        assert urls == ["data:image/png;base64," + PNG_B64]
    else:
        parts = msg["content"]
        assert any(p["type"] == "text" and p["text"] == "What colour?" for p in parts)
        imgs = [p for p in parts if p["type"] == "image"]
        assert imgs == [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                      "data": PNG_B64}}]
    # the image model got no tools: a one-shot look, not an agent turn
    assert not body.get("tools")


def test_image_native_when_session_model_has_vision(penv, gateway, fake):
    # the session's own model accepts images: the tool hands the images back
    ws = penv.home / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    penv.write_config(_vision_config(penv, fake, ws))
    (ws / "pic.png").write_bytes(PNG)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "view_image", {"path": "pic.png"})
    assert not r["isError"], r
    assert "Loaded 1 image into private model context" in r["text"]
    assert {"type": "image", "data": PNG_B64, "mimeType": "image/png"} in r["result"]
    # and the image reached the model in the tool result (Chat Completions: a user image part)
    last = fake.requests[-1]["body"]["messages"]
    flat = json.dumps(last)
    assert "data:image/png;base64," + PNG_B64 in flat


def _vision_config(penv, fake, ws):
    return """{
  gateway: { auth: { token: "%s" } },
  models: { providers: {
    fake: { baseUrl: "http://127.0.0.1:%d/v1", apiKey: "fake-key", api: "openai-completions",
            models: [{ id: "fake-model", name: "Fake", input: ["text", "image"],
                       contextWindow: 128000, maxTokens: 4096 }] },
  } },
  agents: { defaults: { model: { primary: "fake/fake-model" }, workspace: "%s" } },
}""" % (TOKEN, fake.port, ws)


def test_image_alias_data_url_and_errors(penv, gateway, fake):
    ws = config(penv, fake, extra_models=vision_provider(fake, "openai-completions"),
                agents_extra=IMAGE_MODEL_STR)
    (ws / "notes.txt").write_text("not an image at all")
    (ws / "big.png").write_bytes(PNG + b"\0" * (2 * 1024 * 1024))
    outside = penv.home / "outside.png"
    outside.write_bytes(PNG)
    g = gateway()
    with connected_tools(g.port) as c:
        # the old name and the old param name still work; a data: URL is accepted
        c.events.clear()
        fake.script([{"tool_calls": [{"name": "image", "arguments": {
            "image": "data:image/png;base64," + PNG_B64}}]}, {"text": "red"}, {"text": "ok"}])
        _, final, events = run_agent(c, "look", sessionKey="agent:main:img2")
        from agentkit import tool_results
        r = tool_results(events)[-1]
        assert not r["isError"] and r["text"] == "red", r

        r = tool_turn(c, fake, "view_image", {"path": "missing.png"})
        assert r["isError"] and "image not found" in r["text"]
        r = tool_turn(c, fake, "view_image", {"path": "notes.txt"})
        assert r["isError"] and "not an image" in r["text"]
        r = tool_turn(c, fake, "view_image", {"path": "big.png", "maxBytesMb": 1})
        assert r["isError"] and "too large" in r["text"]
        r = tool_turn(c, fake, "view_image", {"path": "ftp://example.com/x.png"})
        assert r["isError"] and "Unsupported image reference" in r["text"]
        r = tool_turn(c, fake, "view_image", {"path": "data:text/plain;base64,aGk="})
        assert r["isError"] and "unsupported data URL type" in r["text"]
        r = tool_turn(c, fake, "view_image", {"paths": ["a.png", "b.png", "c.png"],
                                              "maxImages": 2})
        assert r["isError"] and "Too many images" in r["text"]
        # absolute paths outside the workspace are fine unless tools.fs.workspaceOnly
        r = tool_turn(c, fake, "view_image", {"path": str(outside)}, reply="x")
        assert not r["isError"], r


def test_image_workspace_only_and_no_model(penv, gateway, fake):
    ws = config(penv, fake, extra_models=vision_provider(fake, "openai-completions"),
                top="tools: { fs: { workspaceOnly: true } },")
    outside = penv.home / "outside.png"
    outside.write_bytes(PNG)
    (ws / "link.png").symlink_to(outside)
    (ws / "pic.png").write_bytes(PNG)
    g = gateway()
    with connected_tools(g.port) as c:
        for p in (str(outside), "../outside.png", "link.png", "file://" + str(outside)):
            r = tool_turn(c, fake, "view_image", {"path": p, "model": "vis/vis-model"})
            assert r["isError"] and "outside the workspace" in r["text"], (p, r)
        # no imageModel and a text-only session model
        r = tool_turn(c, fake, "view_image", {"path": "pic.png"})
        assert r["isError"] and "No image model is configured" in r["text"]
        # a model that does not take images is refused before any call
        r = tool_turn(c, fake, "view_image", {"path": "pic.png", "model": "fake/fake-model"})
        assert r["isError"] and "does not accept images" in r["text"]


class _ImageServer:
    def __init__(self):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path == "/pic.png":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(PNG)))
                    self.end_headers()
                    self.wfile.write(PNG)
                elif self.path == "/redir":
                    self.send_response(302)
                    self.send_header("Location", "/pic.png")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.end_headers()
                    try:
                        self.wfile.write(PNG + b"\0" * (3 * 1024 * 1024))
                    except OSError:
                        pass
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                outer.hits.append(self.path)

        self.hits = []
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_image_remote_fetch(penv, gateway, fake):
    srv = _ImageServer()
    try:
        # private addresses are refused by default ...
        config(penv, fake, extra_models=vision_provider(fake, "openai-completions"),
               agents_extra=IMAGE_MODEL_STR)
        g = gateway()
        with connected_tools(g.port) as c:
            for url in ("http://127.0.0.1:%d/pic.png" % srv.port, "http://[::1]:1/x.png",
                        "http://0x7f000001:%d/pic.png" % srv.port,
                        "http://169.254.169.254/latest/meta-data", "http://localhost:1/x.png"):
                r = tool_turn(c, fake, "view_image", {"path": url})
                assert r["isError"] and "private or internal address" in r["text"], (url, r)
        assert srv.hits == []
        g.stop()
        # ... and fetched when the operator allows private networks
        config(penv, fake, extra_models=vision_provider(fake, "openai-completions"),
               agents_extra=IMAGE_MODEL_STR,
               top="tools: { web: { fetch: { ssrfPolicy: "
                   "{ dangerouslyAllowPrivateNetwork: true } } } },")
        g = gateway()
        with connected_tools(g.port) as c:
            fake.reset()
            r = image_turn(c, fake, {"path": "http://127.0.0.1:%d/redir" % srv.port},
                           answer="fetched")
            assert not r["isError"] and r["text"] == "fetched", r
            flat = json.dumps(vision_request(fake)["body"])
            assert "data:image/png;base64," + PNG_B64 in flat
            r = tool_turn(c, fake, "view_image",
                          {"path": "http://127.0.0.1:%d/nope.png" % srv.port})
            assert r["isError"] and "HTTP 404" in r["text"]
            r = tool_turn(c, fake, "view_image",
                          {"path": "http://127.0.0.1:%d/huge" % srv.port, "maxBytesMb": 1})
            assert r["isError"] and "too large" in r["text"]
        assert "/redir" in srv.hits and "/pic.png" in srv.hits
    finally:
        srv.close()


def test_image_provider_error(penv, gateway, fake):
    ws = config(penv, fake, extra_models=vision_provider(fake, "anthropic-messages"),
                agents_extra=IMAGE_MODEL)
    (ws / "pic.png").write_bytes(PNG)
    g = gateway()
    with connected_tools(g.port) as c:
        c.events.clear()
        fake.script([{"tool_calls": [{"name": "view_image", "arguments": {"path": "pic.png"}}]},
                     {"error": 400}, {"text": "done"}])
        _, final, events = run_agent(c, "look", sessionKey="agent:main:imgerr")
        from agentkit import tool_results
        r = tool_results(events)[-1]
        assert r["isError"] and "Image model failed" in r["text"] and "vis/vis-model" in r["text"]


# ==== gateway ====

EXEC_TOP = 'tools: { exec: { security: "allowlist", ask: "on-miss" } },'


def gw_json(r):
    return json.loads(r["text"])


def config_hash(c, fake):
    r = tool_turn(c, fake, "gateway", {"action": "config.get", "path": "gateway.auth"})
    assert not r["isError"], r
    return gw_json(r)["result"]["hash"]


def test_gateway_config_get_is_redacted(penv, gateway, fake):
    config(penv, fake, top=EXEC_TOP)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "gateway", {"action": "config.get"})
        assert not r["isError"], r
        assert "fake-key" not in r["text"] and TOKEN not in r["text"]
        assert "__OPENCLAW_REDACTED__" in r["text"]
        out = gw_json(r)
        assert out["ok"] and out["result"]["valid"] is True
        assert out["result"]["hash"] == c.call("config.get", {})["hash"]
        r = tool_turn(c, fake, "gateway", {"action": "config.get",
                                           "path": "models.providers.fake"})
        sub = gw_json(r)["result"]
        assert sub["path"] == "models.providers.fake"
        assert sub["config"]["apiKey"] == "__OPENCLAW_REDACTED__"
        assert sub["config"]["models"][0]["id"] == "fake-model"
        r = tool_turn(c, fake, "gateway", {"action": "config.get",
                                           "path": "models.providers.fake.models[0].id"})
        assert gw_json(r)["result"]["config"] == "fake-model"
        r = tool_turn(c, fake, "gateway", {"action": "config.get", "path": "nope.nothing"})
        assert r["isError"] and "config path not found: nope.nothing" in r["text"]


def test_gateway_schema_lookup(penv, gateway, fake):
    config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "gateway", {"action": "config.schema.lookup",
                                           "path": "gateway.port"})
        assert not r["isError"], r
        out = gw_json(r)
        assert out["ok"] and out["result"]["path"] == "gateway.port"
        assert out["result"]["schema"]["type"] == "integer"
        assert out["result"]["reloadKind"] == "restart"
        # the same answer the RPC gives
        assert out["result"] == c.call("config.schema.lookup", {"path": "gateway.port"})
        r = tool_turn(c, fake, "gateway", {"action": "config.schema.lookup",
                                           "path": "gateway.nope"})
        assert gw_json(r) == {"ok": False, "code": "schema_path_not_found",
                              "path": "gateway.nope", "message": "config schema path not found"}
        r = tool_turn(c, fake, "gateway", {"action": "config.schema.lookup"})
        assert r["isError"] and "path required" in r["text"]


def test_gateway_config_patch(penv, gateway, fake):
    config(penv, fake, top=EXEC_TOP)
    g = gateway()
    with connected_tools(g.port) as c:
        h = config_hash(c, fake)
        r = tool_turn(c, fake, "gateway", {
            "action": "config.patch", "baseHash": h, "note": "quieter logs",
            "raw": '{ logging: { level: "debug" }, tools: { exec: { security: "deny" } } }'})
        assert not r["isError"], r
        out = gw_json(r)["result"]
        # (the RPC names a section that did not exist before by its own path)
        assert out["ok"] and sorted(out["changedPaths"]) == ["logging", "tools.exec.security"]
        assert out["restartRequired"] is False
        assert "fake-key" not in r["text"]
        # the file changed, and the running gateway took it (hot reload)
        text = penv.config.read_text()
        assert '"debug"' in text and '"deny"' in text
        ev = c.event("config.changed")
        assert ev["payload"]["hash"] == out["hash"]
        assert c.call("config.get", {})["config"]["logging"]["level"] == "debug"
        # a stale baseHash is refused and nothing is written
        r = tool_turn(c, fake, "gateway", {"action": "config.patch", "baseHash": h,
                                           "raw": '{ logging: { level: "warn" } }'})
        assert r["isError"] and "config changed since last load" in r["text"]
        assert '"warn"' not in penv.config.read_text()
        # without baseHash the tool uses the current one
        r = tool_turn(c, fake, "gateway", {"action": "config.patch",
                                           "raw": '{ logging: { level: "warn" } }'})
        assert not r["isError"], r
        assert '"warn"' in penv.config.read_text()
        # invalid config is refused with the RPC's issues
        r = tool_turn(c, fake, "gateway", {"action": "config.patch",
                                           "raw": '{ gateway: { port: "x" } }'})
        assert r["isError"] and "gateway.port" in r["text"]
        r = tool_turn(c, fake, "gateway", {"action": "config.patch", "raw": "{ nope"})
        assert r["isError"] and "JSON5 parse failed" in r["text"]


@pytest.mark.parametrize("raw", [
    '{ tools: { exec: { security: "full" } } }',
    '{ tools: { exec: { ask: "off" } } }',
    '{ tools: { exec: { security: null } } }',
    '{ tools: { exec: { host: "gateway" } } }',
    '{ tools: null }',
    '{ tools: { elevated: { enabled: true } } }',
    '{ agents: { list: [{ id: "main", tools: { exec: { security: "full" } } }] } }',
])
def test_gateway_refuses_loosening_exec(penv, gateway, fake, raw):
    config(penv, fake, top=EXEC_TOP)
    before = penv.config.read_text()
    g = gateway()
    with connected_tools(g.port) as c:
        h = config_hash(c, fake)
        r = tool_turn(c, fake, "gateway", {"action": "config.patch", "baseHash": h, "raw": raw})
        assert r["isError"], r
        out = gw_json(r)
        assert out["code"] == "exec_policy_protected" and "tools." in out["message"]
    assert penv.config.read_text() == before


def test_gateway_apply_update_and_tightening(penv, gateway, fake):
    config(penv, fake, top=EXEC_TOP)
    g = gateway()
    with connected_tools(g.port) as c:
        snap = c.call("config.get", {})
        # config.apply that drops the exec section loosens it: refused
        whole = dict(snap["parsed"])
        whole.pop("tools")
        r = tool_turn(c, fake, "gateway", {"action": "config.apply", "baseHash": snap["hash"],
                                           "raw": json.dumps(whole)})
        assert r["isError"] and gw_json(r)["code"] == "exec_policy_protected"
        # the same with a stricter exec policy goes through (credentials round-trip masked)
        whole["tools"] = {"exec": {"security": "deny", "ask": "always"}}
        r = tool_turn(c, fake, "gateway", {"action": "config.apply", "baseHash": snap["hash"],
                                           "raw": json.dumps(whole)})
        assert not r["isError"], r
        text = penv.config.read_text()
        assert '"always"' in text and "fake-key" in text  # the real key kept on disk
        for action in ("update.run", "restart"):
            r = tool_turn(c, fake, "gateway", {"action": action})
            assert r["isError"] and "not available" in r["text"]


def test_image_abort_stops_the_model_call(penv, gateway, fake):
    ws = config(penv, fake, extra_models=vision_provider(fake, "openai-completions"),
                agents_extra=IMAGE_MODEL)
    (ws / "pic.png").write_bytes(PNG)
    g = gateway()
    with connected_tools(g.port) as c:
        fake.script([{"tool_calls": [{"name": "view_image", "arguments": {"path": "pic.png"}}]},
                     {"delay_ms": 20000, "text": "too late"}])
        c.send({"type": "req", "id": "ab", "method": "agent",
                "params": {"message": "look", "sessionKey": "agent:main:imgabort",
                           "idempotencyKey": "imgabort1"}})
        assert c.res("ab")["ok"]
        deadline = time.monotonic() + 10
        while not any(r["body"].get("model") == "vis-model" for r in fake.requests):
            assert time.monotonic() < deadline, "the image model was never called"
            time.sleep(0.05)
        t0 = time.monotonic()
        assert c.call("chat.abort", {"sessionKey": "agent:main:imgabort"})["aborted"] is True
        seen = []
        while True:  # the run ends (lifecycle end) without waiting for the fake
            f = c.event("agent", timeout=10)
            seen.append(f)
            ev = f["payload"]
            if ev["stream"] == "lifecycle" and ev["data"]["phase"] == "end":
                break
        assert ev["data"]["aborted"] is True
        assert time.monotonic() - t0 < 5  # not the fake's 20 s delay
        from agentkit import tool_results
        res = [r for r in tool_results(seen) if r["name"] == "view_image"]
        assert res and res[-1]["isError"] and "abort" in res[-1]["text"].lower(), res
