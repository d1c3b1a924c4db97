// sessions.js - every session: kind, channel, last activity, tokens; open
// one to read it, reset or delete it, change its model or thinking level
// (sessions.patch). Kept current by `sessions.changed` events.

import { h, replace, ago, fmtNum, confirmDialog, toast } from "../dom.js";

const THINKING = ["", "off", "minimal", "low", "medium", "high"];

export default {
  id: "sessions",
  title: "Sessions",
  icon: "☰",
  mount(el, app) {
    const offs = [];
    const table = h("div");
    const detail = h("aside.detail", { hidden: true, "aria-label": "Session details" });
    const search = h("input#session-search", { type: "search", placeholder: "Filter sessions", "aria-label": "Filter sessions" });
    replace(el, h("div.head-row", h("h1#h-sessions", "Sessions"), search), h("div.split", table, detail));
    let rows = [], models = [], open = null;

    async function load() {
      try {
        const [r, m] = await Promise.all([
          app.gw.request("sessions.list", { limit: 500 }),
          app.gw.request("models.list", {}).catch(() => ({ models: [] })),
        ]);
        rows = r.sessions || [];
        models = m.models || [];
      } catch (e) {
        replace(table, h("p.error", `Could not list sessions: ${e.message}`));
        return;
      }
      paint();
      if (open) openSession(open, false);
    }

    function paint() {
      const q = search.value.trim().toLowerCase();
      const list = rows.filter((s) => !q || JSON.stringify([s.key, s.displayName, s.lastChannel, s.model]).toLowerCase().includes(q));
      if (!list.length) {
        replace(table, h("div.empty", h("p", rows.length ? "No session matches." : "No sessions yet."),
          h("p.muted", "A session starts when someone talks to the agent.")));
        return;
      }
      replace(table, h("div.tablewrap", h("table.table.clickable",
        h("thead", h("tr", ["Session", "Kind", "Channel", "Last activity", "Tokens", "Model"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", list.map((s) => {
          const b = h("button.linkish", { type: "button", onclick: () => openSession(s.key) }, s.displayName || s.key);
          return h("tr", { class: s.key === open ? "sel" : "" },
            h("td", b), h("td", s.kind || "—"), h("td", s.lastChannel || s.channel || "—"),
            h("td", ago(s.updatedAt)), h("td.num", fmtNum(s.totalTokens)), h("td", s.model ? `${s.modelProvider ? s.modelProvider + "/" : ""}${s.model}` : "default"));
        })))));
    }

    async function openSession(key, focus = true) {
      open = key;
      paint();
      const s = rows.find((r) => r.key === key) || { key };
      const transcript = h("div.transcript", h("p.muted", "Loading…"));
      const modelSel = h("select#sess-model", { "aria-label": "Model" },
        h("option", { value: "" }, "Default model"),
        models.map((m) => h("option", { value: `${m.provider}/${m.id}`, selected: s.model === m.id && s.modelProvider === m.provider }, `${m.provider}/${m.id}`)));
      const thinkSel = h("select#sess-think", { "aria-label": "Thinking level" },
        THINKING.map((t) => h("option", { value: t, selected: (s.thinkingLevel || "") === t }, t || "Default thinking")));
      const patch = async (p) => {
        try {
          await app.gw.request("sessions.patch", { key, ...p });
          toast("Session updated", "ok");
          load();
        } catch (e) {
          toast(`Update failed: ${e.message}`, "error");
        }
      };
      modelSel.addEventListener("change", () => patch({ model: modelSel.value || null }));
      thinkSel.addEventListener("change", () => patch({ thinkingLevel: thinkSel.value || null }));
      const closeBtn = h("button.btn.icon-btn", { type: "button", "aria-label": "Close details" }, "×");
      closeBtn.addEventListener("click", () => { open = null; detail.hidden = true; paint(); });
      replace(detail,
        h("div.head-row", h("h2", s.displayName || key), closeBtn),
        h("dl.kv",
          h("dt", "Key"), h("dd", h("code", key)),
          h("dt", "Session id"), h("dd", h("code", s.sessionId || "—")),
          h("dt", "Tokens"), h("dd", `${fmtNum(s.inputTokens)} in · ${fmtNum(s.outputTokens)} out`)),
        h("div.form-row", h("label", { for: "sess-model" }, "Model"), modelSel),
        h("div.form-row", h("label", { for: "sess-think" }, "Thinking"), thinkSel),
        h("div.row",
          h("button.btn", { type: "button", onclick: () => app.navigate("chat", { sessionKey: key }) }, "Open in chat"),
          h("button.btn", { type: "button", onclick: async () => {
            if (await confirmDialog("Reset this session?", "The agent starts a fresh conversation; the old transcript is kept on disk.", "Reset"))
              app.gw.request("sessions.reset", { key }).then(() => toast("Session reset", "ok"), (e) => toast(e.message, "error"));
          } }, "Reset"),
          h("button.btn.danger", { type: "button", onclick: async () => {
            if (await confirmDialog("Delete this session?", "Its entry is removed from the session store.", "Delete", true))
              app.gw.request("sessions.delete", { key }).then(() => { toast("Session deleted", "ok"); open = null; detail.hidden = true; load(); }, (e) => toast(e.message, "error"));
          } }, "Delete")),
        h("h3", "Transcript"), transcript);
      detail.hidden = false;
      if (focus) detail.querySelector("h2").setAttribute("tabindex", "-1"), detail.querySelector("h2").focus();
      try {
        const r = await app.gw.request("chat.history", { sessionKey: key, limit: 100 });
        replace(transcript, (r.messages || []).filter((m) => m.role === "user" || m.role === "assistant").map((m) =>
          h(`div.tline.${m.role}`, h("span.who", m.role === "user" ? "You" : "Agent"),
            h("span", (Array.isArray(m.content) ? m.content.filter((b) => b.type === "text").map((b) => b.text).join("") : String(m.content || "")).slice(0, 2000)))));
        if (!transcript.childNodes.length) transcript.append(h("p.muted", "Empty."));
      } catch (e) {
        replace(transcript, h("p.error", e.message));
      }
    }

    search.addEventListener("input", paint);
    offs.push(app.gw.on("sessions.changed", load));
    offs.push(app.gw.on("hello", load));
    load();
    return () => offs.forEach((f) => f());
  },
};
