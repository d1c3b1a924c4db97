// logs.js - the gateway's log, newest last, with a level filter. New lines
// are fetched (logs.tail with its cursor) when the gateway says something
// happened - any event, the 15 s tick included - never on a timer of ours.

import { h, replace } from "../dom.js";

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];
const MAX_LINES = 2000;

export default {
  id: "logs",
  title: "Logs",
  icon: "≡",
  mount(el, app) {
    const offs = [];
    let cursor = null, busy = false, again = false, lines = [];
    const level = h("select#log-level", { "aria-label": "Minimum level" }, LEVELS.map((l) => h("option", { value: l, selected: l === "info" }, l)));
    const filter = h("input", { type: "search", placeholder: "Filter text", "aria-label": "Filter log text" });
    const follow = h("input#log-follow", { type: "checkbox", checked: true });
    const out = h("div.logs", { role: "log", "aria-label": "Gateway log", tabindex: "0" });
    replace(el, h("div.head-row", h("h1#h-logs", "Logs"),
      h("div.row", h("label", { for: "log-level" }, "Level"), level, filter, h("label.check", follow, " Follow"))), out);

    function parse(raw) {
      try {
        const j = JSON.parse(raw);
        return { time: j.time || "", level: (j.level || "info").toLowerCase(), sub: j.subsystem || "", msg: j.message || j.msg || raw };
      } catch {
        return { time: "", level: "info", sub: "", msg: raw };
      }
    }

    function paint() {
      const min = LEVELS.indexOf(level.value);
      const q = filter.value.toLowerCase();
      const shown = lines.filter((l) => LEVELS.indexOf(l.level) >= min && (!q || (l.sub + " " + l.msg).toLowerCase().includes(q)));
      replace(out, shown.length ? shown.map((l) => h(`div.line.${l.level}`,
        h("span.t", l.time.slice(11, 23)), h("span.lv", l.level), h("span.sub", l.sub), h("span.m", l.msg)))
        : h("p.muted", "No lines at this level."));
      if (follow.checked) out.scrollTop = out.scrollHeight;
    }

    async function pull() {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        const r = await app.gw.request("logs.tail", cursor == null ? { limit: 500 } : { cursor, limit: 500 });
        if (r.reset) lines = [];
        cursor = r.cursor;
        const add = (r.lines || []).map(parse);
        if (add.length || cursor == null) {
          lines = lines.concat(add).slice(-MAX_LINES);
          paint();
        }
      } catch (e) {
        replace(out, h("p.error", `Could not read the log: ${e.message}`));
      } finally {
        busy = false;
        if (again) {
          again = false;
          pull();
        }
      }
    }

    let pending = 0;
    offs.push(app.gw.on("*", (_p, _f, name) => {
      if (name === "state" || name === "hello" || name === "disconnected") return;
      if (pending) return;
      pending = setTimeout(() => { pending = 0; pull(); }, 300);
    }));
    offs.push(app.gw.on("hello", () => { cursor = null; lines = []; pull(); }));
    level.addEventListener("change", paint);
    filter.addEventListener("input", paint);
    pull();
    return () => { clearTimeout(pending); offs.forEach((f) => f()); };
  },
};
