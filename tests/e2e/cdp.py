"""A small Chrome DevTools Protocol driver for the end-to-end tests.

Starts Debian's /usr/bin/chromium headless with a fresh profile, opens one
page and drives it over CDP with the `websockets` package:

    with Browser() as b:
        b.navigate("http://127.0.0.1:18789/")
        b.wait("document.querySelector('#token')")
        b.type("#token", "secret")
        b.press("Enter")
        b.screenshot(tmp_path / "chat.png")
        assert not b.errors          # console errors, exceptions, CSP reports

Synchronous on the outside: a private asyncio loop runs in a thread and
every call waits for its answer. Console errors (console.error, uncaught
exceptions, rejected promises, and browser log entries at level error -
CSP violations, failed loads) are collected in `errors`.
"""
import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import websockets

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def available():
    return os.access(CHROMIUM, os.X_OK)


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, width=1280, height=860, args=()):
        self.profile = tempfile.mkdtemp(prefix="pincer-chromium-")
        self.errors = []
        self.console = []
        self.ids = itertools.count(1)
        self.pending = {}
        self.waiters = []
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-extensions",
               "--disable-dev-shm-usage", "--password-store=basic", "--use-mock-keychain",
               "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
               f"--window-size={width},{height}", *args, "about:blank"]
        # stderr to a file: a pipe nobody reads would stall chromium once full.
        self.stderr = open(Path(self.profile) / "stderr.log", "w+b")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     start_new_session=True)
        try:
            ws_url = self._devtools_url()
            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
            self.thread.start()
            self._run(self._open(ws_url))
            self._attach()
        except BaseException:
            self.close()
            raise

    # ---- plumbing ----

    def _devtools_url(self, timeout=20):
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stderr.seek(0)
                raise CDPError("chromium exited: " + self.stderr.read().decode(errors="replace")[-2000:])
            try:
                port, path = port_file.read_text().split("\n")[:2]
                if port and path:
                    return f"ws://127.0.0.1:{port.strip()}{path.strip()}"
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.05)
        raise CDPError("chromium did not report its DevTools port")

    def _run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _open(self, url):
        self.ws = await websockets.connect(url, max_size=2**28, ping_interval=None)
        self.reader = self.loop.create_task(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self.pending.pop(msg["id"], None)
                    if fut and not fut.done():
                        fut.set_result(msg)
                else:
                    self._event(msg)
        except websockets.ConnectionClosed:
            pass
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(CDPError("DevTools connection closed"))

    def _event(self, msg):
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((p.get("type"), text))
            if p.get("type") in ("error", "assert"):
                self.errors.append("console.error: " + text)
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append("exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
        elif m == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("level") == "error":
                self.errors.append(f"log ({e.get('source')}): {e.get('text')} {e.get('url', '')}")
        for w in list(self.waiters):
            if w[0] == m and not w[1].done():
                w[1].set_result(p)

    async def _send(self, method, params, session):
        msg_id = next(self.ids)
        fut = self.loop.create_future()
        self.pending[msg_id] = fut
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        await self.ws.send(json.dumps(msg))
        return await fut

    def send(self, method, params=None, session=True, timeout=30):
        """One CDP command; on the page's session unless session=False."""
        res = self._run(self._send(method, params, self.session if session is True else session),
                        timeout)
        if "error" in res:
            raise CDPError(f"{method}: {res['error']}")
        return res.get("result", {})

    def _attach(self):
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        tid = page["targetId"] if page else self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": tid, "flatten": True}, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    # ---- page ----

    def navigate(self, url, timeout=20):
        fut = self._expect("Page.loadEventFired")
        r = self.send("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise CDPError(f"navigate {url}: {r['errorText']}")
        fut.result(timeout)

    def _expect(self, method):
        import concurrent.futures
        cf = concurrent.futures.Future()

        async def add():
            f = self.loop.create_future()
            self.waiters.append((method, f))
            f.add_done_callback(lambda x: (self.waiters.remove((method, f)), cf.set_result(x.result())))
        self._run(add())
        return cf

    def eval(self, expr, await_promise=True):
        """Evaluate `expr` in the page; returns its value (JSON-able)."""
        r = self.send("Runtime.evaluate", {"expression": expr, "awaitPromise": await_promise,
                                           "returnByValue": True, "userGesture": True})
        if r.get("exceptionDetails"):
            d = r["exceptionDetails"]
            raise CDPError("eval: " + (d.get("exception", {}).get("description") or d.get("text", "")))
        return r.get("result", {}).get("value")

    def wait(self, expr, timeout=15, interval=0.05):
        """Wait until `expr` is truthy in the page; returns its value."""
        deadline = time.monotonic() + timeout
        last = None
        # A DOM node comes back by value as {}: report elements as true.
        wrapped = "(() => { const v = (%s); return v instanceof Node ? true : v; })()" % expr
        while time.monotonic() < deadline:
            try:
                v = self.eval(wrapped)
                if v:
                    return v
            except CDPError as e:
                last = e
            time.sleep(interval)
        raise AssertionError(f"timed out waiting for {expr!r} ({last or 'falsy'}); errors={self.errors}")

    def click(self, selector):
        """A real mouse click at the element's centre (focus, events and all)."""
        box = self.wait("(() => { const e = document.querySelector(%s); if (!e) return null;"
                        " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                        " return r.width && r.height ? [r.x + r.width / 2, r.y + r.height / 2] : null; })()"
                        % json.dumps(selector))
        for t in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": t, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def focus(self, selector):
        self.wait("(() => { const e = document.querySelector(%s); if (e) e.focus(); return !!e && document.activeElement === e; })()"
                  % json.dumps(selector))

    def type(self, selector, text):
        self.focus(selector)
        self.send("Input.insertText", {"text": text})

    def press(self, key):
        codes = {"Enter": 13, "Tab": 9, "Escape": 27}
        base = {"key": key, "code": key, "windowsVirtualKeyCode": codes.get(key, 0)}
        if key == "Enter":
            base["text"] = "\r"
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", **base})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", **{k: v for k, v in base.items() if k != "text"}})

    def viewport(self, width, height, mobile=False):
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                         "deviceScaleFactor": 1, "mobile": mobile})

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(data))
        return path

    # ---- teardown ----

    def close(self):
        try:
            if getattr(self, "ws", None):
                self._run(self.ws.close(), 5)
        except Exception:
            pass
        if getattr(self, "loop", None):
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, 9)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
