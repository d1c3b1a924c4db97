#!/usr/bin/env python3
"""Generate src/config/schema_table.c from OpenClaw's config JSON Schema.

pincer validates configs exactly as OpenClaw does, so the key paths, JSON
kinds, allowed values and bounds of the sections pincer implements are taken
from the schema OpenClaw itself prints (`openclaw config schema`, see
../shared/openclaw/README.md for running it here). pincer's own defaults and
reload kinds are layered on top from the tables below. Sections not yet
implemented are accepted as opaque (CT_ANY) so an OpenClaw config loads.

    openclaw config schema > /tmp/oc-schema.json
    scripts/gen-schema-table.py /tmp/oc-schema.json > src/config/schema_table.c
"""
import json
import re
import sys

SECTIONS = ["meta", "env", "logging", "secrets", "models", "agents", "session", "gateway"]

# pincer's defaults (JSON text), where OpenClaw documents one or pincer needs one.
DEFAULTS = {
    "gateway.port": "18789",
    "gateway.mode": '"local"',
    "gateway.bind": '"loopback"',
    "gateway.controlUi.enabled": "true",
    "gateway.auth.rateLimit.maxAttempts": "10",
    "gateway.auth.rateLimit.windowMs": "60000",
    "gateway.auth.rateLimit.lockoutMs": "300000",
    "gateway.auth.rateLimit.exemptLoopback": "true",
    "gateway.reload.mode": '"hybrid"',
    "logging.level": '"info"',
    "logging.consoleLevel": '"info"',
    "logging.maxFileBytes": "104857600",
    "models.mode": '"merge"',
    "agents.defaults.maxConcurrent": "4",
    "agents.defaults.timeoutSeconds": "172800",
    "agents.defaults.bootstrapMaxChars": "20000",
    "agents.defaults.bootstrapTotalMaxChars": "150000",
    "agents.defaults.mediaMaxMb": "20",
    "agents.defaults.imageMaxDimensionPx": "1200",
    "agents.defaults.compaction.memoryFlush.enabled": "true",
    "agents.defaults.compaction.memoryFlush.softThresholdTokens": "4000",
    "agents.defaults.compaction.memoryFlush.forceFlushTranscriptBytes": "2097152",
    "session.scope": '"per-sender"',
    "session.dmScope": '"main"',
    "session.reset.mode": '"none"',
    "session.maintenance.mode": '"warn"',
    "session.maintenance.pruneAfter": '"30d"',
    "session.maintenance.maxEntries": "5000",
}

# Reload kinds, longest prefix wins; everything else is hot (OpenClaw's rule:
# gateway.* needs a restart except gateway.reload and gateway.remote).
RELOAD = [
    ("gateway", "RELOAD_RESTART"),
    ("gateway.reload", "RELOAD_HOT"),
    ("gateway.remote", "RELOAD_HOT"),
    ("env", "RELOAD_RESTART"),
    ("secrets", "RELOAD_RESTART"),
    ("meta", "RELOAD_NONE"),
]

OPAQUE_DOC = "OpenClaw section accepted as is; pincer does not check or use it yet"
MAXSAFE = 9007199254740991

S = None


