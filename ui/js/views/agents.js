// agents.js - agents, skills with their gating and missing requirements,
// and cron jobs (shown as "not configured" until the gateway has them).

import { h, replace } from "../dom.js";

// OpenClaw's grouping of skills.status rows, by source.
const GROUPS = [
  { id: "workspace", label: "Workspace", sources: ["openclaw-workspace", "agents-skills-project"] },
  { id: "built-in", label: "Built-in", sources: ["openclaw-bundled"] },
  { id: "installed", label: "Installed", sources: ["openclaw-managed", "agents-skills-personal"] },
  { id: "extra", label: "Extra", sources: ["openclaw-extra"] },
];

function skillGroups(list) {
  const groups = GROUPS.map((g) => ({ ...g, skills: [] }));
  const other = { id: "other", label: "Other", skills: [] };
  for (const k of list) {
    const g = k.bundled ? groups[1] : groups.find((x) => x.sources.includes(k.source));
    (g || other).skills.push(k);
  }
  return groups.concat(other).filter((g) => g.skills.length);
}

// Usable by this agent: eligible and not filtered out by its allowlist.
function available(k) {
  return k.eligible && !k.blockedByAgentFilter;
}

// What is missing, as OpenClaw words it: bin:x, bin:any of (a, b), env:X, config:p, os:o.
function missingList(k) {
  const m = k.missing || {};
  return [
    ...(m.bins || []).map((b) => `bin:${b}`),
    ...((m.anyBins || []).length ? [`bin:any of (${m.anyBins.join(", ")})`] : []),
    ...(m.env || []).map((e) => `env:${e}`),
    ...(m.config || []).map((c) => `config:${c}`),
    ...(m.os || []).map((o) => `os:${o}`),
  ];
}

function skillStatus(k) {
  if (k.disabled) return ["disabled", "warn", "turned off in skills.entries"];
  if (k.blockedByAllowlist) return ["blocked", "warn", "bundled skill not in skills.allowBundled"];
  if (!k.eligible && k.platformIncompatible) return ["unsupported", "warn", "not for this platform"];
  if (!k.eligible) return ["needs setup", "warn", null];
  if (k.blockedByAgentFilter) return ["not for this agent", "warn", "outside this agent's skills list"];
  return ["ready", "ok", k.modelVisible ? null : "hidden from the model (disable-model-invocation)"];
}

function skillRow(k) {
  const [label, tone, why] = skillStatus(k);
  const missing = k.disabled || k.blockedByAllowlist ? [] : missingList(k);
  const install = !k.eligible && Array.isArray(k.install) ? k.install.map((i) => i.label).filter(Boolean) : [];
  return h("tr", { dataset: { skill: k.name, status: label } },
    h("td", h("strong", k.emoji ? `${k.emoji} ` : "", k.name),
      k.description ? h("div.muted", k.description) : null,
      h("div.muted", h("code", { title: k.filePath || "" }, k.source))),
    h("td", h(`span.pill.${tone}`, label), why ? h("div.muted", why) : null),
    h("td.skill-missing", missing.length ? missing.map((x, i) => [i ? ", " : "", h("code", x)]) : "—",
      install.length ? h("div.muted", install.join("; ")) : null));
}

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

    let agents = [], skillsAgent = null;

    async function loadSkills() {
      if (!app.gw.has("skills.status")) {
        replace(skillsBox, h("p.muted", "This gateway does not report skills yet (", h("code", "pincer skills list"), " on the host does)."));
        return;
      }
      try {
        const s = await app.gw.request("skills.status", skillsAgent ? { agentId: skillsAgent } : {});
        renderSkills(s);
      } catch (e) {
        replace(skillsBox, h("p.error", e.message));
      }
    }

    function renderSkills(s) {
      const list = s.skills || [];
      const ready = list.filter(available).length;
      const picker = agents.length > 1 ? h("label.form-row", "Agent ",
        h("select#skills-agent", { onchange: (ev) => { skillsAgent = ev.target.value; loadSkills(); } },
          agents.map((a) => h("option", { value: a.id, selected: a.id === s.agentId }, (a.identity && a.identity.name) || a.name || a.id)))) : null;
      const head = h("p.muted#skills-summary", `${ready} of ${list.length} ready`,
        s.agentSkillFilter ? ` · agent ${s.agentId} is limited to ${s.agentSkillFilter.length ? s.agentSkillFilter.join(", ") : "no skills"}` : "");
      if (!list.length) {
        replace(skillsBox, picker, h("p.muted", "No skills installed. Put a folder with a ", h("code", "SKILL.md"), " in ",
          h("code", `${s.workspaceDir || "<workspace>"}/skills`), "."));
        return;
      }
      replace(skillsBox, picker, head, skillGroups(list).map((g) => h("section.skill-group", { "aria-label": `${g.label} skills` },
        h("h3", g.label, " ", h("span.muted", `(${g.skills.length})`)),
        h("div.tablewrap", h("table.table",
          h("thead", h("tr", ["Skill", "Status", "Missing"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", g.skills.map(skillRow)))))));
    }

    async function load() {
      try {
        const r = await app.gw.request("agents.list", {});
        agents = r.agents || [];
        replace(agentsBox, h("div.grid", (r.agents || []).map((a) => h("div.card",
          h("div.row.spread", h("strong", (a.identity && a.identity.name) || a.name || a.id), a.id === r.defaultId ? h("span.pill.ok", "default") : null),
          h("dl.kv", h("dt", "Id"), h("dd", h("code", a.id)), h("dt", "Workspace"), h("dd", a.workspace ? h("code", a.workspace) : "default"),
            h("dt", "Main session"), h("dd", h("code", `agent:${a.id}:${r.mainKey || "main"}`))),
          h("button.btn.small", { type: "button", onclick: () => app.navigate("chat", { sessionKey: `agent:${a.id}:${r.mainKey || "main"}` }) }, "Chat")))));
      } catch (e) {
        replace(agentsBox, h("p.error", e.message));
      }
      await loadSkills();
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
    offs.push(app.gw.on("skills.changed", loadSkills));
    offs.push(app.gw.on("cron", load));
    load();
    return () => offs.forEach((f) => f());
  },
};
