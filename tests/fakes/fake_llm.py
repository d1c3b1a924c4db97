#!/usr/bin/python3
"""A fake of five model APIs in one threaded HTTP server, for pincer's tests.

It speaks, on one port:

  POST /v1/chat/completions                  OpenAI Chat Completions (SSE or JSON)
  POST /v1/responses                         OpenAI Responses (SSE or JSON)
  POST /v1/messages                          Anthropic Messages (SSE or JSON)
  POST /api/chat                             Ollama chat (NDJSON or JSON)
  POST /v1beta/models/<m>:streamGenerateContent?alt=sse   Gemini (SSE)
  POST /v1beta/models/<m>:generateContent                 Gemini (JSON)
  POST /v1/embeddings                        OpenAI embeddings (float or base64)
  POST /v1beta/models/<m>:embedContent | :batchEmbedContents   Gemini embeddings

with the wire shapes, ids, headers and error bodies of the real services,
and records every request. Tests script its answers:

    fake = FakeLLM(port=0).start()
    fake.script([{"text": "hi"}, {"error": 429, "retry_after": 2}])
    ...
    fake.requests   # [{"method","path","query","headers","body"}, ...]
    fake.stop()

Embeddings are deterministic: a hashed bag of words (EMBED_DIMS dims, or
the request's `dimensions`), after a crude stem and a small synonym table
(car/vehicle -> automobile, ...), so a query shares direction with a note
that says the same thing in other words. `fake.embed_errors([429, ...])`
makes the next embeddings requests fail with those statuses (a queue of its
own, so it never takes a model turn's step).

or over HTTP: POST /__fake/script (a JSON list of steps, appended),
GET /__fake/requests, POST /__fake/reset. See README.md for the step kinds.

Standalone: python3 tests/fakes/fake_llm.py --port 18790   (prints the port)

Debian's python3 standard library only.
"""
import argparse
import base64
import copy
import hashlib
import math
import re
import struct
import json
import random
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_TEXT = "Hello from the fake provider."
DEFAULT_CHUNKS = ["Hello", " from the", " fake", " provider."]
DEFAULT_USAGE = {"input": 10, "output": 7, "cacheRead": 0, "cacheWrite": 0}
MAX_BODY = 32 << 20

ALNUM = string.ascii_letters + string.digits

EMBED_DIMS = 64
# A toy "semantic" layer: words that mean the same land on the same axis.
EMBED_SYNONYMS = {
    "car": "automobile", "cars": "automobile", "vehicle": "automobile", "auto": "automobile",
    "fix": "repair", "fixed": "repair", "mend": "repair",
    "beverage": "drink", "drinks": "drink",
    "physician": "doctor", "medic": "doctor",
}


def _stem(w):
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > len(suf) + 2 and w.endswith(suf):
            return w[:-len(suf)]
    return w


def fake_embedding(text, dims=EMBED_DIMS):
    """The fake's deterministic vector for `text`: unit length, `dims` floats."""
    v = [0.0] * dims
    for w in re.findall(r"[a-z0-9_]+", text.lower()):
        w = _stem(EMBED_SYNONYMS.get(w, w))
        w = EMBED_SYNONYMS.get(w, w)
        h = hashlib.sha256(w.encode()).digest()
        v[int.from_bytes(h[:4], "little") % dims] += 1.0 if h[4] & 1 else -1.0
    n = math.sqrt(sum(x * x for x in v))
    if n == 0:
        v[0], n = 1.0, 1.0
    return [x / n for x in v]


def _rand(n, alphabet=ALNUM):
    return "".join(random.choice(alphabet) for _ in range(n))


def _hex(n):
    return _rand(n, "0123456789abcdef")


# Ids shaped like each service's own.
def chatcmpl_id():
    return "chatcmpl-" + _rand(29)


def openai_call_id():
    return "call_" + _rand(24)


def anthropic_msg_id():
    return "msg_01" + _rand(22)


def anthropic_tool_id():
    return "toolu_01" + _rand(22)


def anthropic_request_id():
    return "req_011C" + _rand(20)


def resp_id():
    return "resp_" + _hex(48)


def resp_item_id(prefix):
    return prefix + "_" + _hex(48)


def ollama_call_id():
    return "call_" + _rand(8, string.ascii_lowercase + string.digits)


def gemini_response_id():
    return _rand(22, ALNUM + "-_")


def now_s():
    return int(time.time())


# ----------------------------------------------------------------- errors
#
# The bodies below are what the services send (wording copied from real
# responses). `kind` is a status code or a name; `api` one of
# "openai-chat", "openai-responses", "anthropic", "ollama", "gemini".

OPENAI_ERRORS = {
    401: ("Incorrect API key provided: sk-fake***. You can find your API key at "
          "https://platform.openai.com/account/api-keys.", "invalid_request_error", None,
          "invalid_api_key"),
    402: ("You exceeded your current quota, please check your plan and billing details. "
          "For more information on this error, read the docs: "
          "https://platform.openai.com/docs/guides/error-codes/api-errors.",
          "insufficient_quota", None, "insufficient_quota"),
    403: ("You are not allowed to sample from this model", "invalid_request_error", None, None),
    404: ("The model `fake-missing` does not exist or you do not have access to it.",
          "invalid_request_error", None, "model_not_found"),
    429: ("Rate limit reached for gpt-4.1 in organization org-fake on tokens per min (TPM): "
          "Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit "
          "https://platform.openai.com/account/rate-limits to learn more.", "tokens", None,
          "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!",
          "server_error", None, None),
    503: ("The engine is currently overloaded, please try again later", "server_error", None,
          None),
}

ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "messages: at least one message is required"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API. "
          "Please go to Plans & Billing to upgrade or purchase credits."),
    403: ("permission_error", "Your API key does not have permission to use the specified "
          "resource."),
    404: ("not_found_error", "model: fake-missing"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate "
          "limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers "
          "for current usage. Please reduce the prompt length or the maximum tokens "
          "requested, or try again later. You may also contact sales at "
          "https://www.anthropic.com/contact-sales to discuss your options for a rate limit "
          "increase."),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}

