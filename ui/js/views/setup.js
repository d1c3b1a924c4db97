// setup.js - the first-run walk-through: when the gateway has no model it
// can use (none set, or the one set has no credential: models.authStatus
// says which and what is missing), choose a provider, give it a key
// (stored in the config, where every view shows it masked, or read from an
// environment variable of the gateway as a SecretRef), pick a model, and go
// to chat once the gateway confirms the model is usable. Written with
// config.patch against the revision config.get returned (baseHash).

import { h, replace, toast } from "../dom.js";

const PROVIDERS = [
  { id: "anthropic", name: "Anthropic (Claude)", env: "ANTHROPIC_API_KEY", models: ["claude-sonnet-5", "claude-opus-5", "claude-haiku-4-5"], keyHint: "sk-ant-…", url: "console.anthropic.com" },
  { id: "openai", name: "OpenAI", env: "OPENAI_API_KEY", models: ["gpt-6-astra", "gpt-5.4", "gpt-5.4-mini"], keyHint: "sk-…", url: "platform.openai.com" },
  { id: "google", name: "Google Gemini", env: "GEMINI_API_KEY", models: ["gemini-3.1-pro-preview", "gemini-2.5-flash"], keyHint: "AIza…", url: "aistudio.google.com" },
  { id: "openrouter", name: "OpenRouter", env: "OPENROUTER_API_KEY", models: ["openrouter/auto"], keyHint: "sk-or-…", url: "openrouter.ai" },
  { id: "ollama", name: "Ollama (local, no key)", env: null, keyless: true, models: ["llama3.3", "qwen3"], keyHint: "", url: "ollama.com" },
];

// The default model's state from the gateway (models.authStatus defaultModel),
// or null when this gateway does not have the method.
async function authStatus(app) {
  if (!app.gw.has("models.authStatus")) return null;
  const r = await app.gw.request("models.authStatus", {});
  app.authStatus = (r && r.defaultModel) || null;
  return app.authStatus;
}

// The model id of `ref` when it belongs to `provider` ("anthropic/claude-x" -> "claude-x").
function modelOf(ref, provider) {
  return ref && ref.startsWith(`${provider}/`) ? ref.slice(provider.length + 1) : null;
}

// The choices, with the default model's provider added when it is not a common one.
function providerChoices(st) {
  const list = PROVIDERS.map((p) => ({ ...p, models: [...p.models] }));
  if (st && st.provider && !list.some((p) => p.id === st.provider)) {
    const envs = st.envVars || [];
    list.unshift({
      id: st.provider, name: st.displayName || st.provider, env: envs.length ? envs[envs.length - 1] : null,
      keyless: !!st.keyless, models: [], keyHint: "", url: null,
    });
  }
  const cur = st && st.provider && list.find((p) => p.id === st.provider);
  const id = cur && modelOf(st.model, cur.id);
  if (id && !cur.models.includes(id)) cur.models.unshift(id);
  return list;
}

function intro(st, app) {
  if (st && st.model && !st.usable) {
    return h("div.card#setup-problem", { role: "alert" },
      h("p", "Your default model ", h("code", st.model), " cannot be used yet:"),
      h("p.error", st.problem || "it has no credential."),
      h("p.muted", "Give its provider a key below, or choose another provider."));
  }
  if (st && st.model && st.usable) return h("p.muted", "A model is already set up and ready (", h("code", st.model), "); you can change it here.");
  if (st && st.problem && !st.model) return h("p.muted", "No model is set yet.");
  if (app.defaultModel) return h("p.muted", "A model is already set up (", h("code", app.defaultModel), "); you can change it here.");
  return null;
}