def res(n):
    for _ in range(32):
        if not (isinstance(n, dict) and "$ref" in n):
            return n
        cur = S
        for part in n["$ref"].lstrip("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if part not in cur:
                return {}
            cur = cur[part]
        n = cur
    return n


def variants(n):
    n = res(n)
    alts = n.get("anyOf") or n.get("oneOf")
    if alts:
        out = []
        for a in alts:
            out.extend(variants(a))
        return out
    return [n]


def is_secret_ref(v):
    p = v.get("properties", {})
    return v.get("type") == "object" and "source" in p and "id" in p


class Row:
    def __init__(self, path):
        self.path = path
        self.kinds = set()
        self.enums = []
        self.min = None
        self.max = None
        self.doc = ""
        self.default = None


rows = {}
order = []


def row(path):
    if path not in rows:
        rows[path] = Row(path)
        order.append(path)
    return rows[path]


def add_enum(r, vals):
    for v in vals:
        if isinstance(v, bool):
            r.kinds.add("CT_BOOL")
        elif isinstance(v, str):
            r.kinds.add("CT_STRING")
            if v not in r.enums:
                r.enums.append(v)
        elif isinstance(v, int):
            r.kinds.add("CT_INT")
        elif isinstance(v, float):
            r.kinds.add("CT_NUMBER")
        elif v is None:
            r.kinds.add("CT_NULL")


def walk(node, path, depth=0):
    r = row(path)
    top = res(node)
    if not r.doc:
        r.doc = (top.get("title") or "").strip()
    if "default" in top and r.default is None:
        r.default = json.dumps(top["default"])
    vs = variants(node)
    free_enum = False
    for v in vs:
        if is_secret_ref(v):
            r.kinds.add("CT_SECRET")
            continue
        if not r.doc:
            r.doc = (v.get("title") or "").strip()
        if "const" in v:
            add_enum(r, [v["const"]])
            continue
        if "enum" in v:
            add_enum(r, v["enum"])
            continue
        t = v.get("type")
        ts = t if isinstance(t, list) else [t]
        for t in ts:
            if t == "string":
                r.kinds.add("CT_STRING")
                free_enum = True
            elif t == "integer":
                r.kinds.add("CT_INT")
            elif t == "number":
                r.kinds.add("CT_NUMBER")
            elif t == "boolean":
                r.kinds.add("CT_BOOL")
            elif t == "null":
                r.kinds.add("CT_NULL")
            elif t == "array":
                r.kinds.add("CT_ARRAY")
                items = v.get("items")
                if isinstance(items, dict) and items and depth < 12:
                    walk(items, path + "[]", depth + 1)
                else:
                    row(path + "[]").kinds.add("CT_ANY")
            elif t == "object" or (t is None and "properties" in v):
                props = v.get("properties") or {}
                ap = v.get("additionalProperties")
                if props:
                    r.kinds.add("CT_OBJECT")
                    for k, sub in props.items():
                        walk(sub, (path + "." if path else "") + k, depth + 1)
                if isinstance(ap, dict) and ap:
                    r.kinds.add("CT_MAP")
                    walk(ap, path + ".*", depth + 1)
                elif not props or ap is not False:
                    if props:
                        # Open object: unknown keys pass (zod passthrough).
                        r.kinds.add("CT_MAP")
                        row(path + ".*").kinds.add("CT_ANY")
                    else:
                        r.kinds.add("CT_ANY")
            elif t is None and not v:
                r.kinds.add("CT_ANY")
        for key in ("minimum", "exclusiveMinimum"):
            if key in v:
                lo = v[key] + (1 if key == "exclusiveMinimum" and "CT_INT" in r.kinds and
                               "CT_NUMBER" not in r.kinds else 0)
                r.min = lo if r.min is None else min(r.min, lo)
        for key in ("maximum", "exclusiveMaximum"):
            if key in v and v[key] < MAXSAFE:
                r.max = v[key] if r.max is None else max(r.max, v[key])
    if free_enum:
        r.enums = []  # a free string among the variants: any string is valid


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def doc_for(r):
    if r.doc:
        return r.doc
    last = re.split(r"[.\[]", r.path.replace("[]", ""))[-1]
    if last == "*":
        return "entry"
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", last).lower()
    return words[:1].upper() + words[1:]


def reload_for(path):
    best, kind = -1, "RELOAD_HOT"
    for prefix, k in RELOAD:
        if (path == prefix or path.startswith(prefix + ".")) and len(prefix) > best:
            best, kind = len(prefix), k
    return kind


def main():
    global S
    S = json.load(open(sys.argv[1]))
    props = S["properties"]
    for sec in SECTIONS:
        walk(props[sec], sec)
    # The baseline's agents.list[] (with ids) next to the current agents.entries map.
    for p in list(order):
        if p == "agents.entries.*" or p.startswith("agents.entries.*."):
            q = "agents.list[]" + p[len("agents.entries.*"):]
            if q not in rows:
                src = rows[p]
                r = row(q)
                r.kinds, r.enums, r.min, r.max = set(src.kinds), list(src.enums), src.min, src.max
                r.doc, r.default = src.doc, src.default
    row("agents.list").kinds.add("CT_ARRAY")
    rows["agents.list"].doc = "Agents, each with an id (OpenClaw's baseline form of agents.entries)"
    r = row("agents.list[].id")
    r.kinds.add("CT_STRING")
    r.doc = "Agent id"
    # Order: parents before children, sections in SECTIONS order.
    def key(p):
        return order.index(p)
    lst = sorted(order, key=key)
    # agents.list rows were appended late; move them after agents.entries.
    lst = [p for p in lst if not p.startswith("agents.list")]
    ai = max(i for i, p in enumerate(lst) if p.startswith("agents.")) + 1
    extra = ["agents.list", "agents.list[]", "agents.list[].id"] + [
        p for p in order if p.startswith("agents.list[].") and p != "agents.list[].id"]
    lst[ai:ai] = extra
    opaque = [k for k in props if k not in SECTIONS and k != "$schema"]

    out = sys.stdout
    out.write("/*\n * schema_table.c - the config schema rows. GENERATED by\n"
              " * scripts/gen-schema-table.py from OpenClaw's `config schema` output\n"
              " * (openclaw 2026.9.6): do not edit by hand; change the generator's\n"
              " * DEFAULTS/RELOAD tables and regenerate.\n */\n"
              '#include "config/schema.h"\n\n#include <stddef.h>\n\n'
              "#define R(path, type, def, min, max, enums, reload, doc) \\\n"
              "\t{ path, type, def, min, max, enums, reload, doc }\n\n"
              "const struct cfg_field schema_table[] = {\n")
    for p in lst:
        r = rows[p]
        kinds = r.kinds or {"CT_ANY"}
        if "CT_ANY" in kinds:
            kinds = {"CT_ANY"}
        if "CT_NUMBER" in kinds:
            kinds.discard("CT_INT")
        t = " | ".join(sorted(kinds))
        d = DEFAULTS.get(p, r.default)
        lo = r.min if r.min is not None else 0
        hi = r.max if r.max is not None else (MAXSAFE if r.min is not None else 0)
        en = c_str("|".join(r.enums)) if r.enums and kinds & {"CT_STRING"} else "NULL"
        out.write("\tR(%s, %s, %s, %s, %s, %s, %s,\n\t  %s),\n" % (
            c_str(p), t, c_str(d) if d is not None else "NULL", repr(float(lo)),
            repr(float(hi)), en, reload_for(p), c_str(doc_for(r))))
    for k in opaque:
        out.write("\tR(%s, CT_ANY, NULL, 0, 0, NULL, RELOAD_HOT,\n\t  %s),\n" % (
            c_str(k), c_str(OPAQUE_DOC)))
    out.write("};\n\nconst size_t schema_table_len = sizeof(schema_table) / "
              "sizeof(schema_table[0]);\n")
    missing = [p for p in DEFAULTS if p not in rows]
    if missing:
        sys.stderr.write("defaults for unknown keys: %s\n" % ", ".join(missing))


main()
