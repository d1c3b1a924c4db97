// main.js - the Control UI shell: connection, token entry, navigation,
// and the views (js/views/*.js), each mounted into the main pane.
//
// Routes are paths under the gateway's basePath (/, /sessions, /config...)
// with history.pushState, so reloads and bookmarks work (the gateway
// answers every such path with index.html).

import { h, replace, toast } from "./dom.js";
import { Gateway } from "./gateway.js";
import { identitySupported } from "./identity.js";
import chat from "./views/chat.js";
import overview from "./views/overview.js";
import sessions from "./views/sessions.js";
import approvals, { trackExecApprovals } from "./views/approvals.js";
import config from "./views/config.js";
import agents from "./views/agents.js";
import logs from "./views/logs.js";
import setup from "./views/setup.js";

const VIEWS = [chat, overview, sessions, approvals, config, agents, logs, setup];
const NAV = [chat, overview, sessions, approvals, config, agents, logs];
const TOKEN_KEY = "pincer.gatewayToken";

const base = (document.querySelector('meta[name="pincer-base-path"]') || {}).content || "";

// ==== token: sessionStorage only; a #token= fragment is read once, then removed ====

function takeTokenFromUrl() {
  const url = new URL(location.href);
  let changed = false;
  const frag = new URLSearchParams(url.hash.replace(/^#/, ""));
  if (frag.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, frag.get("token"));
    frag.delete("token");
    url.hash = frag.toString();
    changed = true;
  }
  // A token in the query string would sit in history and server logs: never used, always dropped.
  if (url.searchParams.has("token")) {
    url.searchParams.delete("token");
    changed = true;
    setTimeout(() => toast("Ignored a token in the page address: enter it in the form instead.", "error"), 0);
  }
  if (changed) history.replaceState(history.state, "", url.pathname + url.search + (url.hash.length > 1 ? url.hash : ""));
}

const getToken = () => sessionStorage.getItem(TOKEN_KEY) || "";

// ==== app ====

const app = {
  base,
  gw: null,
  hello: null,
  deviceId: null,
  current: null,
  cleanup: null,
  badges: {},
  firstRunChecked: false,
};

function wsUrl() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${base || ""}/`;
}

function routeOf(pathname) {
  let p = pathname.startsWith(base) ? pathname.slice(base.length) : pathname;
  p = p.replace(/^\/+|\/+$/g, "");
  const id = p.split("/")[0];
  return VIEWS.find((v) => v.id === id) ? id : "chat";
}

app.navigate = (id, opts = {}) => {
  const path = `${base}/${id === "chat" ? "" : id}`;
  if (location.pathname !== path) history[opts.replace ? "replaceState" : "pushState"]({}, "", path);
  show(id, opts);
};

app.setBadge = (id, n) => {
  app.badges[id] = n;
  const el = document.querySelector(`[data-badge="${id}"]`);
  if (el) {
    el.textContent = n ? String(n) : "";
    el.hidden = !n;
  }
};

let shell, main, statusEl, navEl;

function buildShell() {
  statusEl = h("span.status", { role: "status", "aria-live": "polite" }, "Connecting…");
  navEl = h("nav.nav", { "aria-label": "Sections" },
    h("ul", NAV.map((v) => h("li", h("a.navlink", {
      href: `${base}/${v.id === "chat" ? "" : v.id}`,
      dataset: { route: v.id },
      onclick: (e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button) return;
        e.preventDefault();
        app.navigate(v.id);
        document.body.classList.remove("nav-open");
      },
    }, h("span.icon", { "aria-hidden": "true" }, v.icon), h("span.label", v.title),
    h("span.badge", { dataset: { badge: v.id }, hidden: true }))))));
  const menu = h("button.btn.icon-btn.menu", {
    type: "button", "aria-label": "Menu", "aria-expanded": "false",
    onclick: () => {
      const open = document.body.classList.toggle("nav-open");
      menu.setAttribute("aria-expanded", String(open));
    },
  }, "☰");
  main = h("main.main#main", { tabindex: "-1" });
  shell = h("div.shell",
    h("a.skip", { href: "#main" }, "Skip to content"),
    h("header.top",
      menu,
      h("a.brand", { href: `${base}/`, onclick: (e) => { e.preventDefault(); app.navigate("chat"); } },
        h("span.logo", { "aria-hidden": "true" }), "pincer"),
      statusEl),
    h("div.body", navEl, main));
  replace(document.getElementById("app"), shell);
  document.getElementById("app").removeAttribute("aria-busy");
}

function setStatus(text, kind) {
  statusEl.textContent = text;
  statusEl.className = `status ${kind || ""}`;
}

function show(id, opts = {}) {
  if (app.cleanup) {
    try {
      app.cleanup();
    } catch (e) {
      console.error(e);
    }
    app.cleanup = null;
  }
  app.current = id;
  for (const a of navEl.querySelectorAll("a.navlink")) {
    if (a.dataset.route === id) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const view = VIEWS.find((v) => v.id === id) || chat;
  document.title = `${view.title} · pincer`;
  const pane = h("section.view", { "aria-labelledby": `h-${view.id}`, class: `view-${view.id}` });
  replace(main, pane);
  if (app.gw.state !== "connected") {
    pane.append(gate());
    return;
  }
  app.cleanup = view.mount(pane, app, opts) || null;
  if (opts.focus !== false && !opts.initial) main.focus({ preventScroll: true });
}

// What stands between the user and the views: the login form, pairing, errors.
function gate() {
  const s = app.gw.state;
  const info = app.gwInfo || {};
  const err = info.error || app.gw.lastError;
  if (s === "auth") return loginForm(err);
  if (s === "pairing") {
    const d = (err && err.details) || {};
    return h("div.card.gate",
      h("h1#h-gate", "Waiting for approval"),
      h("p", "This browser is a new device for the gateway, and the gateway wants an operator to approve it first. ",
        "It will connect by itself as soon as that happens."),
      h("dl.kv",
        h("dt", "Request"), h("dd", h("code", d.requestId || "—")),
        h("dt", "Device"), h("dd", h("code", (d.deviceId || info.deviceId || "").slice(0, 16) || "—"))),
      h("p", "Approve it from a device that is already paired (Approvals), or on the gateway host:"),
      h("pre.cmd", h("code", `pincer devices approve ${d.requestId || "<requestId>"}`)),
      h("p.muted", d.remediationHint || ""),
      h("div.row", h("button.btn", { type: "button", onclick: () => app.gw.restart() }, "Check again")));
  }
  if (s === "origin") {
    return h("div.card.gate",
      h("h1#h-gate", "This page's address is not allowed"),
      h("p", `The gateway only talks to pages it serves itself, or to origins listed in gateway.controlUi.allowedOrigins. `,
        `Open the Control UI from the gateway's own address, or add ${location.origin} to that list.`));
  }
  if (s === "failed") {
    return h("div.card.gate", h("h1#h-gate", "The gateway refused the connection"),
      h("p.error", err ? err.message : "unknown error"),
      h("div.row", h("button.btn", { type: "button", onclick: () => app.gw.restart() }, "Try again")));
  }
  if (!identitySupported()) {
    return h("div.card.gate", h("h1#h-gate", "A secure page is needed"),
      h("p", "Device identity needs WebCrypto, which browsers offer only on https:// pages and on localhost. ",
        "Open the Control UI through http://127.0.0.1 or over HTTPS."));
  }
  const retry = app.gw.state === "offline" && info.retryInMs;
  return h("div.card.gate",
    h("h1#h-gate", retry ? "Gateway unreachable" : "Connecting…"),
    retry ? h("p", `Trying again in ${Math.ceil(info.retryInMs / 1000)} s.`, err ? ` (${err.message})` : "") :
      h("p.muted", "Opening the WebSocket to the gateway."),
    retry ? h("div.row", h("button.btn", { type: "button", onclick: () => app.gw.restart() }, "Retry now")) : null);
}

