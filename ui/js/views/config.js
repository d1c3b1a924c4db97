// config.js - the config file as JSON5, edited and applied with
// config.apply (optimistic: baseHash from config.get), validation errors
// shown at their line; the common settings as a small form (config.patch);
// key documentation from the schema (config.schema.lookup).
//
// Credentials arrive masked ("__OPENCLAW_REDACTED__") and the gateway puts
// the real values back when the text comes back with the mask in place.

import { h, replace, toast, mask } from "../dom.js";

export default {
  id: "config",
  title: "Config",
  icon: "⚙",
  mount(el, app) {
    const offs = [];
    let snap = null;
    const pathEl = h("p.muted");
    const gutter = h("div.gutter", { "aria-hidden": "true" });
    const editor = h("textarea#config-raw", { spellcheck: "false", "aria-label": "Config file (JSON5)", "aria-describedby": "config-issues", wrap: "off" });
    const issues = h("div#config-issues", { "aria-live": "polite" });
    const applyBtn = h("button.btn.primary#config-apply", { type: "button" }, "Apply");
    const reloadBtn = h("button.btn#config-reload", { type: "button" }, "Reload");
    const modelIn = h("input#f-model", { type: "text", list: "model-list", placeholder: "provider/model", autocomplete: "off" });
    const modelList = h("datalist#model-list");
    const formMsg = h("p.muted", { "aria-live": "polite" });
    const lookupIn = h("input#f-lookup", { type: "search", placeholder: "e.g. gateway.port", "aria-label": "Config key" });
    const lookupOut = h("div.doc", { "aria-live": "polite" });
    const secretsBox = h("div");

    replace(el,
      h("h1#h-config", "Config"), pathEl,
      h("section.card", { "aria-labelledby": "h-common" },
        h("h2#h-common", "Common settings"),
        h("form.form", { onsubmit: (e) => { e.preventDefault(); saveForm(); } },
          h("div.form-row", h("label", { for: "f-model" }, "Default model"), modelIn, modelList),
          h("div.row", h("button.btn.primary", { type: "submit" }, "Save"),
            h("button.btn", { type: "button", onclick: () => app.navigate("setup") }, "Set up a provider and key…")),
          formMsg),
        h("h3", "Credentials in this config"), secretsBox),
      h("section", { "aria-labelledby": "h-raw" },
        h("div.head-row", h("h2#h-raw", "Config file"), h("div.row", reloadBtn, applyBtn)),
        issues,
        h("div.editor", gutter, editor)),
      h("section.card", { "aria-labelledby": "h-doc" },
        h("h2#h-doc", "Look up a setting"),
        h("form.row", { onsubmit: (e) => { e.preventDefault(); lookup(); } }, lookupIn, h("button.btn", { type: "submit" }, "Look up")),
        lookupOut));

    let errLines = new Set();
    function paintGutter() {
      const n = editor.value.split("\n").length;
      const frag = document.createDocumentFragment();
      for (let i = 1; i <= n; i++) frag.append(h(errLines.has(i) ? "div.ln.bad" : "div.ln", String(i)));
      replace(gutter, frag);
      gutter.scrollTop = editor.scrollTop;
    }
    editor.addEventListener("input", () => paintGutter());
    editor.addEventListener("scroll", () => (gutter.scrollTop = editor.scrollTop));
    editor.addEventListener("keydown", (e) => {
      if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey && editor.dataset.tabs === "1") {
        e.preventDefault();
        editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
      }
      if ((e.ctrlKey || e.metaKey) && e.key === "s") {
        e.preventDefault();
        apply();
      }
    });

    function gotoLine(line) {
      const lines = editor.value.split("\n");
      let pos = 0;
      for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
      editor.focus();
      editor.setSelectionRange(pos, pos + (lines[line - 1] || "").length);
      const lh = parseFloat(getComputedStyle(editor).lineHeight) || 20;
      editor.scrollTop = Math.max(0, (line - 3) * lh);
    }

    function showIssues(list, headline) {
      errLines = new Set(list.filter((i) => i.line).map((i) => i.line));
      paintGutter();
      if (!list.length && !headline) {
        replace(issues);
        return;
      }
      replace(issues, h("div.issues", { role: "alert" },
        h("strong", headline || "The config has problems:"),
        h("ul", list.map((i) => h("li",
          i.line ? h("button.linkish", { type: "button", onclick: () => gotoLine(i.line) }, `line ${i.line}`) : null,
          i.line ? ": " : "", i.path ? h("code", i.path) : null, i.path ? " — " : "", i.message)))));
    }

    function collectSecrets(v, path, out) {
      if (v === "__OPENCLAW_REDACTED__") out.push({ path, value: v });
      else if (v && typeof v === "object" && v.source && v.id) out.push({ path, ref: `${v.source}:${v.id}` });
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) collectSecrets(x, path ? `${path}.${k}` : k, out);
      return out;
    }

    async function load() {
      try {
        const [s, m] = await Promise.all([app.gw.request("config.get", {}), app.gw.request("models.list", {}).catch(() => ({ models: [] }))]);
        snap = s;
        replace(modelList, (m.models || []).map((x) => h("option", { value: `${x.provider}/${x.id}` })));
      } catch (e) {
        replace(issues, h("p.error", `Could not read the config: ${e.message}`));
        return;
      }
      replace(pathEl, snap.exists ? ["File: ", h("code", snap.path)] : ["No config file yet: applying creates ", h("code", snap.path), "."]);
      editor.value = snap.raw != null ? snap.raw : JSON.stringify(snap.parsed || {}, null, 2);
      const parsed = snap.parsed || {};
      const primary = parsed.agents && parsed.agents.defaults && parsed.agents.defaults.model;
      modelIn.value = (primary && (typeof primary === "string" ? primary : primary.primary)) || "";
      const secrets = collectSecrets(parsed, "", []);
      replace(secretsBox, secrets.length ? h("ul.list", secrets.map((s) => h("li", h("code", s.path), " ", s.ref ? h("span.pill", `from ${s.ref}`) : h("span.pill", mask(s.value)))))
        : h("p.muted", "None: keys come from the environment or from auth profiles."));
      showIssues((snap.issues || []).map((i) => ({ ...i })), snap.valid === false ? "The file on disk does not validate:" : null);
    }

    function parseIssues(e) {
      const d = e.details || {};
      let list = d.issues || [];
      const m = /at (\d+):(\d+)/.exec(e.message || "");
      if (!list.length && m) list = [{ line: Number(m[1]), column: Number(m[2]), message: e.message }];
      if (!list.length) list = [{ message: e.message }];
      return list;
    }

    async function apply() {
      if (!snap) return;
      applyBtn.disabled = true;
      try {
        const params = { raw: editor.value };
        if (snap.exists) params.baseHash = snap.hash;
        const r = await app.gw.request("config.apply", params);
        showIssues([]);
        toast(r && r.restart ? "Applied; the gateway restarts to pick it up" : "Config applied", "ok");
        await load();
      } catch (e) {
        if (/changed since last load/.test(e.message)) showIssues([{ message: "Someone else changed the config meanwhile. Reload, then apply your change again." }], "Not applied:");
        else showIssues(parseIssues(e), "Not applied — fix these and apply again:");
      } finally {
        applyBtn.disabled = false;
      }
    }

    async function saveForm() {
      const v = modelIn.value.trim();
      if (v && !/^[\w.-]+\/\S+$/.test(v)) {
        formMsg.textContent = "A model is written provider/model, e.g. anthropic/claude-sonnet-4-5.";
        modelIn.focus();
        return;
      }
      try {
        const params = { raw: JSON.stringify({ agents: { defaults: { model: v ? { primary: v } : null } } }) };
        if (snap && snap.exists) params.baseHash = snap.hash;
        await app.gw.request("config.patch", params);
        formMsg.textContent = "Saved.";
        app.defaultModel = v || app.defaultModel;
        load();
      } catch (e) {
        formMsg.textContent = `Not saved: ${e.message}`;
      }
    }

    async function lookup() {
      const path = lookupIn.value.trim();
      if (!path) return;
      try {
        const r = await app.gw.request("config.schema.lookup", { path });
        const s = r.schema || {};
        replace(lookupOut, h("dl.kv",
          h("dt", "Key"), h("dd", h("code", r.path)),
          s.title || s.description ? [h("dt", "About"), h("dd", s.title || "", s.description ? ` — ${s.description}` : "")] : null,
          h("dt", "Type"), h("dd", [].concat(s.type || (s.anyOf ? "one of several" : "object")).join(" | ")),
          s.enum ? [h("dt", "Values"), h("dd", s.enum.join(", "))] : null,
          s.default !== undefined ? [h("dt", "Default"), h("dd", h("code", JSON.stringify(s.default)))] : null,
          s.properties ? [h("dt", "Keys"), h("dd", Object.keys(s.properties).join(", "))] : null));
      } catch (e) {
        replace(lookupOut, h("p.error", e.message));
      }
    }

    reloadBtn.addEventListener("click", load);
    applyBtn.addEventListener("click", apply);
    offs.push(app.gw.on("config.changed", () => toast("The config changed on the gateway. Reload to see it.", "info")));
    offs.push(app.gw.on("hello", load));
    load();
    return () => offs.forEach((f) => f());
  },
};
