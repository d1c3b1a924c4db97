"""Self-test of tests/fakes/fake_llm.py: drive each wire format with urllib
and check the shapes the real services send, so the fake stays honest."""
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
import fake_llm  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402

TOOLS_CHAT = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}]


@pytest.fixture
def fake():
    f = FakeLLM(port=0).start()
    yield f
    f.stop()


def post(fake, path, body, headers=None, raw=False, timeout=10):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    req = urllib.request.Request(fake.url + path, data=json.dumps(body).encode(), headers=h,
                                 method="POST")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
        status, hdrs, data = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, hdrs, data = e.code, e.headers, e.read()
    if raw:
        return status, hdrs, data
    return status, hdrs, json.loads(data) if data else None


def sse_events(data, sep=b"\n\n"):
    """[(event name or None, data text)] from an SSE body."""
    out = []
    for block in data.split(sep):
        if not block.strip():
            continue
        name, lines = None, []
        for line in block.split(b"\n" if sep == b"\n\n" else b"\r\n"):
            if line.startswith(b"event: "):
                name = line[7:].decode()
            elif line.startswith(b"data: "):
                lines.append(line[6:].decode())
        out.append((name, "\n".join(lines)))
    return out


OPENAI = {"Authorization": "Bearer sk-test"}
ANTHROPIC = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
GEMINI = {"x-goog-api-key": "g-test"}


# ----------------------------------------------------------- chat completions


def test_chat_stream_default(fake):
    st, hdrs, data = post(fake, "/v1/chat/completions", {
        "model": "gpt-4.1", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}]}, OPENAI, raw=True)
    assert st == 200
    assert hdrs["Content-Type"].startswith("text/event-stream")
    evs = sse_events(data)
    assert evs[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in evs[:-1]]
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        assert c["id"].startswith("chatcmpl-") and c["id"] == chunks[0]["id"]
        assert c["model"] == "gpt-4.1" and isinstance(c["created"], int)
        assert "usage" in c
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    texts = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    assert [t for t in texts if t][0] == "Hello"
    assert "".join(t for t in texts if t) == fake_llm.DEFAULT_TEXT
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert finish[0]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None,
                                       "finish_reason": "stop"}
    usage = chunks[-1]
    assert usage["choices"] == []
    assert usage["usage"]["prompt_tokens"] == 10 and usage["usage"]["completion_tokens"] == 7
    assert usage["usage"]["total_tokens"] == 17


