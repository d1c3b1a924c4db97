// agents.js - agents, skills with their gating and missing requirements,
// and cron jobs (shown as "not configured" until the gateway has them).

import { h, replace } from "../dom.js";

export default {
  id: "agents",
  title: "Agents & skills",
  icon: "◇",
  mount(el, app) {
    const offs = [];
    const agentsBox = h("div"), skillsBox = h("div"), cronBox = h("div");
    replace(el, h("h1#h-agents", "Agents & skills"),
      h("section", { "aria-labelledby": "h-ag" }, h("h2#h-ag", "Agents"), agentsBox),
      h("section", { "aria-labelledby": "h-sk" }, h("h2#h-sk", "Skills"), skillsBox),
      h("section", { "aria-labelledby": "h-cron" }, h("h2#h-cron", "Scheduled jobs"), cronBox));

    async function load() {
      try {
        const r = await app.gw.request("agents.list", {});
        replace(agentsBox, h("div.grid", (r.agents || []).map((a) => h("div.card",
          h("div.row.spread", h("strong", (a.identity && a.identity.name) || a.name || a.id), a.id === r.defaultId ? h("span.pill.ok", "default") : null),
          h("dl.kv", h("dt", "Id"), h("dd", h("code", a.id)), h("dt", "Workspace"), h("dd", a.workspace ? h("code", a.workspace) : "default"),
            h("dt", "Main session"), h("dd", h("code", `agent:${a.id}:${r.mainKey || "main"}`))),
          h("button.btn.small", { type: "button", onclick: () => app.navigate("chat", { sessionKey: `agent:${a.id}:${r.mainKey || "main"}` }) }, "Chat")))));
      } catch (e) {
        replace(agentsBox, h("p.error", e.message));
      }
      if (app.gw.has("skills.status")) {
        try {
          const s = await app.gw.request("skills.status", {});
          const list = s.skills || [];
          replace(skillsBox, list.length ? h("div.tablewrap", h("table.table",
            h("thead", h("tr", ["Skill", "Status", "Missing"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", list.map((k) => {
              const miss = k.missing || {};
              const missing = [].concat(miss.bins || [], miss.env || [], miss.config || [], miss.os || []);
              const ok = k.eligible !== false && !missing.length && !k.disabled;
              return h("tr", h("td", h("strong", k.name), k.description ? h("div.muted", k.description) : null),
                h("td", h(`span.pill.${ok ? "ok" : "warn"}`, k.disabled ? "disabled" : ok ? "ready" : "blocked")),
                h("td", missing.length ? missing.join(", ") : "—"));
            })))) : h("p.muted", "No skills installed."));
        } catch (e) {
          replace(skillsBox, h("p.error", e.message));
        }
      } else {
        replace(skillsBox, h("p.muted", "This gateway does not report skills yet (", h("code", "pincer skills list"), " on the host does)."));
      }
      if (app.gw.has("cron.list")) {
        try {
          const c = await app.gw.request("cron.list", {});
          const jobs = c.jobs || [];
          replace(cronBox, jobs.length ? h("ul.list", jobs.map((j) => h("li", h("strong", j.name || j.id), " ", h("span.muted", JSON.stringify(j.schedule || ""))))) : h("p.muted", "No scheduled jobs."));
        } catch (e) {
          replace(cronBox, h("p.error", e.message));
        }
      } else {
        replace(cronBox, h("p.muted", "Not configured: this gateway has no scheduler yet."));
      }
    }
    offs.push(app.gw.on("hello", load));
    offs.push(app.gw.on("skills.changed", load));
    offs.push(app.gw.on("cron", load));
    load();
    return () => offs.forEach((f) => f());
  },
};
