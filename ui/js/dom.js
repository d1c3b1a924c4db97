// dom.js - building DOM without HTML strings.
//
// Everything the UI shows goes through h() and text nodes, never innerHTML:
// text from the gateway or the model can never become markup.

/**
 * h("button.primary", {onclick, type: "button", "aria-label": "Send"}, "Send")
 * Tag with optional ".class" and "#id" parts; attrs: on* become listeners,
 * `class`, `dataset`, `hidden`, `disabled`, `value` handled as properties.
 * Children: strings, numbers, nodes, arrays, null/false (skipped).
 */
export function h(spec, attrs, ...children) {
  if (attrs == null || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement((m && m[1]) || "div");
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === ".") el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") String(v).split(/\s+/).filter(Boolean).forEach((c) => el.classList.add(c));
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" || k === "checked" || k === "selected") el[k] = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false || c === true) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

/** "3 s ago", "5 min ago", "2 h ago", or a date. */
export function ago(ms) {
  if (!ms) return "—";
  const d = Date.now() - ms;
  if (d < 5000) return "just now";
  if (d < 60000) return `${Math.round(d / 1000)} s ago`;
  if (d < 3600000) return `${Math.round(d / 60000)} min ago`;
  if (d < 86400000) return `${Math.round(d / 3600000)} h ago`;
  return new Date(ms).toLocaleDateString();
}

/** Uptime as "3 d 2 h", "4 h 12 min", "2 min 5 s". */
export function duration(ms) {
  const s = Math.floor((ms || 0) / 1000), m = Math.floor(s / 60), hr = Math.floor(m / 60), d = Math.floor(hr / 24);
  if (d) return `${d} d ${hr % 24} h`;
  if (hr) return `${hr} h ${m % 60} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

export function fmtNum(n) {
  if (n == null) return "—";
  return Number(n).toLocaleString();
}

/** Show the first and last few characters of a secret only. */
export function mask(s) {
  if (!s) return "";
  s = String(s);
  if (s === "__OPENCLAW_REDACTED__") return "•••• (hidden)";
  if (s.length <= 8) return "••••••••";
  return `${s.slice(0, 3)}••••${s.slice(-2)}`;
}

let toastHost;
/** A short status line at the bottom of the screen (role=status, polite). */
export function toast(msg, kind = "info") {
  if (!toastHost) {
    toastHost = h("div.toasts", { role: "status", "aria-live": "polite" });
    document.body.append(toastHost);
  }
  const t = h(`div.toast.${kind}`, msg);
  toastHost.append(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

/** A modal confirmation using <dialog>; resolves true/false. */
export function confirmDialog(title, body, okLabel = "Confirm", danger = false) {
  return new Promise((resolve) => {
    const ok = h(`button.btn${danger ? ".danger" : ".primary"}`, { type: "button" }, okLabel);
    const cancel = h("button.btn", { type: "button" }, "Cancel");
    const dlg = h("dialog.dialog", { "aria-labelledby": "dlg-title" },
      h("h2#dlg-title", title), h("p", body), h("div.row.end", cancel, ok));
    const done = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    ok.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    dlg.addEventListener("cancel", (e) => { e.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