GEMINI_ERRORS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 "
          "access token, login cookie or other valid authentication credential."),
    402: ("RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and "
          "billing details."),
    403: ("PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without "
          "established identity). Please use API Key or other form of API consumer identity "
          "to call this API."),
    404: ("NOT_FOUND", "models/fake-missing is not found for API version v1beta, or is not "
          "supported for generateContent."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report in "
          "https://developers.generativeai.google/guide/troubleshooting"),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
}

OLLAMA_ERRORS = {
    400: "invalid request",
    401: "unauthorized",
    402: "you have reached your usage limit, please upgrade to continue",
    403: "forbidden",
    404: "model \"fake-missing\" not found, try pulling it first",
    429: "too many requests, please try again later",
    500: "llama runner process has terminated: exit status 2",
    503: "server busy, please try again.  maximum pending requests exceeded",
}

# The context-overflow answers, each in its service's words.
OVERFLOW = {
    "openai-chat": (400, {"error": {
        "message": "This model's maximum context length is 128000 tokens. However, your "
                   "messages resulted in 131072 tokens. Please reduce the length of the "
                   "messages.",
        "type": "invalid_request_error", "param": "messages",
        "code": "context_length_exceeded"}}),
    "openai-responses": (400, {"error": {
        "message": "Your input exceeds the context window of this model. Please adjust your "
                   "input and try again.",
        "type": "invalid_request_error", "param": "input",
        "code": "context_length_exceeded"}}),
    "anthropic": (400, {"type": "error", "error": {
        "type": "invalid_request_error",
        "message": "prompt is too long: 208310 tokens > 200000 maximum"}}),
    "gemini": (400, {"error": {
        "code": 400,
        "message": "The input token count (1200000) exceeds the maximum number of tokens "
                   "allowed (1048576).",
        "status": "INVALID_ARGUMENT"}}),
    "ollama": (400, {"error": "prompt too long; exceeded max context length by 2048 tokens"}),
}

# Names tests may use instead of status codes.
ERROR_NAMES = {
    "auth": 401,
    "billing": "billing",
    "rate_limit": 429,
    "server": 500,
    "unavailable": 503,
    "overloaded": "overloaded",
    "not_found": 404,
    "context_overflow": "context_overflow",
}


def error_response(api, kind):
    """(status, body dict) for an error `kind` as `api` sends it."""
    kind = ERROR_NAMES.get(kind, kind)
    if kind == "context_overflow":
        status, body = OVERFLOW[api]
        body = copy.deepcopy(body)
        if api == "anthropic":
            body["request_id"] = anthropic_request_id()
        return status, body
    if kind == "overloaded":
        kind = {"anthropic": 529}.get(api, 503)
    if kind == "billing":
        # What running out of credit really looks like: OpenAI says 429
        # insufficient_quota, Anthropic 400 with a credit message.
        if api in ("openai-chat", "openai-responses"):
            status, body = error_response(api, 402)
            return 429, body
        if api == "anthropic":
            return 400, {"type": "error", "error": {
                "type": "invalid_request_error",
                "message": ANTHROPIC_ERRORS[402][1]}, "request_id": anthropic_request_id()}
        if api == "gemini":
            return 429, {"error": {"code": 429, "message": GEMINI_ERRORS[402][1],
                                   "status": "RESOURCE_EXHAUSTED"}}
        return 402, {"error": OLLAMA_ERRORS[402]}
    status = int(kind)
    if api in ("openai-chat", "openai-responses"):
        msg, typ, param, code = OPENAI_ERRORS.get(
            status, ("The server had an error processing your request.", "server_error", None,
                     None))
        return status, {"error": {"message": msg, "type": typ, "param": param, "code": code}}
    if api == "anthropic":
        typ, msg = ANTHROPIC_ERRORS.get(status, ("api_error", "Internal server error"))
        return status, {"type": "error", "error": {"type": typ, "message": msg},
                        "request_id": anthropic_request_id()}
    if api == "gemini":
        st, msg = GEMINI_ERRORS.get(status, ("UNKNOWN", "Unknown error."))
        return status, {"error": {"code": status, "message": msg, "status": st}}
    return status, {"error": OLLAMA_ERRORS.get(status, "internal error")}


# ----------------------------------------------------------- the answer plan


class Plan:
    """What to answer, independent of the wire format."""

    def __init__(self, step, model):
        self.model = model
        self.thinking = step.get("thinking")
        self.signature = step.get("signature") or ("Eq" + _rand(86, ALNUM + "+/") + "==")
        text = step.get("text")
        chunks = step.get("chunks")
        if chunks is None and text is not None:
            chunks = _split(text)
        self.chunks = list(chunks or [])
        self.text = "".join(self.chunks)
        self.tool_calls = []
        for tc in step.get("tool_calls") or []:
            self.tool_calls.append({
                "name": tc["name"],
                "arguments": tc.get("arguments", {}),
                "id": tc.get("id"),
            })
        u = dict(DEFAULT_USAGE)
        for k, v in (step.get("usage") or {}).items():
            k = {"input_tokens": "input", "output_tokens": "output", "cache_read": "cacheRead",
                 "cache_write": "cacheWrite"}.get(k, k)
            u[k] = v
        self.usage = u
        self.stop = step.get("stop_reason")  # "length" to truncate

    def args_json(self, tc):
        return json.dumps(tc["arguments"], separators=(",", ":"))


