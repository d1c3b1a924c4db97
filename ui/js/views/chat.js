// chat.js - WebChat: one session's conversation, streamed as `chat` events
// arrive, with tool calls as collapsible cards (`agent` tool events and the
// transcript's toolCall/toolResult blocks), stop, new session, images.

import { h, replace, toast, ago } from "../dom.js";
import { renderMarkdown } from "../markdown.js";
import { idempotencyKey } from "../gateway.js";

const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

function mainKey(app) {
  const d = app.hello && app.hello.snapshot && app.hello.snapshot.sessionDefaults;
  return (d && d.mainSessionKey) || "agent:main:main";
}

function textOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.filter((b) => b && b.type === "text").map((b) => b.text || "").join("");
}

function pretty(v) {
  if (v == null) return "";
  if (typeof v === "string") {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  return JSON.stringify(v, null, 2);
}

function resultText(r) {
  if (r == null) return "";
  if (typeof r === "string") return r;
  if (Array.isArray(r)) return r.map((b) => (b && b.type === "text" ? b.text : b && b.type === "image" ? "[image]" : pretty(b))).join("\n");
  if (r.content) return resultText(r.content);
  return pretty(r);
}

// What to tell the user when a run fails, by OpenClaw's errorKind (and the message's wording).
function errorAdvice(kind, msg) {
  const m = String(msg || "");
  if (kind === "rate_limit" || /rate.?limit|429/i.test(m))
    return "The model provider is rate-limiting requests. Wait a minute and try again, or configure a fallback model.";
  if (kind === "context_length" || /context|too long|maximum.*tokens/i.test(m))
    return "This conversation no longer fits the model's context window. Start a new session, or compact this one from Sessions.";
  if (kind === "timeout" || /timed? ?out/i.test(m)) return "The model did not answer in time. Try again; if it keeps happening, raise the timeout or pick a faster model.";
  if (/401|403|auth|api.?key|unauthori[sz]ed|credential|no model/i.test(m))
    return "The provider refused the credentials (or none are set up). Open Setup to choose a provider and enter a key.";
  if (kind === "refusal") return "The model declined to answer this request.";
  return "Check the Logs section for details, then try again.";
}

export default {
  id: "chat",
  title: "Chat",
  icon: "✎",
  mount(el, app, opts = {}) {
    let sessionKey = opts.sessionKey || app.chatSession || mainKey(app);
    app.chatSession = sessionKey;
    let activeRun = null;
    const runs = new Map(); // runId -> {bubble, body, tools, text, raf}
    const toolCards = new Map(); // toolCallId -> card
    let attachments = [];
    const offs = [];

    const select = h("select#session-pick", { "aria-label": "Session" });
    const newBtn = h("button.btn", { type: "button", title: "Start a new session" }, "New session");
    const log = h("div.messages", { role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
    const errLine = h("div.errline", { role: "alert", hidden: true });
    const phase = h("div.phase", { "aria-live": "polite" });
    const input = h("textarea#composer", {
      rows: "1", placeholder: "Message the agent…  (Enter to send, Shift+Enter for a new line)",
      "aria-label": "Message", autocomplete: "off",
    });
    const fileInput = h("input", { type: "file", accept: "image/*", multiple: true, hidden: true, "aria-label": "Attach images" });
    const attachBtn = h("button.btn.icon-btn", { type: "button", "aria-label": "Attach image", title: "Attach image" }, "+");
    const sendBtn = h("button.btn.primary#send", { type: "submit" }, "Send");
    const stopBtn = h("button.btn.danger#stop", { type: "button", hidden: true }, "Stop");
    const thumbs = h("div.thumbs");
    const form = h("form.composer", { "aria-label": "Send a message" },
      thumbs, h("div.composer-row", attachBtn, fileInput, input, stopBtn, sendBtn));

    replace(el,
      h("div.chat",
        h("div.chat-head",
          h("h1#h-chat.sr-only", "Chat"),
          h("label.sr-only", { for: "session-pick" }, "Session"),
          select, newBtn),
        log, phase, errLine, form));

    // ==== rendering ====

    const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const scroll = (force) => {
      if (force || atBottom()) requestAnimationFrame(() => (log.scrollTop = log.scrollHeight));
    };

    function toolCard(id, name, args) {
      let card = id && toolCards.get(id);
      if (card) return card;
      const status = h("span.tstatus", "running…");
      const argsPre = h("pre", h("code", pretty(args) || "{}"));
      const resPre = h("pre.result", h("code", ""));
      const resWrap = h("div.tres", { hidden: true }, h("div.tlabel", "Result"), resPre);
      card = h("details.tool",
        h("summary", h("span.ticon", { "aria-hidden": "true" }, "⚙"), h("span.tname", name || "tool"), status),
        h("div.tbody", h("div.tlabel", "Arguments"), argsPre, resWrap));
      card._status = status;
      card._args = argsPre;
      card._res = resPre;
      card._resWrap = resWrap;
      if (id) toolCards.set(id, card);
      return card;
    }

    function toolResult(card, result, isError) {
      card._resWrap.hidden = false;
      replace(card._res, h("code", resultText(result)));
      card._status.textContent = isError ? "failed" : "done";
      card.classList.toggle("err", !!isError);
    }

    function bubble(role, meta) {
      const body = h("div.content");
      const b = h(`article.msg.${role === "user" ? "user" : "assistant"}`,
        h("div.who", role === "user" ? "You" : "Agent", meta ? h("span.meta", meta) : null), body);
      log.append(b);
      return { bubble: b, body };
    }

    function renderContent(target, msg) {
      const content = msg.content;
      if (typeof content === "string") {
        target.append(renderMarkdown(content));
        return;
      }
      for (const b of content || []) {
        if (!b) continue;
        if (b.type === "text" && b.text) target.append(renderMarkdown(b.text));
        else if (b.type === "image" && (b.data || b.content) && /^image\/(png|jpe?g|gif|webp)$/.test(b.mimeType || ""))
          target.append(h("img.att", { src: `data:${b.mimeType};base64,${b.data || b.content}`, alt: "attached image" }));
        else if (b.type === "toolCall" || b.type === "tool_use")
          target.append(toolCard(b.id, b.name, b.arguments || b.input));
        else if (b.type === "thinking" && b.thinking)
          target.append(h("details.thinking", h("summary", "Thinking"), h("div", renderMarkdown(b.thinking))));
      }
    }

    function renderMessage(msg) {
      if (!msg) return;
      if (msg.role === "toolResult" || msg.role === "tool") {
        const card = toolCards.get(msg.toolCallId) || toolCard(msg.toolCallId, msg.toolName, null);
        if (!card.isConnected) bubble("assistant").body.append(card);
        toolResult(card, msg.content, msg.isError);
        return;
      }
      if (msg.role !== "user" && msg.role !== "assistant") return;
      const { body } = bubble(msg.role, msg.timestamp ? ago(msg.timestamp) : null);
      renderContent(body, msg);
      if (msg.role === "assistant" && msg.stopReason === "aborted") body.append(h("p.muted", "(stopped)"));
      if (msg.role === "assistant" && msg.stopReason === "error" && msg.errorMessage)
        body.append(h("p.error", msg.errorMessage));
    }

    function setRunning(runId) {
      activeRun = runId;
      stopBtn.hidden = !runId;
      sendBtn.hidden = !!runId;
      if (!runId) phase.textContent = "";
    }

    function showError(text, kind) {
      errLine.hidden = false;
      const advice = errorAdvice(kind, text);
      const setupLink = /Setup/.test(advice)
        ? h("button.btn.small", { type: "button", onclick: () => app.navigate("setup") }, "Open Setup") : null;
      replace(errLine, h("strong", "The run failed: "), text || "unknown error", h("br"), h("span", advice), " ", setupLink);
    }

    function run(runId) {
      let r = runs.get(runId);
      if (!r) {
        const { bubble: b, body } = bubble("assistant");
        b.classList.add("streaming");
        const tools = h("div.tools");
        const text = h("div.text");
        body.append(tools, text);
        r = { bubble: b, body, tools, textEl: text, text: "", raf: 0 };
        runs.set(runId, r);
      }
      return r;
    }

    function paint(r) {
      if (r.raf) return;
      r.raf = requestAnimationFrame(() => {
        r.raf = 0;
        replace(r.textEl, renderMarkdown(r.text));
        scroll();
      });
    }

    async function loadHistory() {
      replace(log, h("p.muted.center", "Loading…"));
      toolCards.clear();
      runs.clear();
      try {
        const r = await app.gw.request("chat.history", { sessionKey, limit: 200 });
        replace(log);
        const msgs = r.messages || [];
        if (!msgs.length) log.append(h("div.empty", h("p", "No messages yet."), h("p.muted", "Say hello — the agent answers here as it types.")));
        for (const m of msgs) renderMessage(m);
        if (r.inFlightRun && r.inFlightRun.runId) {
          const rr = run(r.inFlightRun.runId);
          rr.text = r.inFlightRun.text || "";
          paint(rr);
          setRunning(r.inFlightRun.runId);
        } else if (r.sessionInfo && r.sessionInfo.hasActiveRun && (r.sessionInfo.activeRunIds || [])[0]) {
          setRunning(r.sessionInfo.activeRunIds[0]);
        }
        scroll(true);
      } catch (e) {
        replace(log, h("p.error", `Could not load the conversation: ${e.message}`));
      }
    }

    async function loadSessions() {
      let rows = [];
      try {
        const r = await app.gw.request("sessions.list", { limit: 50 });
        rows = r.sessions || [];
      } catch {
        /* the list is a convenience */
      }
      const keys = new Set(rows.map((s) => s.key));
      keys.add(mainKey(app));
      keys.add(sessionKey);
      replace(select, [...keys].map((k) => {
        const row = rows.find((s) => s.key === k);
        const label = (row && (row.displayName || row.label)) || (k === mainKey(app) ? "Main session" : k.replace(/^agent:[^:]+:/, ""));
        return h("option", { value: k, selected: k === sessionKey }, label);
      }));
    }

    function switchTo(key) {
      sessionKey = key;
      app.chatSession = key;
      setRunning(null);
      errLine.hidden = true;
      loadHistory();
      loadSessions();
    }

    // ==== events ====

    offs.push(app.gw.on("chat", (p) => {
      if (!p || p.sessionKey !== sessionKey) return;
      if (p.state === "status") {
        phase.textContent = ({ preparing_workspace: "Preparing workspace…", preparing_context: "Reading context…", starting_model: "Thinking…" })[p.phase] || "Working…";
        if (!activeRun) setRunning(p.runId);
        return;
      }
      const r = run(p.runId);
      if (p.state === "delta") {
        phase.textContent = "";
        if (!activeRun) setRunning(p.runId);
        if (typeof p.deltaText === "string") r.text = p.replace ? p.deltaText : r.text + p.deltaText;
        else if (p.message) r.text = textOf(p.message.content);
        paint(r);
        return;
      }
      r.bubble.classList.remove("streaming");
      if (p.state === "final") {
        if (p.message) {
          if (r.raf) cancelAnimationFrame(r.raf);
          r.raf = 0;
          r.text = textOf(p.message.content) || r.text;
          replace(r.textEl, renderMarkdown(r.text));
        }
      } else if (p.state === "aborted") {
        if (r.raf) cancelAnimationFrame(r.raf);
        replace(r.textEl, renderMarkdown(r.text));
        r.textEl.append(h("p.muted", "(stopped)"));
      } else if (p.state === "error") {
        if (!r.text && !r.tools.childNodes.length) r.bubble.remove();
        showError(p.errorMessage, p.errorKind);
      }
      if (p.runId === activeRun || p.state !== "delta") setRunning(null);
      runs.delete(p.runId);
      scroll();
    }));

    offs.push(app.gw.on("agent", (p) => {
      if (!p || p.sessionKey !== sessionKey || p.stream !== "tool") return;
      const d = p.data || {};
      const r = run(p.runId);
      const card = toolCard(d.toolCallId, d.name, d.args);
      if (!card.isConnected) r.tools.append(card);
      if (d.phase === "result" || d.phase === "end") toolResult(card, d.result, d.isError);
      scroll();
    }));

    offs.push(app.gw.on("sessions.changed", () => loadSessions()));
    offs.push(app.gw.on("hello", () => switchTo(sessionKey)));

    // ==== actions ====

    async function send() {
      const text = input.value;
      if (!text.trim() && !attachments.length) return;
      if (activeRun) return;
      errLine.hidden = true;
      const key = idempotencyKey();
      const params = { sessionKey, message: text, idempotencyKey: key };
      if (attachments.length) params.attachments = attachments.map((a) => ({ type: "image", mimeType: a.mimeType, fileName: a.name, content: a.data }));
      const empty = log.querySelector(".empty");
      if (empty) empty.remove();
      const { body } = bubble("user", "now");
      body.append(renderMarkdown(text));
      for (const a of attachments) body.append(h("img.att", { src: a.url, alt: a.name }));
      input.value = "";
      attachments = [];
      replace(thumbs);
      autosize();
      setRunning(key);
      scroll(true);
      try {
        const r = await app.gw.request("chat.send", params);
        if (r && r.runId && r.runId !== key && activeRun === key) setRunning(r.runId);
      } catch (e) {
        setRunning(null);
        showError(e.message, e.code);
      }
    }

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      send();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      } else if (e.key === "Escape" && activeRun) {
        stop();
      }
    });
    const autosize = () => {
      input.style.height = "auto";
      input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
    };
    input.addEventListener("input", autosize);

    async function stop() {
      if (!activeRun) return;
      stopBtn.disabled = true;
      try {
        await app.gw.request("chat.abort", { sessionKey, runId: activeRun });
      } catch (e) {
        toast(`Could not stop the run: ${e.message}`, "error");
      } finally {
        stopBtn.disabled = false;
      }
    }
    stopBtn.addEventListener("click", stop);

    attachBtn.addEventListener("click", () => fileInput.click());
    fileInput.addEventListener("change", () => {
      for (const f of fileInput.files) {
        if (!/^image\/(png|jpeg|gif|webp)$/.test(f.type)) {
          toast(`${f.name}: only PNG, JPEG, GIF and WebP images can be attached`, "error");
          continue;
        }
        if (f.size > MAX_IMAGE_BYTES) {
          toast(`${f.name} is larger than 5 MB`, "error");
          continue;
        }
        const reader = new FileReader();
        reader.onload = () => {
          const url = String(reader.result);
          const a = { name: f.name, mimeType: f.type, url, data: url.slice(url.indexOf(",") + 1) };
          attachments.push(a);
          const rm = h("button.btn.icon-btn.small", { type: "button", "aria-label": `Remove ${f.name}` }, "×");
          const t = h("span.thumb", h("img", { src: url, alt: f.name }), rm);
          rm.addEventListener("click", () => {
            attachments = attachments.filter((x) => x !== a);
            t.remove();
          });
          thumbs.append(t);
        };
        reader.readAsDataURL(f);
      }
      fileInput.value = "";
    });

    select.addEventListener("change", () => switchTo(select.value));
    newBtn.addEventListener("click", () => {
      const agent = (sessionKey.match(/^agent:([^:]+):/) || [])[1] || "main";
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
      switchTo(`agent:${agent}:webchat-${stamp}-${Math.random().toString(36).slice(2, 6)}`);
      input.focus();
    });

    loadHistory();
    loadSessions();
    if (!opts.initial || opts.focus !== false) setTimeout(() => input.focus(), 0);
    else setTimeout(() => input.focus(), 0);
    return () => offs.forEach((off) => off());
  },
};
