// setup.js - the first-run walk-through: when the gateway has no model it
// can use, choose a provider, give it a key (stored in the config, where
// every view shows it masked, or read from an environment variable of the
// gateway as a SecretRef), pick a model, and go to chat. Written with
// config.patch against the revision config.get returned (baseHash).

import { h, replace, toast } from "../dom.js";

const PROVIDERS = [
  { id: "anthropic", name: "Anthropic (Claude)", env: "ANTHROPIC_API_KEY", models: ["claude-sonnet-5", "claude-opus-5", "claude-haiku-4-5"], keyHint: "sk-ant-…", url: "console.anthropic.com" },
  { id: "openai", name: "OpenAI", env: "OPENAI_API_KEY", models: ["gpt-6-astra", "gpt-5.4", "gpt-5.4-mini"], keyHint: "sk-…", url: "platform.openai.com" },
  { id: "google", name: "Google Gemini", env: "GEMINI_API_KEY", models: ["gemini-3.1-pro-preview", "gemini-2.5-flash"], keyHint: "AIza…", url: "aistudio.google.com" },
  { id: "openrouter", name: "OpenRouter", env: "OPENROUTER_API_KEY", models: ["openrouter/auto"], keyHint: "sk-or-…", url: "openrouter.ai" },
  { id: "ollama", name: "Ollama (local, no key)", env: null, models: ["llama3.3", "qwen3"], keyHint: "", url: "ollama.com" },
];

export default {
  id: "setup",
  title: "Setup",
  icon: "★",
  mount(el, app) {
    let step = 1, provider = PROVIDERS[0];
    const body = h("div");
    replace(el, h("div.setup",
      h("h1#h-setup", "Welcome to pincer"),
      h("p.lead", "Your gateway is running. To chat, it needs a model provider. This takes a minute."),
      app.defaultModel ? h("p.muted", "A model is already set up (", h("code", app.defaultModel), "); you can change it here.") : null,
      body));

    function stepper() {
      return h("ol.steps", { "aria-label": "Progress" }, ["Provider", "Key", "Model"].map((s, i) =>
        h(`li${i + 1 === step ? ".on" : i + 1 < step ? ".done" : ""}`, { "aria-current": i + 1 === step ? "step" : null }, s)));
    }

    function paint() {
      if (step === 1) {
        const radios = PROVIDERS.map((p) => h("label.choice",
          h("input", { type: "radio", name: "provider", value: p.id, checked: p === provider, onchange: () => (provider = p) }),
          h("span", h("strong", p.name), h("span.muted", p.env ? ` · key from ${p.url}` : " · runs on this machine"))));
        replace(body, stepper(), h("form.card", { onsubmit: (e) => { e.preventDefault(); step = provider.env ? 2 : 3; paint(); } },
          h("fieldset", h("legend", "Which provider do you use?"), radios),
          h("div.row.end", h("button.btn", { type: "button", onclick: () => app.navigate("chat") }, "Skip"),
            h("button.btn.primary", { type: "submit" }, "Continue"))));
        body.querySelector("input:checked").focus();
        return;
      }
      if (step === 2) {
        const key = h("input#setup-key", { type: "password", autocomplete: "off", spellcheck: "false", placeholder: provider.keyHint, "aria-describedby": "key-help" });
        const modeCfg = h("input", { type: "radio", name: "keymode", value: "config", checked: true });
        const modeEnv = h("input", { type: "radio", name: "keymode", value: "env" });
        const msg = h("p.error", { role: "alert", hidden: true });
        const sync = () => { key.disabled = modeEnv.checked; };
        modeCfg.addEventListener("change", sync);
        modeEnv.addEventListener("change", sync);
        replace(body, stepper(), h("form.card", {
          onsubmit: (e) => {
            e.preventDefault();
            if (modeCfg.checked && key.value.trim().length < 8) {
              msg.hidden = false;
              msg.textContent = "That key looks too short.";
              key.focus();
              return;
            }
            provider.secret = modeEnv.checked ? { source: "env", provider: "default", id: provider.env } : key.value.trim();
            key.value = "";
            step = 3;
            paint();
          },
        },
        h("fieldset", h("legend", `${provider.name} API key`),
          h("label.choice", modeCfg, h("span", "Store it in the gateway's config file (shown masked everywhere)")),
          h("label", { for: "setup-key", class: "sr-only" }, "API key"), key,
          h("label.choice", modeEnv, h("span", "Read it from the gateway's environment variable ", h("code", provider.env)))),
        h("p#key-help.muted", `Create a key at ${provider.url}. It goes straight to your gateway, nowhere else.`),
        msg,
        h("div.row.end", h("button.btn", { type: "button", onclick: () => { step = 1; paint(); } }, "Back"),
          h("button.btn.primary", { type: "submit" }, "Continue"))));
        key.focus();
        return;
      }
      const sel = h("select#setup-model", provider.models.map((m) => h("option", { value: m }, m)));
      const status = h("p", { role: "status" });
      const save = h("button.btn.primary", { type: "submit" }, "Save and start chatting");
      replace(body, stepper(), h("form.card", {
        onsubmit: async (e) => {
          e.preventDefault();
          save.disabled = true;
          status.textContent = "Saving…";
          try {
            const snap = await app.gw.request("config.get", {});
            const patch = { agents: { defaults: { model: { primary: `${provider.id}/${sel.value}` } } } };
            if (provider.secret) patch.models = { providers: { [provider.id]: { apiKey: provider.secret } } };
            const params = { raw: JSON.stringify(patch), note: "Control UI setup" };
            if (snap.exists) params.baseHash = snap.hash;
            await app.gw.request("config.patch", params);
            provider.secret = null;
            app.defaultModel = patch.agents.defaults.model.primary;
            toast("Saved. Say hello!", "ok");
            app.navigate("chat");
          } catch (err) {
            status.textContent = `Could not save: ${err.message}`;
            status.className = "error";
            save.disabled = false;
          }
        },
      },
      h("div.form-row", h("label", { for: "setup-model" }, "Model"), sel),
      h("p.muted", "You can switch models later in Config or per session."),
      status,
      h("div.row.end", h("button.btn", { type: "button", onclick: () => { step = provider.env ? 2 : 1; paint(); } }, "Back"), save)));
      sel.focus();
    }
    paint();
    return () => {
      provider.secret = null;
    };
  },
};
