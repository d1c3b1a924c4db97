"""The Control UI: how the gateway serves it (headers, caching, gzip, base
path, a root directory), and the UI itself driven in headless Chromium over
the DevTools protocol (tests/e2e/cdp.py): token entry, a streamed reply
from the fake model, stop, device pairing, config apply with an error and
then a fixed one, a phone-sized layout, and a page on another origin that
must not be able to use the gateway. Screenshots go to
$PINCER_ARTIFACTS (default: the test's tmp dir)/screenshots.
"""
import gzip
import hashlib
import base64
import http.client
import json
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import cdp
from agentkit import TOKEN, config, fake  # noqa: F401
from wsclient import Client, connected, device_connect
from wsclient import Device

OCREF_UI = Path("/work/ocref/node_modules/openclaw/dist/control-ui")
needs_chromium = pytest.mark.skipif(not cdp.available(), reason="chromium is not installed")


def fetch(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def html_get(port, path, **h):
    return fetch(port, path, {"Accept": "text/html,application/xhtml+xml", **h})


def assets_prefix(body):
    m = re.search(rb'src="([^"]*/_/[0-9a-f]{12})/js/main\.js"', body)
    assert m, body[:500]
    return m.group(1).decode()


def artifacts(tmp_path):
    d = Path(os.environ.get("PINCER_ARTIFACTS", tmp_path)) / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


# ==== serving ====

def test_index_headers_csp_and_revalidation(gateway):
    g = gateway()
    status, h, body = html_get(g.port, "/")
    assert status == 200 and h["content-type"] == "text/html; charset=utf-8"
    csp = h["content-security-policy"]
    for part in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'",
                 "object-src 'none'", "base-uri 'none'", "connect-src 'self'"):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["cache-control"] == "no-cache"
    # No inline script at all: every <script> has a src.
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", body)
    etag = h["etag"]
    status, h2, body2 = html_get(g.port, "/", **{"If-None-Match": etag})
    assert status == 304 and body2 == b"" and h2["etag"] == etag


