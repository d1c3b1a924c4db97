// approvals.js - what waits for an operator: device pairing requests
// (device.pair.*), exec approval prompts as they happen
// (exec.approval.requested -> exec.approval.resolve), and chat-channel
// DM pairing codes once channels exist.

import { h, replace, ago, toast, confirmDialog } from "../dom.js";

// What waits, kept current by events alone: exec prompts by id, and the
// number of device pairing requests. Nothing here polls: exec prompts come
// and go with exec.approval.requested/resolved, and the lists are read once
// per connection (hello) and again only when a device.pair.* event says the
// pairing list changed.
const execPending = new Map();
let execListing = Promise.resolve();
let devicesPending = 0;
let devicesStale = true;

function execRow(p) {
  const r = p.request || {};
  return { id: p.id, command: r.command || r.commandPreview || r.commandText || "", cwd: r.cwd, host: r.host,
    agentId: r.agentId, sessionKey: r.sessionKey, createdAtMs: p.createdAtMs || Date.now(), expiresAtMs: p.expiresAtMs,
    decisions: r.allowedDecisions || p.allowedDecisions || ["allow-once", "allow-always", "deny"] };
}

// The prompts pending right now (after a reconnect, prompts answered while we
// were away are gone and ones asked meanwhile are there).
function loadExecList(gw) {
  execListing = (async () => {
    if (!gw.has("exec.approval.list")) return;
    try {
      const r = await gw.request("exec.approval.list", {});
      const list = Array.isArray(r) ? r : (r && (r.approvals || r.pending)) || [];
      execPending.clear();
      for (const p of list) if (p && p.id) execPending.set(p.id, execRow(p));
    } catch {
      /* events still arrive */
    }
  })();
  return execListing;
}

async function pendingDevices(app) {
  if (!app.gw.has("device.pair.list")) return { pending: [], paired: [] };
  try {
    const d = await app.gw.request("device.pair.list", {});
    devicesPending = (d.pending || []).length;
    devicesStale = false;
    return d;
  } catch {
    return { pending: [], paired: [] };
  }
}