def test_chat_no_usage_chunk_without_stream_options(fake):
    _, _, data = post(fake, "/v1/chat/completions", {
        "model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        OPENAI, raw=True)
    chunks = [json.loads(d) for _, d in sse_events(data)[:-1]]
    assert all(c["choices"] for c in chunks)
    assert all("usage" not in c for c in chunks)


def test_chat_nonstream_and_toolcall_trigger(fake):
    body = {"model": "m", "tools": TOOLS_CHAT,
            "messages": [{"role": "user", "content": "please TOOLCALL now"}]}
    st, _, r = post(fake, "/v1/chat/completions", body, OPENAI)
    assert st == 200 and r["object"] == "chat.completion"
    msg = r["choices"][0]["message"]
    assert r["choices"][0]["finish_reason"] == "tool_calls"
    assert msg["content"] is None
    tc = msg["tool_calls"][0]
    assert tc["id"].startswith("call_") and tc["type"] == "function"
    assert tc["function"]["name"] == "get_weather"
    assert json.loads(tc["function"]["arguments"]) == {"city": "TOOLCALL"}
    # The follow-up carrying the tool result gets the text answer.
    body["messages"] += [{"role": "assistant", "content": None, "tool_calls": [tc]},
                         {"role": "tool", "tool_call_id": tc["id"], "content": "sunny"}]
    st, _, r = post(fake, "/v1/chat/completions", body, OPENAI)
    assert r["choices"][0]["message"]["content"] == fake_llm.DEFAULT_TEXT
    assert r["choices"][0]["finish_reason"] == "stop"


def test_chat_stream_tool_call_fragments(fake):
    fake.script([{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}])
    _, _, data = post(fake, "/v1/chat/completions", {
        "model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        OPENAI, raw=True)
    chunks = [json.loads(d) for _, d in sse_events(data)[:-1]]
    calls = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks
             if c["choices"][0]["delta"].get("tool_calls")]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_weather"
    assert len(calls) > 2
    args = "".join(c["function"]["arguments"] for c in calls)
    assert json.loads(args) == {"city": "Paris"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_openai_errors(fake):
    st, _, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": []})
    assert st == 401 and r["error"]["type"] == "invalid_request_error"
    assert set(r["error"]) == {"message", "type", "param", "code"}
    fake.script([{"error": 429, "retry_after": 2}, {"error": "context_overflow"},
                 {"error": "billing"}, {"error": 500}, {"error": 503}])
    st, hdrs, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": []}, OPENAI)
    assert st == 429 and hdrs["Retry-After"] == "2" and r["error"]["code"] == "rate_limit_exceeded"
    st, _, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": []}, OPENAI)
    assert st == 400 and r["error"]["code"] == "context_length_exceeded"
    assert "maximum context length" in r["error"]["message"]
    st, _, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": []}, OPENAI)
    assert st == 429 and r["error"]["code"] == "insufficient_quota"
    st, _, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": []}, OPENAI)
    assert st == 500 and r["error"]["type"] == "server_error"
    st, _, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": []}, OPENAI)
    assert st == 503


def test_only_listed_keys():
    with FakeLLM(port=0, api_keys=["good"]) as f:
        st, _, r = post(f, "/v1/chat/completions", {"model": "m", "messages": []},
                        {"Authorization": "Bearer bad"})
        assert st == 401 and r["error"]["code"] == "invalid_api_key"
        st, _, _ = post(f, "/v1/chat/completions", {"model": "m", "messages": []},
                        {"Authorization": "Bearer good"})
        assert st == 200


# ----------------------------------------------------------------- responses


def test_responses_stream_sequence(fake):
    fake.script([{"thinking": "Let me think.", "text": "Done here.",
                  "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}])
    st, hdrs, data = post(fake, "/v1/responses", {
        "model": "gpt-5", "stream": True, "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]},
        OPENAI, raw=True)
    assert st == 200
    evs = sse_events(data)
    objs = [json.loads(d) for _, d in evs]
    for (name, _), o in zip(evs, objs):
        assert name == o["type"]
    assert [o["sequence_number"] for o in objs] == list(range(len(objs)))
    types = [o["type"] for o in objs]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    for t in ("response.output_item.added", "response.reasoning_summary_text.delta",
              "response.output_text.delta", "response.output_text.done",
              "response.content_part.done", "response.function_call_arguments.delta",
              "response.function_call_arguments.done", "response.output_item.done"):
        assert t in types
    created = objs[0]["response"]
    assert created["id"].startswith("resp_") and created["status"] == "in_progress"
    assert created["object"] == "response" and created["output"] == []
    text = "".join(o["delta"] for o in objs if o["type"] == "response.output_text.delta")
    assert text == "Done here."
    fc_added = [o["item"] for o in objs if o["type"] == "response.output_item.added"
                and o["item"]["type"] == "function_call"][0]
    assert fc_added["id"].startswith("fc_") and fc_added["call_id"].startswith("call_")
    args = "".join(o["delta"] for o in objs
                   if o["type"] == "response.function_call_arguments.delta")
    assert json.loads(args) == {"city": "Oslo"}
    done = objs[-1]["response"]
    assert done["status"] == "completed"
    assert [i["type"] for i in done["output"]] == ["reasoning", "message", "function_call"]
    assert done["usage"]["input_tokens"] == 10 and done["usage"]["output_tokens"] == 7
    assert done["usage"]["total_tokens"] == 17


def test_responses_toolcall_then_answer(fake):
    tools = [{"type": "function", "name": "read", "parameters": {
        "type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}]
    st, _, r = post(fake, "/v1/responses", {"model": "m", "tools": tools, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "TOOLCALL"}]}]}, OPENAI)
    fc = r["output"][0]
    assert fc["type"] == "function_call" and fc["name"] == "read"
    st, _, r = post(fake, "/v1/responses", {"model": "m", "tools": tools, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "TOOLCALL"}]}, fc,
        {"type": "function_call_output", "call_id": fc["call_id"], "output": "ok"}]}, OPENAI)
    assert r["output"][0]["type"] == "message"
    assert r["output"][0]["content"][0]["text"] == fake_llm.DEFAULT_TEXT


def test_responses_overflow_and_stream_error(fake):
    fake.script([{"error": "context_overflow"}, {"error": 500, "in_stream": True}])
    st, _, r = post(fake, "/v1/responses", {"model": "m", "input": "x"}, OPENAI)
    assert st == 400 and r["error"]["param"] == "input"
    st, _, data = post(fake, "/v1/responses", {"model": "m", "input": "x", "stream": True},
                       OPENAI, raw=True)
    evs = sse_events(data)
    assert evs[-1][0] == "error"
    assert json.loads(evs[-1][1])["message"]


# ----------------------------------------------------------------- anthropic


def test_anthropic_stream_shapes(fake):
    fake.script([{"thinking": "Hmm, let me see.", "text": "Answer text",
                  "tool_calls": [{"name": "bash", "arguments": {"cmd": "ls -la"}}]}])
    st, hdrs, data = post(fake, "/v1/messages", {
        "model": "claude-sonnet-4-5", "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]}, ANTHROPIC, raw=True)
    assert st == 200 and hdrs["request-id"].startswith("req_")
    evs = sse_events(data)
    objs = [json.loads(d) for _, d in evs]
    for (name, _), o in zip(evs, objs):
        assert name == o["type"]
    types = [o["type"] for o in objs]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    assert "ping" in types
    start = objs[0]["message"]
    assert start["id"].startswith("msg_01") and start["content"] == []
    assert start["usage"]["input_tokens"] == 10
    blocks = [o["content_block"] for o in objs if o["type"] == "content_block_start"]
    assert [b["type"] for b in blocks] == ["thinking", "text", "tool_use"]
    assert blocks[2]["id"].startswith("toolu_01") and blocks[2]["input"] == {}
    deltas = [o["delta"] for o in objs if o["type"] == "content_block_delta"]
    assert "".join(d["thinking"] for d in deltas if d["type"] == "thinking_delta") == \
        "Hmm, let me see."
    assert any(d["type"] == "signature_delta" and d["signature"] for d in deltas)
    assert "".join(d["text"] for d in deltas if d["type"] == "text_delta") == "Answer text"
    frags = [d["partial_json"] for d in deltas if d["type"] == "input_json_delta"]
    assert frags[0] == "" and json.loads("".join(frags)) == {"cmd": "ls -la"}
    md = objs[-2]
    assert md["delta"]["stop_reason"] == "tool_use" and md["usage"]["output_tokens"] == 7
    # Indices count blocks in order, each stopped.
    assert [o["index"] for o in objs if o["type"] == "content_block_stop"] == [0, 1, 2]


def test_anthropic_headers_required(fake):
    st, _, r = post(fake, "/v1/messages", {"model": "m", "messages": []},
                    {"anthropic-version": "2023-06-01"})
    assert st == 401
    assert r["type"] == "error" and r["error"]["type"] == "authentication_error"
    st, _, r = post(fake, "/v1/messages", {"model": "m", "messages": []}, {"x-api-key": "k"})
    assert st == 400 and "anthropic-version" in r["error"]["message"]


def test_anthropic_errors(fake):
    fake.script([{"error": "overloaded"}, {"error": 429, "retry_after": 7},
                 {"error": "context_overflow"}, {"error": "billing"},
                 {"error": "overloaded", "in_stream": True}])
    st, _, r = post(fake, "/v1/messages", {"model": "m", "messages": []}, ANTHROPIC)
    assert st == 529 and r["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    st, hdrs, r = post(fake, "/v1/messages", {"model": "m", "messages": []}, ANTHROPIC)
    assert st == 429 and hdrs["retry-after"] == "7" and r["error"]["type"] == "rate_limit_error"
    st, _, r = post(fake, "/v1/messages", {"model": "m", "messages": []}, ANTHROPIC)
    assert st == 400 and r["error"]["message"].startswith("prompt is too long")
    st, _, r = post(fake, "/v1/messages", {"model": "m", "messages": []}, ANTHROPIC)
    assert st == 400 and "credit balance is too low" in r["error"]["message"]
    st, _, data = post(fake, "/v1/messages", {"model": "m", "stream": True, "messages": []},
                       ANTHROPIC, raw=True)
    evs = sse_events(data)
    assert evs[-1][0] == "error"
    assert json.loads(evs[-1][1])["error"]["type"] == "overloaded_error"


def test_anthropic_toolcall_trigger(fake):
    tools = [{"name": "exec", "input_schema": {"type": "object", "properties": {
        "n": {"type": "integer"}}, "required": ["n"]}}]
    msgs = [{"role": "user", "content": [{"type": "text", "text": "TOOLCALL"}]}]
    st, _, r = post(fake, "/v1/messages", {"model": "m", "tools": tools, "messages": msgs},
                    ANTHROPIC)
    assert r["stop_reason"] == "tool_use"
    tu = r["content"][0]
    assert tu["type"] == "tool_use" and tu["name"] == "exec" and tu["input"] == {"n": 1}
    msgs += [{"role": "assistant", "content": [tu]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu["id"],
                                           "content": "1"}]}]
    st, _, r = post(fake, "/v1/messages", {"model": "m", "tools": tools, "messages": msgs},
                    ANTHROPIC)
    assert r["stop_reason"] == "end_turn"
    assert r["content"] == [{"type": "text", "text": fake_llm.DEFAULT_TEXT}]


# -------------------------------------------------------------------- ollama


def test_ollama_ndjson(fake):
    fake.script([{"text": "Hi there", "usage": {"input": 3, "output": 2}},
                 {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}]}])
    st, hdrs, data = post(fake, "/api/chat", {"model": "llama3.2", "messages": [
        {"role": "user", "content": "hi"}]}, raw=True)
    assert st == 200 and hdrs["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(x) for x in data.decode().splitlines()]
    assert all(not x["done"] for x in lines[:-1])
    assert "".join(x["message"]["content"] for x in lines) == "Hi there"
    last = lines[-1]
    assert last["done"] is True and last["done_reason"] == "stop"
    assert last["prompt_eval_count"] == 3 and last["eval_count"] == 2
    assert last["model"] == "llama3.2" and last["created_at"].endswith("Z")
    st, _, data = post(fake, "/api/chat", {"model": "m", "messages": []}, raw=True)
    lines = [json.loads(x) for x in data.decode().splitlines()]
    calls = lines[0]["message"]["tool_calls"]
    assert calls[0]["function"]["name"] == "get_weather"
    assert calls[0]["function"]["arguments"] == {"city": "Rome"}


def test_ollama_nonstream_and_error(fake):
    fake.script([{"error": 404}])
    st, _, r = post(fake, "/api/chat", {"model": "x", "messages": []})
    assert st == 404 and isinstance(r["error"], str) and "not found" in r["error"]
    st, _, r = post(fake, "/api/chat", {"model": "x", "stream": False, "messages": []})
    assert r["done"] is True and r["message"]["content"] == fake_llm.DEFAULT_TEXT


# -------------------------------------------------------------------- gemini


def test_gemini_stream(fake):
    st, hdrs, data = post(fake, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                          {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, GEMINI,
                          raw=True)
    assert st == 200 and hdrs["Content-Type"].startswith("text/event-stream")
    assert b"\r\n\r\n" in data
    objs = [json.loads(d) for _, d in sse_events(data, sep=b"\r\n\r\n")]
    text = "".join(p.get("text", "") for o in objs for p in o["candidates"][0]["content"]["parts"])
    assert text == fake_llm.DEFAULT_TEXT
    assert objs[0]["candidates"][0]["content"]["parts"][0]["text"] == "Hello"
    assert all(o["modelVersion"] == "gemini-2.5-flash" for o in objs)
    last = objs[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"]["promptTokenCount"] == 10
    assert last["usageMetadata"]["candidatesTokenCount"] == 7
    assert "finishReason" not in objs[0]["candidates"][0]


def test_gemini_tool_and_errors(fake):
    tools = [{"functionDeclarations": [{"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}]}]
    st, _, r = post(fake, "/v1beta/models/g:generateContent",
                    {"tools": tools, "contents": [{"role": "user", "parts": [
                        {"text": "TOOLCALL"}]}]}, GEMINI)
    fcall = r["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert fcall == {"name": "lookup", "args": {"q": "TOOLCALL"}}
    st, _, r = post(fake, "/v1beta/models/g:generateContent", {"contents": []})
    assert st == 403 and r["error"]["status"] == "PERMISSION_DENIED"
    fake.script([{"error": 429}, {"error": "context_overflow"}])
    st, _, r = post(fake, "/v1beta/models/g:streamGenerateContent?alt=sse", {"contents": []},
                    GEMINI)
    assert st == 429 and r["error"] == {"code": 429, "message": r["error"]["message"],
                                        "status": "RESOURCE_EXHAUSTED"}
    st, _, r = post(fake, "/v1beta/models/g:generateContent?key=abc", {"contents": []})
    assert st == 400 and "exceeds the maximum number of tokens" in r["error"]["message"]


# --------------------------------------------------------- faults and control


def test_drop_after(fake):
    fake.script([{"drop_after": 2}])
    req = urllib.request.Request(fake.url + "/v1/messages", method="POST", data=json.dumps({
        "model": "m", "stream": True, "messages": []}).encode(), headers=ANTHROPIC)
    with pytest.raises(Exception):
        urllib.request.urlopen(req, timeout=5).read()


def test_malformed(fake):
    fake.script([{"malformed": True}])
    _, _, data = post(fake, "/v1/chat/completions", {
        "model": "m", "stream": True, "messages": []}, OPENAI, raw=True)
    bad = 0
    for _, d in sse_events(data):
        if d == "[DONE]":
            continue
        try:
            json.loads(d)
        except ValueError:
            bad += 1
    assert bad == 1


def test_stall_after(fake):
    fake.script([{"stall_after_ms": 1500}])
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
    body = json.dumps({"model": "m", "stream": True, "messages": []}).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
              (len(body), body))
    got = b""
    while b'"content":"Hello"' not in got:
        got += s.recv(65536)
    # Headers and the first delta arrived; now nothing for a while.
    s.settimeout(0.5)
    with pytest.raises(socket.timeout):
        s.recv(65536)
    s.close()


def test_delay_and_records(fake):
    fake.script([{"delay_ms": 200, "text": "late"}])
    t = time.monotonic()
    st, _, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": [
        {"role": "user", "content": "hi"}]}, OPENAI)
    assert time.monotonic() - t >= 0.2
    assert r["choices"][0]["message"]["content"] == "late"
    rec = fake.requests[-1]
    assert rec["path"] == "/v1/chat/completions"
    assert rec["headers"]["authorization"] == "Bearer sk-test"
    assert rec["body"]["messages"][0]["content"] == "hi"


def test_http_control(fake):
    st, _, r = post(fake, "/__fake/script", [{"text": "scripted"}, {"error": 500}])
    assert st == 200 and r["pending"] == 2
    _, _, r = post(fake, "/v1/chat/completions", {"model": "m", "messages": []}, OPENAI)
    assert r["choices"][0]["message"]["content"] == "scripted"
    with urllib.request.urlopen(fake.url + "/__fake/requests", timeout=5) as resp:
        recs = json.loads(resp.read())
    assert [x["path"] for x in recs] == ["/v1/chat/completions"]
    post(fake, "/__fake/reset", {})
    assert fake.requests == [] and fake.pending == 0


def test_standalone_prints_port():
    p = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakes" / "fake_llm.py"),
                          "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(p.stdout.readline())
        with urllib.request.urlopen("http://127.0.0.1:%d/v1/models" % port, timeout=5) as r:
            assert json.loads(r.read())["data"][0]["id"] == "fake-model"
    finally:
        p.terminate()
        p.wait(timeout=5)
