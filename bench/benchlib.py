"""What the bench scripts share: a pincer gateway on port 0 whose default
agent talks to the fake model provider (tests/fakes/fake_llm.py), a
connected client, and the figures' helpers."""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from fake_llm import FakeLLM  # noqa: E402,F401 (re-exported)
from wsclient import connected  # noqa: E402

TOKEN = "bench-token"


def pincer_path():
    return os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "pincer"))


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


class Gateway:
    """`pincer gateway run --port 0` with HOME `tmp` and `config` as its pincer.json.
    .proc, .port, .env (for pincer CLI runs). BENCH_WRAP="heaptrack -o /tmp/ht" (or any
    command prefix) runs it under a profiler."""

    def __init__(self, pincer, tmp, config):
        state = Path(tmp) / ".pincer"
        state.mkdir(mode=0o700)
        (state / "pincer.json").write_text(config)
        env = dict(os.environ, HOME=str(tmp), PINCER_STATE_DIR=str(state))
        self.env = env
        wrap = os.environ.get("BENCH_WRAP", "").split()
        self.proc = subprocess.Popen(wrap + [pincer, "gateway", "run", "--port", "0"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = None
        for _ in range(500):
            try:
                self.port = json.loads((state / "gateway.json").read_text())["port"]
                break
            except (FileNotFoundError, ValueError, KeyError):
                time.sleep(0.01)
        if self.port is None:
            self.stop()
            raise SystemExit("bench: the gateway did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class BenchGateway(Gateway):
    """A Gateway in a fresh HOME, its agent on `fake`.
    .tmp (the HOME; workspace tmp/ws), .client()."""

    def __init__(self, pincer, fake, prefix="pincer-bench-"):
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        (self.tmp / "ws").mkdir()
        super().__init__(pincer, self.tmp, (
            '{gateway: {auth: {token: "%s"}}, logging: {level: "warn"}, models: {providers: '
            '{fake: {baseUrl: "http://127.0.0.1:%d/v1", apiKey: "x", api: "openai-completions", '
            'models: [{id: "fake-model", contextWindow: 100000000, maxTokens: 4096}]}}}, '
            'agents: {defaults: {model: {primary: "fake/fake-model"}, workspace: "%s", '
            'heartbeat: {every: "0m"}}}}' % (TOKEN, fake.port, self.tmp / "ws")))

    def client(self):
        return connected(self.port, token=TOKEN)