function loginForm(err) {
  const input = h("input#token", {
    type: "password", name: "token", autocomplete: "current-password", required: true,
    spellcheck: "false", "aria-describedby": "token-help",
  });
  const form = h("form.card.gate.login", {
    onsubmit: (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (!v) return;
      sessionStorage.setItem(TOKEN_KEY, v);
      input.value = "";
      app.gw.restart();
    },
  },
  h("h1#h-gate", "Connect to your gateway"),
  err && getToken() ? h("p.error", { role: "alert" }, "The gateway did not accept that token: ", err.message) : null,
  h("label", { for: "token" }, "Gateway token"),
  input,
  h("p#token-help.muted", "It is gateway.auth.token in the config (",
    h("code", "pincer config get gateway.auth.token"),
    "). It stays in this tab only and is never put in the address bar."),
  h("div.row", h("button.btn.primary", { type: "submit" }, "Connect")));
  setTimeout(() => input.focus(), 0);
  return form;
}

function onState({ state, info }) {
  app.gwInfo = info || {};
  if (state === "connected") {
    app.hello = info.hello;
    app.deviceId = info.deviceId;
    setStatus("Connected", "ok");
    maybeFirstRun().then(() => show(app.current || routeOf(location.pathname), { initial: true, focus: false }));
    return;
  }
  const labels = {
    connecting: ["Connecting…", "warn"], offline: ["Offline", "bad"], auth: ["Token needed", "warn"],
    pairing: ["Awaiting approval", "warn"], origin: ["Origin refused", "bad"], failed: ["Refused", "bad"],
    closed: ["Closed", "bad"],
  };
  const [t, k] = labels[state] || [state, ""];
  setStatus(t, k);
  // Keep a view that is already up while we reconnect quietly; swap in the gate otherwise.
  if (state === "connecting" && app.cleanup) return;
  if (app.cleanup) {
    app.cleanup();
    app.cleanup = null;
  }
  const pane = main.querySelector("section.view");
  if (pane) replace(pane, gate());
}

