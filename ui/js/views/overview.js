// overview.js - what the gateway is doing: health, uptime, model and auth,
// channels, connected clients. Refreshed by `health` and `presence` events.

import { h, replace, duration, ago, fmtNum } from "../dom.js";

export default {
  id: "overview",
  title: "Overview",
  icon: "◎",
  mount(el, app) {
    const offs = [];
    const cards = h("div.grid");
    const presence = h("div");
    const channels = h("div");
    replace(el, h("h1#h-overview", "Overview"), cards,
      h("h2", "Channels"), channels, h("h2", "Connected clients"), presence);

    const stat = (label, value, hint, kind) =>
      h(`div.card.stat${kind ? "." + kind : ""}`, h("div.label", label), h("div.value", value), hint ? h("div.hint", hint) : null);

    let health = null, status = null, models = null;
    function paint() {
      const snap = (app.hello && app.hello.snapshot) || {};
      const up = status ? status.uptimeMs : snap.uptimeMs;
      const model = app.defaultModel;
      replace(cards,
        stat("Gateway", health ? (health.ok ? "Healthy" : "Degraded") : "…", `pincer ${(app.hello && app.hello.server && app.hello.server.version) || ""}`, health && health.ok ? "ok" : "warn"),
        stat("Uptime", up != null ? duration(up) : "…", status ? `pid ${status.pid} · ${fmtNum(Math.round((status.processMemory || {}).rssBytes / 1048576))} MiB` : null),
        stat("Model", model || "not set up", model ? `${(models || []).length} configured` : "Open Setup to choose one", model ? "ok" : "warn"),
        stat("Auth", (status && status.authMode) || snap.authMode || "…", app.deviceId ? `this device ${app.deviceId.slice(0, 12)}…` : null),
        stat("Sessions", status ? fmtNum(status.sessions.count) : "…", status && status.sessions.recent && status.sessions.recent[0] ? `last ${ago(status.sessions.recent[0].updatedAt)}` : null),
        stat("Clients", status ? fmtNum(status.connections.ready) : "…", "connected to the WebSocket"));
      const ch = (health && health.channelOrder) || [];
      replace(channels, ch.length
        ? h("ul.list", ch.map((id) => {
          const c = health.channels[id] || {};
          return h("li", h("strong", (health.channelLabels || {})[id] || id), " ", h(`span.pill.${c.ok || c.running ? "ok" : "warn"}`, c.ok || c.running ? "running" : "not running"));
        }))
        : h("p.muted", "No channels configured. Chat here, or add a channel (Telegram, Discord, …) in Config."));
    }

    async function load() {
      try {
        [health, status, models] = await Promise.all([
          app.gw.request("health", {}),
          app.gw.request("status", {}),
          app.gw.request("models.list", {}).then((r) => r.models).catch(() => []),
        ]);
      } catch (e) {
        replace(cards, h("p.error", `Could not load status: ${e.message}`));
        return;
      }
      paint();
      loadPresence();
    }

    async function loadPresence() {
      let list = [];
      try {
        list = await app.gw.request("system-presence", {});
      } catch {
        return;
      }
      replace(presence, h("div.tablewrap", h("table.table",
        h("thead", h("tr", ["Client", "Mode", "Platform", "Address", "Seen"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", (list || []).map((p) => h("tr",
          h("td", p.host || p.text || "—"), h("td", p.mode || "—"), h("td", p.platform || "—"),
          h("td", p.ip || "—"), h("td", ago(p.ts))))))));
    }

    offs.push(app.gw.on("health", (p) => { health = p; paint(); }));
    offs.push(app.gw.on("presence", () => loadPresence()));
    offs.push(app.gw.on("hello", load));
    load();
    return () => offs.forEach((f) => f());
  },
};