const view = {
  id: "approvals",
  title: "Approvals",
  icon: "✓",

  /** Refresh the nav badge: pending pairing requests plus exec prompts. */
  async count(app) {
    if (app.gw.state !== "connected") return;
    await execListing;
    if (devicesStale) await pendingDevices(app);
    app.setBadge("approvals", devicesPending + execPending.size);
  },

  mount(el, app) {
    const offs = [];
    const execBox = h("div");
    const devBox = h("div");
    const pairedBox = h("div");
    const dmBox = h("div");
    replace(el, h("h1#h-approvals", "Approvals & pairing"),
      h("section", { "aria-labelledby": "h-exec" }, h("h2#h-exec", "Command approvals"), execBox),
      h("section", { "aria-labelledby": "h-dev" }, h("h2#h-dev", "Device pairing requests"), devBox),
      h("section", { "aria-labelledby": "h-dm" }, h("h2#h-dm", "Chat pairing codes"), dmBox),
      h("section", { "aria-labelledby": "h-paired" }, h("h2#h-paired", "Paired devices"), pairedBox));

    function paintExec() {
      if (!execPending.size) {
        replace(execBox, h("p.muted", "Nothing is waiting. When the agent wants to run a command that needs approval, it appears here at once."));
        return;
      }
      replace(execBox, [...execPending.values()].map((x) => {
        const act = async (decision) => {
          try {
            await app.gw.request("exec.approval.resolve", { id: x.id, decision });
            execPending.delete(x.id);
            paintExec();
            view.count(app);
          } catch (e) {
            toast(`Could not answer: ${e.message}`, "error");
          }
        };
        return h("div.card.approval", { role: "group", "aria-label": "Command approval" },
          h("pre.cmd", h("code", x.command || "(command not shown)")),
          h("p.muted", [x.agentId && `agent ${x.agentId}`, x.host && `on ${x.host}`, x.cwd && `in ${x.cwd}`, ago(x.createdAtMs)].filter(Boolean).join(" · ")),
          h("div.row",
            x.decisions.includes("allow-once") ? h("button.btn.primary", { type: "button", onclick: () => act("allow-once") }, "Allow once") : null,
            x.decisions.includes("allow-always") ? h("button.btn", { type: "button", onclick: () => act("allow-always") }, "Always allow") : null,
            h("button.btn.danger", { type: "button", onclick: () => act("deny") }, "Deny")));
      }));
    }

    async function loadExec() {
      await execListing;
      paintExec();
    }

    async function loadDevices() {
      if (!app.gw.has("device.pair.list")) {
        replace(devBox, h("p.muted", "This gateway has no device pairing."));
        return;
      }
      const d = await pendingDevices(app);
      const pending = d.pending || [];
      replace(devBox, pending.length ? pending.map((p) => h("div.card.approval", { role: "group", "aria-label": "Pairing request" },
        h("div.row.spread", h("strong", p.displayName || p.clientId || "Unnamed device"), h("span.muted", ago(p.ts || p.createdAtMs))),
        h("dl.kv",
          h("dt", "Device"), h("dd", h("code", String(p.deviceId || "").slice(0, 16))),
          h("dt", "Client"), h("dd", `${p.clientId || "?"} (${p.clientMode || "?"}) · ${p.platform || "?"}`),
          h("dt", "Asks for"), h("dd", `${p.role || "operator"}: ${(p.scopes || []).join(", ") || "no scopes"}`),
          h("dt", "From"), h("dd", p.remoteIp || "—")),
        h("div.row",
          h("button.btn.primary", { type: "button", onclick: () => resolve("device.pair.approve", p.requestId, "Device approved") }, "Approve"),
          h("button.btn.danger", { type: "button", onclick: () => resolve("device.pair.reject", p.requestId, "Request rejected") }, "Reject"))))
        : h("p.muted", "No device is waiting for approval."));
      const paired = d.paired || [];
      replace(pairedBox, paired.length ? h("div.tablewrap", h("table.table",
        h("thead", h("tr", ["Device", "Client", "Roles", "Approved", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", paired.map((p) => h("tr",
          h("td", p.displayName || h("code", String(p.deviceId).slice(0, 12))),
          h("td", `${p.clientId || "?"} · ${p.platform || "?"}`),
          h("td", (p.roles || [p.role]).filter(Boolean).join(", ")),
          h("td", ago(p.approvedAtMs || p.createdAtMs)),
          h("td", p.deviceId === app.deviceId ? h("span.pill.ok", "this browser") :
            h("button.btn.small.danger", { type: "button", onclick: async () => {
              if (await confirmDialog("Remove this device?", "It loses access and has to pair again.", "Remove", true))
                resolve("device.pair.remove", null, "Device removed", p.deviceId);
            } }, "Remove"))))))) : h("p.muted", "No paired devices."));
    }

    async function resolve(method, requestId, done, deviceId) {
      try {
        await app.gw.request(method, deviceId ? { deviceId } : { requestId });
        toast(done, "ok");
      } catch (e) {
        toast(`${method}: ${e.message}`, "error");
      }
      loadDevices();
      view.count(app);
    }

    function paintDm() {
      const has = app.gw.has("pairing.list") || app.gw.has("channels.pairing.list");
      replace(dmBox, h("p.muted", has ? "Chat pairing codes appear here." : "No chat channels are configured, so there are no DM pairing codes to approve."));
    }

    offs.push(app.gw.on("exec.approval.requested", (p) => {
      if (p && p.id) execPending.set(p.id, execRow(p));
      paintExec();
    }));
    offs.push(app.gw.on("exec.approval.resolved", (p) => {
      if (p && p.id) execPending.delete(p.id);
      paintExec();
    }));
    offs.push(app.gw.on("device.pair.requested", loadDevices));
    offs.push(app.gw.on("device.pair.resolved", loadDevices));
    // trackExecApprovals (registered first) has started the list read on hello.
    offs.push(app.gw.on("hello", () => { loadExec(); loadDevices(); }));
    loadExec();
    loadDevices();
    paintDm();
    return () => offs.forEach((f) => f());
  },
};
export default view;

// Exec prompts arrive whichever view is open: keep the map current from the
// start. Called before anyone else listens, so count() sees the new state.
export function trackExecApprovals(gw) {
  gw.on("exec.approval.requested", (p) => p && p.id && execPending.set(p.id, execRow(p)));
  gw.on("exec.approval.resolved", (p) => p && p.id && execPending.delete(p.id));
  gw.on("device.pair.requested", () => { devicesStale = true; });
  gw.on("device.pair.resolved", () => { devicesStale = true; });
  gw.on("hello", () => {
    devicesStale = true;
    loadExecList(gw);
  });
}