// First run: no model the gateway could use -> the setup walk-through.
// models.authStatus says whether the default model has a credential (and
// what is missing); a gateway without it only tells whether a model is set.
async function maybeFirstRun() {
  if (app.firstRunChecked) return;
  app.firstRunChecked = true;
  try {
    let usable;
    if (app.gw.has("models.authStatus")) {
      const r = await app.gw.request("models.authStatus", {});
      app.authStatus = (r && r.defaultModel) || null;
      app.defaultModel = (app.authStatus && app.authStatus.model) || null;
      usable = !!(app.authStatus && app.authStatus.usable);
    } else {
      const r = await app.gw.request("sessions.list", { limit: 1 });
      app.defaultModel = (r && r.defaults && r.defaults.model) || null;
      usable = !!app.defaultModel;
    }
    if (!usable && app.current !== "config") app.current = "setup";
  } catch {
    /* no opinion: go where the user was going */
  }
}

function start() {
  takeTokenFromUrl();
  buildShell();
  app.current = routeOf(location.pathname);
  app.gw = new Gateway({ url: wsUrl(), getToken });
  app.gw.on("state", onState);
  trackExecApprovals(app.gw);
  app.gw.on("exec.approval.requested", () => approvals.count(app));
  app.gw.on("exec.approval.resolved", () => approvals.count(app));
  app.gw.on("device.pair.requested", () => approvals.count(app));
  app.gw.on("device.pair.resolved", () => approvals.count(app));
  app.gw.on("hello", () => approvals.count(app));
  app.gw.on("shutdown", (p) => toast(`Gateway is ${p && p.restartExpectedMs ? "restarting" : "shutting down"}…`, "info"));
  window.addEventListener("popstate", () => show(routeOf(location.pathname)));
  show(app.current, { initial: true });
  app.gw.start();
  // Keyboard: g then c/o/s/a/f/k/l jumps between sections; "/" focuses the composer.
  let g = false;
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.key === "g") {
      g = true;
      setTimeout(() => (g = false), 1000);
      return;
    }
    if (g) {
      const map = { c: "chat", o: "overview", s: "sessions", a: "approvals", f: "config", k: "agents", l: "logs" };
      if (map[e.key]) app.navigate(map[e.key]);
      g = false;
      return;
    }
    if (e.key === "/" && app.current === "chat") {
      const c = document.getElementById("composer");
      if (c) {
        e.preventDefault();
        c.focus();
      }
    }
  });
}

start();