def _split(text):
    """A few deltas, the first being the first word."""
    if not text:
        return []
    words = text.split(" ")
    if len(words) == 1:
        return [text]
    out = [words[0]]
    rest = words[1:]
    per = max(1, len(rest) // 3)
    for i in range(0, len(rest), per):
        out.append(" " + " ".join(rest[i:i + per]))
    return out


def _fragments(s, n=3):
    """Split a JSON text into n-ish fragments, as services stream arguments."""
    if len(s) <= 2:
        return [s]
    step = max(1, len(s) // n)
    return [s[i:i + step] for i in range(0, len(s), step)]


# ----------------------------------------------------------- request parsing


def _text_of(content):
    if isinstance(content, str):
        return content
    out = []
    for part in content or []:
        if isinstance(part, dict):
            for k in ("text", "input_text"):
                if isinstance(part.get(k), str):
                    out.append(part[k])
    return "\n".join(out)


def _dummy_args(schema):
    """Arguments satisfying a tool's JSON schema's required properties."""
    args = {}
    if not isinstance(schema, dict):
        return args
    props = schema.get("properties") or {}
    for name in schema.get("required") or []:
        t = (props.get(name) or {}).get("type")
        if isinstance(t, list):
            t = t[0] if t else "string"
        args[name] = {"number": 1, "integer": 1, "boolean": True, "array": [],
                      "object": {}}.get(t, "TOOLCALL")
    return args


def conversation_state(api, body):
    """(last_is_tool_result, last_user_text, tools[(name, schema)])."""
    tools = []
    last_tool = False
    user_text = ""
    if api in ("openai-chat", "ollama"):
        for t in body.get("tools") or []:
            fn = t.get("function") or {}
            if fn.get("name"):
                tools.append((fn["name"], fn.get("parameters")))
        msgs = body.get("messages") or []
        if msgs:
            last = msgs[-1]
            last_tool = last.get("role") == "tool"
            for m in msgs:
                if m.get("role") == "user":
                    user_text = _text_of(m.get("content"))
    elif api == "openai-responses":
        for t in body.get("tools") or []:
            if t.get("type") == "function" and t.get("name"):
                tools.append((t["name"], t.get("parameters")))
        inp = body.get("input")
        if isinstance(inp, str):
            user_text = inp
        elif isinstance(inp, list) and inp:
            last_tool = inp[-1].get("type") == "function_call_output"
            for it in inp:
                if it.get("role") == "user":
                    user_text = _text_of(it.get("content"))
    elif api == "anthropic":
        for t in body.get("tools") or []:
            if t.get("name"):
                tools.append((t["name"], t.get("input_schema")))
        msgs = body.get("messages") or []
        if msgs:
            last = msgs[-1]
            c = last.get("content")
            last_tool = last.get("role") == "user" and isinstance(c, list) and any(
                isinstance(b, dict) and b.get("type") == "tool_result" for b in c)
            for m in msgs:
                if m.get("role") == "user":
                    t = _text_of(m.get("content"))
                    if t:
                        user_text = t
    elif api == "gemini":
        for t in body.get("tools") or []:
            for fd in t.get("functionDeclarations") or t.get("function_declarations") or []:
                if fd.get("name"):
                    tools.append((fd["name"], fd.get("parameters") or fd.get(
                        "parametersJsonSchema")))
        contents = body.get("contents") or []
        if contents:
            parts = contents[-1].get("parts") or []
            last_tool = any("functionResponse" in p for p in parts)
            for c in contents:
                if c.get("role", "user") == "user":
                    t = "\n".join(p.get("text", "") for p in c.get("parts") or []
                                  if isinstance(p.get("text"), str))
                    if t:
                        user_text = t
    return last_tool, user_text, tools


# -------------------------------------------------------------- the server


class _Stop(Exception):
    """The client went away, or the step asked to drop the connection."""


class FakeLLM:
    def __init__(self, host="127.0.0.1", port=0, require_auth=True, api_keys=None):
        self.host = host
        self.port = port
        # require_auth: OpenAI/Anthropic/Gemini demand a key header (Ollama never).
        self.require_auth = require_auth
        # api_keys: when set, only these keys are accepted (401 otherwise).
        self.api_keys = set(api_keys) if api_keys else None
        self._lock = threading.Lock()
        self._steps = []
        self._requests = []
        self._embed_errors = []
        self._httpd = None
        self._thread = None

    # -- control
    def start(self):
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def script(self, steps):
        """Append steps to the FIFO; each model request takes the next one."""
        if isinstance(steps, dict):
            steps = [steps]
        with self._lock:
            self._steps.extend(copy.deepcopy(list(steps)))
        return self

    def embed_errors(self, statuses):
        """The next embeddings requests fail with these HTTP statuses, in order."""
        with self._lock:
            self._embed_errors.extend(statuses)
        return self

    def _next_embed_error(self):
        with self._lock:
            return self._embed_errors.pop(0) if self._embed_errors else None

    @property
    def embedding_requests(self):
        return [r for r in self.requests if r["path"].endswith(
            ("/embeddings", ":embedContent", ":batchEmbedContents"))]

    def reset(self):
        with self._lock:
            self._embed_errors.clear()
            self._steps.clear()
            self._requests.clear()

    @property
    def requests(self):
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def pending(self):
        with self._lock:
            return len(self._steps)

    def _record(self, rec):
        with self._lock:
            self._requests.append(rec)

    def _next_step(self):
        with self._lock:
            return self._steps.pop(0) if self._steps else None


ROUTES = {
    "/v1/chat/completions": "openai-chat",
    "/v1/responses": "openai-responses",
    "/v1/messages": "anthropic",
    "/api/chat": "ollama",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Stream chunks go out as written, as a real API's do: without this, Nagle
    # holds each small SSE write for the client's delayed ACK (~40 ms a turn).
    disable_nagle_algorithm = True
    server_version = "fake-llm/1"
    fake = None

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    # ---- plumbing
    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def _send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self, content_type, headers=None):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _chunk(self, data):
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except OSError:
            raise _Stop()

    def _end_stream(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass

    def _drop(self):
        """Cut the connection mid-body, as a network failure would."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            import socket
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Stop()

    # ---- HTTP verbs
    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/__fake/requests":
            return self._send_json(200, self.fake.requests)
        if path == "/v1/models":
            return self._send_json(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "created": 1700000000,
                 "owned_by": "fake"}]})
        if path == "/api/tags":
            return self._send_json(200, {"models": [
                {"name": "fake-model:latest", "model": "fake-model:latest",
                 "modified_at": "2025-01-01T00:00:00Z", "size": 1, "digest": _hex(64),
                 "details": {"format": "gguf", "family": "llama", "parameter_size": "1B",
                             "quantization_level": "Q4_K_M"}}]})
        return self._not_found()

    def do_POST(self):
        split = urlsplit(self.path)
        path = split.path
        try:
            raw = self._read_body()
        except ValueError:
            return self._send_json(413, {"error": "request too large"})
        if path.startswith("/__fake/"):
            return self._control(path, raw)
        api = ROUTES.get(path)
        gemini_model = None
        gemini_stream = False
        if not api and path.startswith("/v1beta/models/") and ":" in path:
            gemini_model, _, method = path[len("/v1beta/models/"):].rpartition(":")
            if method in ("streamGenerateContent", "generateContent"):
                api = "gemini"
                gemini_stream = method == "streamGenerateContent"
            elif method in ("embedContent", "batchEmbedContents"):
                api = "gemini-embed"
        if path == "/v1/embeddings":
            api = "openai-embed"
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.fake._record({
            "method": "POST",
            "path": path,
            "query": {k: v[0] for k, v in parse_qs(split.query).items()},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        })
        if not api:
            return self._not_found()
        if api in ("openai-embed", "gemini-embed"):
            return self._embeddings(api, body, split, gemini_model)
        if not isinstance(body, dict):
            status, err = error_response(api, 400)
            return self._send_json(status, err)
        try:
            self._model_call(api, body, split, gemini_model, gemini_stream)
        except _Stop:
            self.close_connection = True

    def _not_found(self):
        self._send_json(404, {"error": {
            "message": "Unknown request URL: %s %s." % (self.command, urlsplit(self.path).path),
            "type": "invalid_request_error", "param": None, "code": "unknown_url"}})

    def _control(self, path, raw):
        if path == "/__fake/script":
            try:
                steps = json.loads(raw or b"[]")
            except ValueError:
                return self._send_json(400, {"error": "script must be a JSON list"})
            self.fake.script(steps)
            return self._send_json(200, {"ok": True, "pending": self.fake.pending})
        if path == "/__fake/reset":
            self.fake.reset()
            return self._send_json(200, {"ok": True})
        return self._send_json(404, {"error": "unknown control path"})

    # ---- authentication, as each service checks it
    def _auth_error(self, api, query):
        if api == "ollama" or not self.fake.require_auth:
            return None
        h = self.headers
        if api == "anthropic":
            key = h.get("x-api-key")
            if not key and (h.get("authorization") or "").startswith("Bearer "):
                key = h["authorization"][7:]
            if not key:
                return 401, {"type": "error", "error": {
                    "type": "authentication_error", "message": "x-api-key header is required"},
                    "request_id": anthropic_request_id()}
            if not h.get("anthropic-version"):
                return 400, {"type": "error", "error": {
                    "type": "invalid_request_error",
                    "message": "anthropic-version: header is required"},
                    "request_id": anthropic_request_id()}
        elif api == "gemini":
            key = h.get("x-goog-api-key") or query.get("key", [None])[0]
            if not key:
                return 403, {"error": {"code": 403, "message": GEMINI_ERRORS[403][1],
                                       "status": "PERMISSION_DENIED"}}
            if self.fake.api_keys is not None and key not in self.fake.api_keys:
                return 400, {"error": {
                    "code": 400, "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT", "details": [{
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"}}]}}
            return None
        else:
            auth = h.get("authorization") or ""
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                return 401, {"error": {
                    "message": "You didn't provide an API key. You need to provide your API key "
                               "in an Authorization header using Bearer auth (i.e. "
                               "Authorization: Bearer YOUR_KEY), or as the password field (with "
                               "blank username) if you're accessing the API from your browser "
                               "and are prompted for a username. You can obtain an API key "
                               "from https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error", "param": None, "code": None}}
            key = auth[7:].strip()
        if self.fake.api_keys is not None and key not in self.fake.api_keys:
            return error_response(api, 401)
        return None

    # ---- embeddings, as OpenAI and Gemini answer them
    def _embeddings(self, api, body, split, gemini_model):
        wire = "openai-chat" if api == "openai-embed" else "gemini"
        err = self._auth_error(wire, parse_qs(split.query))
        if err:
            return self._send_json(*err)
        status = self.fake._next_embed_error()
        if status is not None:
            st, eb = error_response(wire, status)
            hdrs = {"retry-after": "1"} if st == 429 else None
            return self._send_json(st, eb, hdrs)
        if not isinstance(body, dict):
            return self._send_json(*error_response(wire, 400))
        if api == "gemini-embed":
            return self._gemini_embed(body, gemini_model)
        model, inp = body.get("model"), body.get("input")
        if not isinstance(model, str) or not model:
            return self._send_json(400, {"error": {
                "message": "you must provide a model parameter",
                "type": "invalid_request_error", "param": None, "code": None}})
        if inp is None:
            return self._send_json(400, {"error": {
                "message": "'input' is a required property",
                "type": "invalid_request_error", "param": None, "code": None}})
        texts = [inp] if isinstance(inp, str) else inp
        if not isinstance(texts, list) or not texts or len(texts) > 2048 or \
                not all(isinstance(t, str) and t for t in texts):
            return self._send_json(400, {"error": {
                "message": "'$.input' is invalid. Please check the API reference: "
                           "https://platform.openai.com/docs/api-reference.",
                "type": "invalid_request_error", "param": None, "code": None}})
        dims = body.get("dimensions") or EMBED_DIMS
        if not isinstance(dims, int) or dims < 1 or dims > 3072:
            return self._send_json(400, {"error": {
                "message": "Invalid value for 'dimensions'.",
                "type": "invalid_request_error", "param": "dimensions", "code": None}})
        b64 = body.get("encoding_format") == "base64"
        data = []
        for i, t in enumerate(texts):
            v = fake_embedding(t, dims)
            emb = base64.b64encode(struct.pack("<%df" % dims, *v)).decode() if b64 else v
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(len(t.split()) for t in texts)
        self._send_json(200, {"object": "list", "data": data, "model": model,
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _gemini_embed(self, body, model):
        dims_of = lambda r: r.get("outputDimensionality") or EMBED_DIMS  # noqa: E731

        def text_of(content):
            parts = (content or {}).get("parts") if isinstance(content, dict) else None
            if not isinstance(parts, list) or not parts:
                return None
            return "".join(p.get("text", "") for p in parts if isinstance(p, dict))

        if self.path.split("?")[0].endswith(":batchEmbedContents"):
            reqs = body.get("requests")
            if not isinstance(reqs, list) or not reqs:
                return self._send_json(400, {"error": {
                    "code": 400, "message": "* BatchEmbedContentsRequest.requests: "
                    "contents is not specified", "status": "INVALID_ARGUMENT"}})
            out = []
            for r in reqs:
                t = text_of(r.get("content")) if isinstance(r, dict) else None
                if t is None:
                    return self._send_json(400, {"error": {
                        "code": 400, "message": "* EmbedContentRequest.content: contents is "
                        "not specified", "status": "INVALID_ARGUMENT"}})
                out.append({"values": fake_embedding(t, dims_of(r))})
            return self._send_json(200, {"embeddings": out})
        t = text_of(body.get("content"))
        if t is None:
            return self._send_json(400, {"error": {
                "code": 400, "message": "* EmbedContentRequest.content: contents is not "
                "specified", "status": "INVALID_ARGUMENT"}})
        self._send_json(200, {"embedding": {"values": fake_embedding(t, dims_of(body))}})

    # ---- one model call
    def _model_call(self, api, body, split, gemini_model, gemini_stream):
        query = parse_qs(split.query)
        denied = self._auth_error(api, query)
        if denied:
            return self._send_json(*denied)
        step = self.fake._next_step()
        if step is None:
            step = self._default_step(api, body)
        if step.get("delay_ms"):
            time.sleep(step["delay_ms"] / 1000.0)
        if api == "gemini":
            model = gemini_model
            stream = gemini_stream
        else:
            model = body.get("model") or "fake-model"
            stream = body.get("stream", api == "ollama")
        if "error" in step and not step.get("in_stream"):
            status, err = error_response(api, step["error"])
            headers = {}
            if step.get("retry_after") is not None:
                headers["Retry-After"] = str(step["retry_after"])
            if api == "anthropic":
                headers["request-id"] = err.get("request_id", anthropic_request_id())
                if status == 429:
                    headers["anthropic-ratelimit-requests-remaining"] = "0"
            if api in ("openai-chat", "openai-responses"):
                headers["x-request-id"] = "req_" + _hex(32)
            return self._send_json(status, err, headers)
        if not step.get("tool_calls") and step.get("text") is None and not step.get("chunks"):
            step = dict(step, chunks=DEFAULT_CHUNKS)
        plan = Plan(step, model)
        for tc in plan.tool_calls:
            if not tc["id"]:
                tc["id"] = {"openai-chat": openai_call_id, "openai-responses": openai_call_id,
                            "anthropic": anthropic_tool_id, "ollama": ollama_call_id}.get(
                                api, lambda: None)()
        if not stream:
            return self._send_json(200, FULL[api](plan), self._stream_headers(api))
        events = list(STREAM[api](plan, body))
        if step.get("in_stream") and "error" in step:
            events = _inject_stream_error(api, events, step["error"])
        self._play(api, events, step)

    def _default_step(self, api, body):
        last_tool, user_text, tools = conversation_state(api, body)
        if not last_tool and "TOOLCALL" in user_text and tools:
            name, schema = tools[0]
            return {"tool_calls": [{"name": name, "arguments": _dummy_args(schema)}]}
        return {"chunks": DEFAULT_CHUNKS}

    def _stream_headers(self, api):
        if api == "anthropic":
            return {"request-id": anthropic_request_id(), "anthropic-organization-id": _hex(8)}
        if api in ("openai-chat", "openai-responses"):
            return {"x-request-id": "req_" + _hex(32), "openai-processing-ms": "42"}
        return {}

    def _play(self, api, events, step):
        ctype = "application/x-ndjson" if api == "ollama" else "text/event-stream; charset=utf-8"
        self._start_stream(ctype, self._stream_headers(api))
        drop_after = step.get("drop_after")
        stall_ms = step.get("stall_after_ms")
        malformed = step.get("malformed")
        sent_delta = False
        for i, (data, is_delta) in enumerate(events):
            if drop_after is not None and i >= drop_after:
                self._drop()
            self._chunk(data)
            if is_delta and not sent_delta:
                sent_delta = True
                if malformed:
                    self._chunk(GARBAGE[api])
                if stall_ms:
                    time.sleep(stall_ms / 1000.0)
        self._end_stream()


# ---------------------------------------------------------- wire formats
#
# Each STREAM[api](plan, body) yields (bytes, is_content_delta) per event;
# FULL[api](plan) is the non-streaming JSON body.


def sse(data, event=None, sep=b"\n\n"):
    head = b"event: %s\n" % event.encode() if event else b""
    return head + b"data: " + json.dumps(data, separators=(",", ":")).encode() + sep


GARBAGE = {
    "openai-chat": b'data: {"id":"chatcmpl-garbage","choices":[{"delta":{"content":\n\n',
    "openai-responses": b'event: response.output_text.delta\ndata: {"type":"response.outp\n\n',
    "anthropic": b'event: content_block_delta\ndata: {"type":"content_block_delta","ind\n\n',
    "gemini": b'data: {"candidates": [{"content": {"parts": [{"te\r\n\r\n',
    "ollama": b'{"model":"fake","message":{"role":"assistant","cont\n',
}


def _inject_stream_error(api, events, kind):
    """Keep the stream's opening and first delta, then the service's in-stream error."""
    status, err = error_response(api, kind)
    keep = []
    for data, is_delta in events:
        keep.append((data, is_delta))
        if is_delta:
            break
    if api == "anthropic":
        keep.append((sse({"type": "error", "error": err["error"]}, "error"), False))
    elif api == "openai-chat":
        keep.append((sse({"error": err["error"]}), False))
    elif api == "openai-responses":
        e = err["error"]
        keep.append((sse({"type": "error", "sequence_number": len(keep), "code": e.get("code")
                          or e.get("type"), "message": e["message"], "param": e.get("param")},
                         "error"), False))
    elif api == "gemini":
        keep.append((sse(err, sep=b"\r\n\r\n"), False))
    else:
        keep.append(((json.dumps(err) + "\n").encode(), False))
    return keep


# -- OpenAI Chat Completions


def _chat_usage(plan):
    u = plan.usage
    return {
        "prompt_tokens": u["input"], "completion_tokens": u["output"],
        "total_tokens": u["input"] + u["output"],
        "prompt_tokens_details": {"cached_tokens": u["cacheRead"], "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def _chat_finish(plan):
    if plan.stop == "length":
        return "length"
    return "tool_calls" if plan.tool_calls else "stop"


def stream_openai_chat(plan, body):
    cid, created = chatcmpl_id(), now_s()
    fp = "fp_" + _hex(10)
    with_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta, finish=None):
        c = {"id": cid, "object": "chat.completion.chunk", "created": created,
             "model": plan.model, "service_tier": "default", "system_fingerprint": fp,
             "choices": [{"index": 0, "delta": delta, "logprobs": None,
                          "finish_reason": finish}]}
        if with_usage:
            c["usage"] = None
        return sse(c)

    first = {"role": "assistant", "content": "", "refusal": None}
    if plan.tool_calls and not plan.chunks:
        first = {"role": "assistant", "content": None, "refusal": None}
    yield chunk(first), False
    if plan.thinking:
        # The reasoning_content field of DeepSeek and vLLM-style servers.
        for frag in _split(plan.thinking):
            yield chunk({"reasoning_content": frag}), True
    for text in plan.chunks:
        yield chunk({"content": text}), True
    for i, tc in enumerate(plan.tool_calls):
        yield chunk({"tool_calls": [{"index": i, "id": tc["id"], "type": "function",
                                     "function": {"name": tc["name"], "arguments": ""}}]}), True
        for frag in _fragments(plan.args_json(tc)):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": frag}}]}), True
    yield chunk({}, _chat_finish(plan)), False
    if with_usage:
        yield sse({"id": cid, "object": "chat.completion.chunk", "created": created,
                   "model": plan.model, "service_tier": "default", "system_fingerprint": fp,
                   "choices": [], "usage": _chat_usage(plan)}), False
    yield b"data: [DONE]\n\n", False


def full_openai_chat(plan):
    msg = {"role": "assistant", "content": plan.text if plan.chunks else None, "refusal": None,
           "annotations": []}
    if plan.tool_calls:
        msg["tool_calls"] = [{"id": tc["id"], "type": "function",
                              "function": {"name": tc["name"], "arguments": plan.args_json(tc)}}
                             for tc in plan.tool_calls]
    return {"id": chatcmpl_id(), "object": "chat.completion", "created": now_s(),
            "model": plan.model,
            "choices": [{"index": 0, "message": msg, "logprobs": None,
                         "finish_reason": _chat_finish(plan)}],
            "usage": _chat_usage(plan), "service_tier": "default",
            "system_fingerprint": "fp_" + _hex(10)}


# -- OpenAI Responses


def _resp_usage(plan):
    u = plan.usage
    return {"input_tokens": u["input"], "input_tokens_details": {"cached_tokens": u["cacheRead"]},
            "output_tokens": u["output"], "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": u["input"] + u["output"]}


def _resp_object(rid, created, plan, body, status, output, usage):
    return {
        "id": rid, "object": "response", "created_at": created, "status": status,
        "background": False, "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": body.get("instructions"), "max_output_tokens":
            body.get("max_output_tokens"), "max_tool_calls": None, "model": plan.model,
        "output": output, "parallel_tool_calls": True, "previous_response_id": None,
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"), "summary": None},
        "safety_identifier": None, "service_tier": "default", "store": body.get("store", True),
        "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto", "tools": body.get("tools") or [], "top_logprobs": 0,
        "top_p": 1.0, "truncation": "disabled", "usage": usage, "user": None, "metadata": {},
    }


def _resp_items(plan):
    """The completed output items, with their ids assigned."""
    items = []
    if plan.thinking:
        items.append({"id": resp_item_id("rs"), "type": "reasoning",
                      "summary": [{"type": "summary_text", "text": plan.thinking}],
                      "encrypted_content": plan.signature})
    if plan.chunks:
        items.append({"id": resp_item_id("msg"), "type": "message", "status": "completed",
                      "content": [{"type": "output_text", "annotations": [], "logprobs": [],
                                   "text": plan.text}], "role": "assistant"})
    for tc in plan.tool_calls:
        items.append({"id": resp_item_id("fc"), "type": "function_call", "status": "completed",
                      "arguments": plan.args_json(tc), "call_id": tc["id"],
                      "name": tc["name"]})
    return items


def stream_openai_responses(plan, body):
    rid, created = resp_id(), now_s()
    seq = [0]

    def ev(kind, **fields):
        d = {"type": kind, "sequence_number": seq[0]}
        d.update(fields)
        seq[0] += 1
        return sse(d, kind)

    items = _resp_items(plan)
    status = "incomplete" if plan.stop == "length" else "completed"
    yield ev("response.created", response=_resp_object(rid, created, plan, body, "in_progress",
                                                       [], None)), False
    yield ev("response.in_progress", response=_resp_object(rid, created, plan, body,
                                                           "in_progress", [], None)), False
    for idx, item in enumerate(items):
        if item["type"] == "reasoning":
            yield ev("response.output_item.added", output_index=idx,
                     item={"id": item["id"], "type": "reasoning", "summary": []}), False
            yield ev("response.reasoning_summary_part.added", item_id=item["id"],
                     output_index=idx, summary_index=0,
                     part={"type": "summary_text", "text": ""}), False
            for frag in _split(plan.thinking):
                yield ev("response.reasoning_summary_text.delta", item_id=item["id"],
                         output_index=idx, summary_index=0, delta=frag), True
            yield ev("response.reasoning_summary_text.done", item_id=item["id"],
                     output_index=idx, summary_index=0, text=plan.thinking), False
            yield ev("response.reasoning_summary_part.done", item_id=item["id"],
                     output_index=idx, summary_index=0,
                     part={"type": "summary_text", "text": plan.thinking}), False
        elif item["type"] == "message":
            yield ev("response.output_item.added", output_index=idx,
                     item={"id": item["id"], "type": "message", "status": "in_progress",
                           "content": [], "role": "assistant"}), False
            yield ev("response.content_part.added", item_id=item["id"], output_index=idx,
                     content_index=0, part={"type": "output_text", "annotations": [],
                                            "logprobs": [], "text": ""}), False
            for text in plan.chunks:
                yield ev("response.output_text.delta", item_id=item["id"], output_index=idx,
                         content_index=0, delta=text, logprobs=[]), True
            yield ev("response.output_text.done", item_id=item["id"], output_index=idx,
                     content_index=0, text=plan.text, logprobs=[]), False
            yield ev("response.content_part.done", item_id=item["id"], output_index=idx,
                     content_index=0, part=item["content"][0]), False
        else:
            yield ev("response.output_item.added", output_index=idx,
                     item=dict(item, status="in_progress", arguments="")), False
            for frag in _fragments(item["arguments"]):
                yield ev("response.function_call_arguments.delta", item_id=item["id"],
                         output_index=idx, delta=frag), True
            yield ev("response.function_call_arguments.done", item_id=item["id"],
                     output_index=idx, name=item["name"], arguments=item["arguments"]), False
        yield ev("response.output_item.done", output_index=idx, item=item), False
    final = "response.incomplete" if status == "incomplete" else "response.completed"
    yield ev(final, response=_resp_object(rid, created, plan, body, status, items,
                                          _resp_usage(plan))), False


def full_openai_responses(plan):
    status = "incomplete" if plan.stop == "length" else "completed"
    return _resp_object(resp_id(), now_s(), plan, {}, status, _resp_items(plan),
                        _resp_usage(plan))


# -- Anthropic Messages


def _anth_usage(plan, output):
    u = plan.usage
    return {"input_tokens": u["input"], "cache_creation_input_tokens": u["cacheWrite"],
            "cache_read_input_tokens": u["cacheRead"], "output_tokens": output}


def _anth_stop(plan):
    if plan.stop == "length":
        return "max_tokens"
    return "tool_use" if plan.tool_calls else "end_turn"


def stream_anthropic(plan, body):
    mid = anthropic_msg_id()
    yield sse({"type": "message_start", "message": {
        "id": mid, "type": "message", "role": "assistant", "model": plan.model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": dict(
            _anth_usage(plan, 1), service_tier="standard")}}, "message_start"), False
    idx = 0
    if plan.thinking:
        yield sse({"type": "content_block_start", "index": idx, "content_block": {
            "type": "thinking", "thinking": "", "signature": ""}}, "content_block_start"), False
        for frag in _split(plan.thinking):
            yield sse({"type": "content_block_delta", "index": idx, "delta": {
                "type": "thinking_delta", "thinking": frag}}, "content_block_delta"), True
        yield sse({"type": "content_block_delta", "index": idx, "delta": {
            "type": "signature_delta", "signature": plan.signature}},
            "content_block_delta"), False
        yield sse({"type": "content_block_stop", "index": idx}, "content_block_stop"), False
        idx += 1
    if plan.chunks:
        yield sse({"type": "content_block_start", "index": idx, "content_block": {
            "type": "text", "text": ""}}, "content_block_start"), False
        yield sse({"type": "ping"}, "ping"), False
        for text in plan.chunks:
            yield sse({"type": "content_block_delta", "index": idx, "delta": {
                "type": "text_delta", "text": text}}, "content_block_delta"), True
        yield sse({"type": "content_block_stop", "index": idx}, "content_block_stop"), False
        idx += 1
    for tc in plan.tool_calls:
        yield sse({"type": "content_block_start", "index": idx, "content_block": {
            "type": "tool_use", "id": tc["id"], "name": tc["name"], "input": {}}},
            "content_block_start"), False
        # The first input_json_delta is empty, as Anthropic sends it.
        for frag in [""] + _fragments(plan.args_json(tc)):
            yield sse({"type": "content_block_delta", "index": idx, "delta": {
                "type": "input_json_delta", "partial_json": frag}},
                "content_block_delta"), True
        yield sse({"type": "content_block_stop", "index": idx}, "content_block_stop"), False
        idx += 1
    yield sse({"type": "message_delta", "delta": {"stop_reason": _anth_stop(plan),
                                                  "stop_sequence": None},
               "usage": _anth_usage(plan, plan.usage["output"])}, "message_delta"), False
    yield sse({"type": "message_stop"}, "message_stop"), False


def full_anthropic(plan):
    content = []
    if plan.thinking:
        content.append({"type": "thinking", "thinking": plan.thinking,
                        "signature": plan.signature})
    if plan.chunks:
        content.append({"type": "text", "text": plan.text})
    for tc in plan.tool_calls:
        content.append({"type": "tool_use", "id": tc["id"], "name": tc["name"],
                        "input": tc["arguments"]})
    return {"id": anthropic_msg_id(), "type": "message", "role": "assistant",
            "model": plan.model, "content": content, "stop_reason": _anth_stop(plan),
            "stop_sequence": None,
            "usage": dict(_anth_usage(plan, plan.usage["output"]), service_tier="standard")}


# -- Ollama


def _ollama_ts():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int(
        (t % 1) * 1e6)


def _ollama_final(plan):
    return {"model": plan.model, "created_at": _ollama_ts(),
            "message": {"role": "assistant", "content": ""}, "done": True,
            "done_reason": "length" if plan.stop == "length" else "stop",
            "total_duration": 4883583458, "load_duration": 1334875,
            "prompt_eval_count": plan.usage["input"], "prompt_eval_duration": 342546000,
            "eval_count": plan.usage["output"], "eval_duration": 4535599000}


def _ollama_calls(plan):
    return [{"id": tc["id"], "function": {"index": i, "name": tc["name"],
                                          "arguments": tc["arguments"]}}
            for i, tc in enumerate(plan.tool_calls)]


def stream_ollama(plan, body):
    def line(msg):
        return (json.dumps({"model": plan.model, "created_at": _ollama_ts(), "message": msg,
                            "done": False}) + "\n").encode()

    if plan.thinking:
        for frag in _split(plan.thinking):
            yield line({"role": "assistant", "content": "", "thinking": frag}), True
    for text in plan.chunks:
        yield line({"role": "assistant", "content": text}), True
    if plan.tool_calls:
        yield line({"role": "assistant", "content": "", "tool_calls": _ollama_calls(plan)}), True
    yield (json.dumps(_ollama_final(plan)) + "\n").encode(), False


def full_ollama(plan):
    out = _ollama_final(plan)
    out["message"] = {"role": "assistant", "content": plan.text}
    if plan.thinking:
        out["message"]["thinking"] = plan.thinking
    if plan.tool_calls:
        out["message"]["tool_calls"] = _ollama_calls(plan)
    return out


# -- Gemini


def _gem_usage(plan, final):
    u = plan.usage
    d = {"promptTokenCount": u["input"],
         "promptTokensDetails": [{"modality": "TEXT", "tokenCount": u["input"]}]}
    if u["cacheRead"]:
        d["cachedContentTokenCount"] = u["cacheRead"]
    if final:
        d["candidatesTokenCount"] = u["output"]
        d["totalTokenCount"] = u["input"] + u["output"]
    else:
        d["totalTokenCount"] = u["input"]
    return d


def _gem_finish(plan):
    return "MAX_TOKENS" if plan.stop == "length" else "STOP"


def stream_gemini(plan, body):
    rid = gemini_response_id()

    def chunk(parts, final=False):
        cand = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if final:
            cand["finishReason"] = _gem_finish(plan)
        # Gemini ends its SSE lines with CRLF.
        return sse({"candidates": [cand], "usageMetadata": _gem_usage(plan, final),
                    "modelVersion": plan.model, "responseId": rid}, sep=b"\r\n\r\n")

    parts = []
    if plan.thinking:
        for frag in _split(plan.thinking):
            parts.append(({"text": frag, "thought": True}, True))
    for text in plan.chunks:
        parts.append(({"text": text}, True))
    for tc in plan.tool_calls:
        parts.append(({"functionCall": {"name": tc["name"], "args": tc["arguments"]},
                       "thoughtSignature": plan.signature}, True))
    if not parts:
        parts.append(({"text": ""}, False))
    for i, (p, is_delta) in enumerate(parts):
        yield chunk([p], final=i == len(parts) - 1), is_delta


def full_gemini(plan):
    parts = []
    if plan.thinking:
        parts.append({"text": plan.thinking, "thought": True})
    if plan.chunks:
        parts.append({"text": plan.text})
    for tc in plan.tool_calls:
        parts.append({"functionCall": {"name": tc["name"], "args": tc["arguments"]}})
    return {"candidates": [{"content": {"parts": parts, "role": "model"},
                            "finishReason": _gem_finish(plan), "index": 0}],
            "usageMetadata": _gem_usage(plan, True), "modelVersion": plan.model,
            "responseId": gemini_response_id()}


STREAM = {
    "openai-chat": stream_openai_chat,
    "openai-responses": stream_openai_responses,
    "anthropic": stream_anthropic,
    "ollama": stream_ollama,
    "gemini": stream_gemini,
}

FULL = {
    "openai-chat": full_openai_chat,
    "openai-responses": full_openai_responses,
    "anthropic": full_anthropic,
    "ollama": full_ollama,
    "gemini": full_gemini,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-auth", action="store_true", help="accept requests without keys")
    ap.add_argument("--key", action="append", help="accept only this key (repeatable)")
    args = ap.parse_args(argv)
    fake = FakeLLM(args.host, args.port, require_auth=not args.no_auth,
                   api_keys=args.key).start()
    print(fake.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