def test_assets_types_immutable_and_gzip(gateway):
    g = gateway()
    pre = assets_prefix(html_get(g.port, "/")[2])
    status, h, css = fetch(g.port, pre + "/app.css")
    assert status == 200 and h["content-type"] == "text/css; charset=utf-8"
    assert h["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-encoding" not in h and h["vary"] == "Accept-Encoding"
    status, h, js = fetch(g.port, pre + "/js/gateway.js", {"Accept-Encoding": "gzip, br"})
    assert status == 200 and h["content-type"] == "text/javascript; charset=utf-8"
    assert h["content-encoding"] == "gzip"
    plain = gzip.decompress(js)
    assert b"connect.challenge" in plain
    assert fetch(g.port, pre + "/js/gateway.js")[2] == plain
    # gzip;q=0 means no.
    assert "content-encoding" not in fetch(g.port, pre + "/js/gateway.js", {"Accept-Encoding": "gzip;q=0"})[1]
    status, h, _ = fetch(g.port, pre + "/favicon.svg")
    assert h["content-type"] == "image/svg+xml"
    # An old build id is still served, but must be revalidated.
    assert fetch(g.port, "/_/000000000000/app.css")[1]["cache-control"] == "no-cache"
    # The .gz copies are representations, not URLs of their own.
    assert fetch(g.port, pre + "/app.css.gz")[0] == 404


def test_spa_fallback_and_404s(gateway):
    g = gateway()
    status, h, body = html_get(g.port, "/sessions")
    assert status == 200 and b'<div id="app"' in body
    assert html_get(g.port, "/nope.js")[0] == 404          # a missing asset is not the app
    assert fetch(g.port, "/no/such/thing")[0] == 404       # API clients get their 404
    assert fetch(g.port, "/health")[0] == 200              # probes unaffected
    assert fetch(g.port, "/", method="POST")[0] == 404


def test_base_path(gateway, penv):
    penv.write_config('{ gateway: { controlUi: { basePath: "/pincer/" } } }')
    g = gateway()
    status, h, _ = fetch(g.port, "/")
    assert status == 302 and h["location"] == "/pincer/"
    assert fetch(g.port, "/pincer")[1]["location"] == "/pincer/"
    status, h, body = html_get(g.port, "/pincer/")
    assert status == 200 and b'content="/pincer"' in body
    pre = assets_prefix(body)
    assert pre.startswith("/pincer/_/")
    assert fetch(g.port, pre + "/app.css")[0] == 200
    assert html_get(g.port, "/pincer/config")[0] == 200
    assert html_get(g.port, "/elsewhere")[0] == 404
    assert fetch(g.port, "/health")[0] == 200


def test_disabled_shows_status_page(gateway, penv):
    penv.write_config('{ gateway: { controlUi: { enabled: false } } }')
    g = gateway()
    status, h, body = html_get(g.port, "/")
    assert status == 200 and b"turned off" in body
    assert html_get(g.port, "/sessions")[0] == 404


def test_root_directory_and_traversal(gateway, penv, tmp_path):
    root = tmp_path / "uiroot"
    (root / "assets").mkdir(parents=True)
    inline = "window.x = 1;"
    (root / "index.html").write_text(
        '<!doctype html><html lang="en"><head><script>%s</script>'
        '<script type="module" src="./assets/app.js"></script></head><body>root ui</body></html>' % inline)
    (root / "assets" / "app.js").write_text("console.log('hi')\n" * 50)
    (root / "assets" / "app.js.gz").write_bytes(gzip.compress((root / "assets" / "app.js").read_bytes()))
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")
    penv.write_config('{ gateway: { auth: { token: "%s" }, controlUi: { root: "%s", basePath: "/oc" } } }'
                      % (TOKEN, root))
    g = gateway()
    status, h, body = html_get(g.port, "/oc/")
    assert status == 200 and b"root ui" in body
    assert b'src="/oc/assets/app.js"' in body and b'data-openclaw-control-ui-base-path="/oc"' in body
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    status, h, js = fetch(g.port, "/oc/assets/app.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and h["content-encoding"] == "gzip" and h["cache-control"].endswith("immutable")
    assert fetch(g.port, "/oc/deep/link/assets/app.js")[0] == 200
    assert html_get(g.port, "/oc/chat")[0] == 200  # SPA fallback
    for bad in ("/oc/../secret.txt", "/oc/%2e%2e/secret.txt", "/oc/assets/..%2f..%2fsecret.txt",
                "/oc/leak.txt", "/oc//etc/passwd", "/oc/assets/app.js.gz"):
        status, _, body = fetch(g.port, bad)
        assert b"top secret" not in body and b"root:" not in body, bad
        assert status in (400, 404), (bad, status)
    # OpenClaw's bootstrap config, for its own UI.
    status, _, body = fetch(g.port, "/oc/__openclaw/control-ui-config.json")
    cfg = json.loads(body)
    assert status == 200 and cfg["basePath"] == "/oc" and cfg["assistantName"]


def test_root_revalidation_head_and_literal_names(gateway, penv, tmp_path):
    """Root files are read off the loop and answered later: 304s, HEAD,
    q=0 and names that only look encoded still come out right."""
    root = tmp_path / "uiroot"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><html><body>r</body></html>")
    (root / "assets" / "app.js").write_text("x = 1;\n" * 1000)
    (root / "assets" / "app.js.gz").write_bytes(gzip.compress((root / "assets" / "app.js").read_bytes()))
    (root / "%2e%2e").mkdir()
    (root / "%2e%2e" / "odd.txt").write_text("literal")
    penv.write_config('{ gateway: { controlUi: { root: "%s" } } }' % root)
    g = gateway()
    status, h, body = fetch(g.port, "/assets/app.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and h["content-encoding"] == "gzip" and h["etag"].endswith('-gz"')
    status, h2, body = fetch(g.port, "/assets/app.js", {"Accept-Encoding": "gzip",
                                                         "If-None-Match": 'W/"x", ' + h["etag"]})
    assert status == 304 and body == b"" and h2["etag"] == h["etag"]
    status, h3, body = fetch(g.port, "/assets/app.js", {"Accept-Encoding": "gzip;q=0",
                                                         "If-None-Match": h["etag"]})
    assert status == 200 and "content-encoding" not in h3 and body == b"x = 1;\n" * 1000
    status, h4, body = fetch(g.port, "/assets/app.js", method="HEAD")
    assert status == 200 and body == b"" and h4["content-length"] == str(7000)
    # Decoded once by the server, never twice: "%252e%252e" is the directory "%2e%2e".
    status, _, body = fetch(g.port, "/%252e%252e/odd.txt")
    assert status == 200 and body == b"literal"
    assert fetch(g.port, "/assets/..%5c..%5cindex.html")[0] == 404


# ==== in the browser ====

@pytest.fixture
def browser(tmp_path):
    if not cdp.available():
        pytest.skip("chromium is not installed")
    b = cdp.Browser()
    yield b
    b.close()


def login(b, url):
    b.navigate(url)
    b.wait("document.querySelector('#token')")
    b.type("#token", TOKEN)
    b.press("Enter")
    b.wait("document.querySelector('.status.ok') && !document.querySelector('.gate')")


def send(b, text):
    b.type("#composer", text)
    b.press("Enter")


def assistant_text(b):
    return b.eval("[...document.querySelectorAll('.msg.assistant')].map(e => e.textContent).join('\\n')")


@needs_chromium
def test_chat_streams_stops_and_survives_reload(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    config(penv, fake)
    g = gateway()
    shots = artifacts(tmp_path)
    b = browser
    # The token arrives once in the fragment and leaves the address bar.
    b.navigate(g.url + "/#token=" + TOKEN)
    b.wait("document.querySelector('#composer')")
    assert "token" not in b.eval("location.href")
    assert b.eval("sessionStorage.length") == 1
    assert b.eval("localStorage.length") == 0
    send(b, "hello **there**")
    b.wait("document.body.textContent.includes('Hello from the fake provider.')")
    assert b.eval("document.querySelector('.msg.user strong').textContent") == "there"
    b.screenshot(shots / "chat.png")

    # Raw HTML from the model stays text; code blocks get a copy button.
    fake.script([{"text": "<img src=x onerror=alert(1)> and\n\n```js\nlet a = 1;\n```"}])
    send(b, "show me html")
    b.wait("document.querySelector('.codeblock .copy')")
    assert b.eval("document.querySelectorAll('.messages img').length") == 0
    assert "<img src=x" in assistant_text(b)

    # A slow reply: the stop button ends it.
    fake.script([{"chunks": ["Thinking about", " it", " for a long", " time"], "stall_after_ms": 15000}])
    send(b, "take your time")
    b.wait("document.body.textContent.includes('Thinking about')")
    b.wait("!document.querySelector('#stop').hidden")
    b.click("#stop")
    b.wait("document.body.textContent.includes('(stopped)')", timeout=20)
    b.wait("document.querySelector('#stop').hidden && !document.querySelector('#send').hidden")
    b.screenshot(shots / "stopped.png")

    # A reload keeps the tab's token and reads the history back.
    b.navigate(g.url + "/")
    b.wait("document.body.textContent.includes('Hello from the fake provider.')")
    assert not b.errors, b.errors


@needs_chromium
def test_login_form_errors_then_connects(gateway, penv, fake, browser):  # noqa: F811
    config(penv, fake)
    g = gateway()
    b = browser
    b.navigate(g.url + "/?token=" + TOKEN)  # a query token is never used
    b.wait("document.querySelector('#token')")
    assert "token" not in b.eval("location.search")
    b.type("#token", "wrong-token")
    b.press("Enter")
    b.wait("document.querySelector('.login .error')")
    b.type("#token", TOKEN)
    b.press("Enter")
    b.wait("document.querySelector('#composer')")
    # Keyboard: g then o opens the overview.
    b.eval("document.activeElement.blur()")
    for k in ("g", "o"):
        b.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": k, "text": k})
    b.wait("location.pathname === '/overview' && document.querySelector('#h-overview')")
    b.wait("document.body.textContent.includes('Healthy')")
    # The console error of the failed login (the refused WebSocket) is the only kind allowed.
    assert not [e for e in b.errors if "WebSocket" not in e], b.errors


@needs_chromium
def test_device_pairing_approved_from_the_ui(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    config(penv, fake)
    g = gateway()
    b = browser
    login(b, g.url + "/approvals")
    b.wait("document.querySelector('#h-dev')")
    dev = Device()
    with Client(g.port, headers={"X-Forwarded-For": "203.0.113.7"}) as c:
        r = device_connect(c, dev, token=TOKEN, scopes=["operator.read"])
        assert r["error"]["code"] == "NOT_PAIRED"
        request_id = r["error"]["details"]["requestId"]
    # The request shows up by itself (device.pair.requested), with a badge.
    b.wait("document.body.textContent.includes('Approve') && document.querySelector('.approval')")
    b.wait("document.querySelector('[data-badge=approvals]').textContent === '1'")
    b.screenshot(artifacts(tmp_path) / "pairing.png")
    b.click(".approval .btn.primary")
    b.wait("document.body.textContent.includes('No device is waiting for approval.')")
    with connected(g.port, token=TOKEN) as admin:
        listed = admin.call("device.pair.list")
        assert not listed["pending"] and dev.id in [p["deviceId"] for p in listed["paired"]]
    assert request_id
    assert not b.errors, b.errors


@needs_chromium
def test_config_apply_error_then_fixed(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    config(penv, fake)
    g = gateway()
    b = browser
    login(b, g.url + "/config")
    b.wait("document.querySelector('#config-raw').value.includes('fake-model')")
    # Secrets stay masked in the editor and the summary.
    raw = b.eval("document.querySelector('#config-raw').value")
    assert "fake-key" not in raw and TOKEN not in raw and "__OPENCLAW_REDACTED__" in raw
    assert "fake-key" not in b.eval("document.body.innerText")
    # A syntax error: not applied, and the line is marked.
    b.eval("""(() => { const t = document.querySelector('#config-raw');
               t.value = t.value.replace('gateway:', 'gateway: {{ broken');
               t.dispatchEvent(new Event('input')); })()""")
    b.click("#config-apply")
    b.wait("document.querySelector('.issues') && document.querySelector('.gutter .ln.bad')")
    assert "line" in b.eval("document.querySelector('.issues').textContent")
    b.screenshot(artifacts(tmp_path) / "config-error.png")
    # A schema error, then the fix.
    b.click("#config-reload")
    b.wait("!document.querySelector('#config-raw').value.includes('broken')")
    b.eval("""(() => { const t = document.querySelector('#config-raw');
               t.value = t.value.replace('{', '{ session: { mainKey: 42 },');
               t.dispatchEvent(new Event('input')); })()""")
    b.click("#config-apply")
    b.wait("document.querySelector('.issues') && document.querySelector('.issues').textContent.includes('session.mainKey')")
    b.eval("""(() => { const t = document.querySelector('#config-raw');
               t.value = t.value.replace('mainKey: 42', 'mainKey: "main"');
               t.dispatchEvent(new Event('input')); })()""")
    b.click("#config-apply")
    b.wait("!document.querySelector('.issues')")
    text = (penv.state / "pincer.json").read_text()
    assert 'mainKey' in text and "fake-key" in text  # the masked key came back as itself
    assert not b.errors, b.errors


@needs_chromium
def test_first_run_setup_writes_a_provider(gateway, penv, browser, tmp_path):
    penv.write_config('{ gateway: { auth: { token: "%s" } } }' % TOKEN)
    g = gateway(env={k: "" for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENROUTER_API_KEY")})
    b = browser
    b.navigate(g.url + "/")
    b.wait("document.querySelector('#token')")
    b.type("#token", TOKEN)
    b.press("Enter")
    b.wait("document.querySelector('#h-setup')")
    b.screenshot(artifacts(tmp_path) / "setup.png")
    b.click(".setup button[type=submit]")       # Anthropic (the default choice)
    b.type("#setup-key", "sk-ant-test-key-123456")
    b.click(".setup button[type=submit]")
    b.wait("document.querySelector('#setup-model')")
    assert "sk-ant-test" not in b.eval("document.body.innerHTML")
    b.click(".setup button[type=submit]")
    b.wait("document.querySelector('#composer')")
    text = (penv.state / "pincer.json").read_text()
    assert "sk-ant-test-key-123456" in text and "anthropic/claude" in text
    assert not b.errors, b.errors


@needs_chromium
def test_phone_layout(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    config(penv, fake)
    g = gateway()
    b = browser
    b.viewport(390, 844, mobile=True)
    login(b, g.url + "/")
    # No sideways scrolling, the nav is tucked away behind the menu button.
    assert b.eval("document.documentElement.scrollWidth <= window.innerWidth")
    assert b.eval("document.querySelector('.nav').getBoundingClientRect().right <= 1")
    send(b, "hi")
    b.wait("document.body.textContent.includes('Hello from the fake provider.')")
    b.screenshot(artifacts(tmp_path) / "phone-chat.png")
    b.click("button.menu")
    b.wait("document.querySelector('.nav').getBoundingClientRect().left >= 0")
    b.click("a.navlink[data-route=sessions]")
    b.wait("document.querySelector('#h-sessions') && document.querySelector('.table')")
    assert b.eval("document.documentElement.scrollWidth <= window.innerWidth")
    b.screenshot(artifacts(tmp_path) / "phone-sessions.png")
    # Every form control has an accessible name.
    unnamed = b.eval("""[...document.querySelectorAll('input, select, textarea, button')].filter(e => !e.hidden &&
        !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).length""")
    assert unnamed == 0
    assert not b.errors, b.errors


class _Evil(SimpleHTTPRequestHandler):
    """A page on another origin that tries to use the gateway's WebSocket."""
    gw_port = 0

    def do_GET(self):
        page = ("<!doctype html><script>const ws = new WebSocket('ws://127.0.0.1:%d/');"
                "window.result = 'pending';"
                "ws.onmessage = (e) => { const f = JSON.parse(e.data);"
                " if (f.event === 'connect.challenge') ws.send(JSON.stringify({type:'req',id:'1',method:'connect',"
                " params:{minProtocol:4,maxProtocol:4,client:{id:'webchat',version:'1',platform:'web',mode:'webchat'},"
                " role:'operator',scopes:['operator.admin'],auth:{token:'%s'}}}));"
                " else if (f.type === 'res') window.result = f.ok ? 'connected' : f.error.details.code; };"
                "ws.onclose = () => { if (window.result === 'pending') window.result = 'closed'; };</script>"
                % (self.gw_port, TOKEN)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *a):
        pass


@needs_chromium
def test_other_origin_cannot_drive_the_gateway(gateway, penv, fake, tmp_path):  # noqa: F811
    config(penv, fake)
    g = gateway()
    _Evil.gw_port = g.port
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Evil)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # evil.test resolves to this machine, so the page's origin is not a loopback name.
    b = cdp.Browser(args=["--host-resolver-rules=MAP evil.test 127.0.0.1"])
    try:
        b.navigate("http://evil.test:%d/" % srv.server_port)
        result = b.wait("window.result !== 'pending' && window.result")
        assert result == "CONTROL_UI_ORIGIN_NOT_ALLOWED", result
    finally:
        b.close()
        srv.shutdown()
    # The UI's own page cannot be framed by it either.
    _, h, _ = html_get(g.port, "/")
    assert h["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in h["content-security-policy"]


@needs_chromium
@pytest.mark.skipif(not (OCREF_UI / "index.html").exists(), reason="OpenClaw's Control UI is not installed")
def test_openclaw_control_ui_connects(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    config(penv, fake, top='gateway: { controlUi: { root: "%s" } },' % OCREF_UI)
    # config() wrote gateway.auth; merge the root in by rewriting the file with both.
    text = (penv.state / "pincer.json").read_text()
    text = text.replace('gateway: { auth: { token: "%s" } },' % TOKEN, "", 1)
    text = text.replace('gateway: { controlUi:', 'gateway: { auth: { token: "%s" }, controlUi:' % TOKEN, 1)
    penv.write_config(text)
    g = gateway()
    b = browser
    b.navigate(g.url + "/#token=" + TOKEN)
    # OpenClaw's UI finishes its handshake and reports it; pincer's log says who connected.
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "openclaw-control-ui" not in g.output():
        time.sleep(0.2)
    b.screenshot(artifacts(tmp_path) / "openclaw-ui.png")
    assert "openclaw-control-ui" in g.output() and "connected as operator" in g.output(), g.output()[-3000:]
    csp_errors = [e for e in b.errors if "Content Security Policy" in e]
    assert not csp_errors, csp_errors
