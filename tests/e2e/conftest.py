"""Shared fixtures for pincer's end-to-end tests.

Every test gets its own HOME and state dir under pytest's tmp_path, runs the
real binary (PINCER_BIN, default ./pincer at the repo root), and leaves no
process behind: gateways started through the `gateway` fixture are stopped
(SIGTERM, then SIGKILL) when the test ends, pass or fail.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PINCER = os.environ.get("PINCER_BIN", str(ROOT / "pincer"))
if not os.path.isabs(PINCER):
    PINCER = str(ROOT / PINCER)


class Env:
    """A private HOME + state dir, and helpers to run pincer in it."""

    def __init__(self, tmp_path):
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.state = self.home / ".pincer"
        self.config = self.state / "pincer.json"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PINCER_", "OPENCLAW_"))
        }
        self.env.update(HOME=str(self.home), PINCER_STATE_DIR=str(self.state), NO_COLOR="1")

    def write_config(self, text, name="pincer.json"):
        self.state.mkdir(mode=0o700, exist_ok=True)
        path = self.state / name
        path.write_text(text)
        return path

    def run(self, *args, env=None, timeout=20, input=None, cwd=None):
        e = dict(self.env)
        if env:
            e.update(env)
        return subprocess.run(
            [PINCER, *args],
            env=e,
            cwd=cwd or str(self.home),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def penv(tmp_path):
    return Env(tmp_path)


class Gateway:
    """A running `pincer gateway run --port 0`; the port comes from the
    runtime file the gateway writes once it listens (<state>/gateway.json)."""

    def __init__(self, penv, args=(), env=None, raw=False):
        self.penv = penv
        e = dict(penv.env)
        if env:
            e.update(env)
        self.log = open(penv.home / "gateway.out", "w+")
        # raw: exactly the given arguments (for port-resolution tests).
        port = [] if raw else ["--port", "0"]
        self.proc = subprocess.Popen(
            [PINCER, "gateway", "run", *port, *args],
            env=e,
            cwd=str(penv.home),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.runtime = penv.state / "gateway.json"
        self.info = self._wait_ready()
        self.port = self.info["port"]
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited {self.proc.returncode}:\n{self.output()}")
            try:
                info = json.loads(self.runtime.read_text())
                if info.get("pid") == self.proc.pid and info.get("port"):
                    return info
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.01)
        raise AssertionError(f"gateway not ready after {timeout}s:\n{self.output()}")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal the gateway and wait; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError("gateway did not stop on %s" % sig)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.log.close()


@pytest.fixture
def gateway(penv):
    """Factory: gateway(*args, env=None, raw=False) starts one; all are
    killed at teardown."""
    started = []

    def start(*args, env=None, raw=False):
        g = Gateway(penv, args, env, raw)
        started.append(g)
        return g

    yield start
    for g in started:
        g.kill()