export default {
  id: "setup",
  title: "Setup",
  icon: "★",
  mount(el, app) {
    const st = app.authStatus || null;
    const providers = providerChoices(st);
    let step = 1, secret = null;
    let provider = (st && providers.find((p) => p.id === st.provider)) || providers[0];
    const needsKey = (p) => !p.keyless;
    const body = h("div"), top = h("div");
    replace(top, intro(st, app));
    replace(el, h("div.setup",
      h("h1#h-setup", "Welcome to pincer"),
      h("p.lead", "Your gateway is running. To chat, it needs a model provider. This takes a minute."),
      top,
      body));

    function stepper() {
      return h("ol.steps", { "aria-label": "Progress" }, ["Provider", "Key", "Model"].map((s, i) =>
        h(`li${i + 1 === step ? ".on" : i + 1 < step ? ".done" : ""}`, { "aria-current": i + 1 === step ? "step" : null }, s)));
    }

    function paint() {
      if (step === 1) {
        const radios = providers.map((p) => h("label.choice",
          h("input", { type: "radio", name: "provider", value: p.id, checked: p === provider, onchange: () => (provider = p) }),
          h("span", h("strong", p.name), h("span.muted",
            p.keyless ? " · runs on this machine" : p.url ? ` · key from ${p.url}` : " · needs an API key"))));
        replace(body, stepper(), h("form.card", { onsubmit: (e) => { e.preventDefault(); step = needsKey(provider) ? 2 : 3; paint(); } },
          h("fieldset", h("legend", "Which provider do you use?"), radios),
          h("div.row.end", h("button.btn", { type: "button", onclick: () => app.navigate("chat") }, "Skip"),
            h("button.btn.primary", { type: "submit" }, "Continue"))));
        body.querySelector("input:checked").focus();
        return;
      }
      if (step === 2) {
        const key = h("input#setup-key", { type: "password", autocomplete: "off", spellcheck: "false", placeholder: provider.keyHint, "aria-describedby": "key-help" });
        const modeCfg = h("input", { type: "radio", name: "keymode", value: "config", checked: true });
        const modeEnv = provider.env ? h("input", { type: "radio", name: "keymode", value: "env" }) : null;
        const msg = h("p.error", { role: "alert", hidden: true });
        const sync = () => { key.disabled = !!(modeEnv && modeEnv.checked); };
        modeCfg.addEventListener("change", sync);
        if (modeEnv) modeEnv.addEventListener("change", sync);
        replace(body, stepper(), h("form.card", {
          onsubmit: (e) => {
            e.preventDefault();
            if (modeCfg.checked && key.value.trim().length < 8) {
              msg.hidden = false;
              msg.textContent = "That key looks too short.";
              key.focus();
              return;
            }
            secret = modeEnv && modeEnv.checked ? { source: "env", provider: "default", id: provider.env } : key.value.trim();
            key.value = "";
            step = 3;
            paint();
          },
        },
        h("fieldset", h("legend", `${provider.name} API key`),
          h("label.choice", modeCfg, h("span", "Store it in the gateway's config file (shown masked everywhere)")),
          h("label", { for: "setup-key", class: "sr-only" }, "API key"), key,
          modeEnv ? h("label.choice", modeEnv, h("span", "Read it from the gateway's environment variable ", h("code", provider.env))) : null),
        h("p#key-help.muted", provider.url ? `Create a key at ${provider.url}. ` : "", "It goes straight to your gateway, nowhere else."),
        msg,
        h("div.row.end", h("button.btn", { type: "button", onclick: () => { step = 1; paint(); } }, "Back"),
          h("button.btn.primary", { type: "submit" }, "Continue"))));
        key.focus();
        return;
      }
      const current = st && modelOf(st.model, provider.id);
      const sel = provider.models.length
        ? h("select#setup-model", provider.models.map((m) => h("option", { value: m, selected: m === current }, m)))
        : h("input#setup-model", { type: "text", required: true, spellcheck: "false", placeholder: "model id" });
      const status = h("p", { role: "status" });
      const save = h("button.btn.primary", { type: "submit" }, "Save and start chatting");
      const anyway = h("button.btn", { type: "button", hidden: true, onclick: () => app.navigate("chat") }, "Open chat anyway");
      replace(body, stepper(), h("form.card", {
        onsubmit: async (e) => {
          e.preventDefault();
          save.disabled = true;
          status.className = "";
          status.textContent = "Saving…";
          try {
            const snap = await app.gw.request("config.get", {});
            const ref = `${provider.id}/${sel.value.trim()}`;
            const patch = { agents: { defaults: { model: { primary: ref } } } };
            if (secret) patch.models = { providers: { [provider.id]: { apiKey: secret } } };
            const params = { raw: JSON.stringify(patch), note: "Control UI setup" };
            if (snap.exists) params.baseHash = snap.hash;
            await app.gw.request("config.patch", params);
            secret = null;
            app.defaultModel = ref;
            status.textContent = "Checking the model…";
            const after = await authStatus(app);
            if (after && !after.usable) {
              replace(top, intro(after, app));
              status.textContent = `Saved, but ${ref} still cannot be used: ${after.problem || "no credential"}`;
              status.className = "error";
              anyway.hidden = false;
              save.disabled = false;
              return;
            }
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
      h("div.row.end", h("button.btn", { type: "button", onclick: () => { step = needsKey(provider) ? 2 : 1; paint(); } }, "Back"), anyway, save)));
      sel.focus();
    }
    paint();
    return () => {
      secret = null;
    };
  },
};
