"""The Control UI's first-run Setup when a model is configured but cannot
be used: it appears (saying which model and what is missing), takes a key,
writes it with config.patch, checks with models.authStatus that the model
is now usable, and drops the user into a chat that works. Runs in headless
Chromium (skipped when it is not installed).
"""
from agentkit import TOKEN, fake  # noqa: F401
from test_ui import artifacts, assistant_text, browser, login, needs_chromium, send  # noqa: F401

KEY = "sk-ant-setup-test-0123456789"
NO_KEYS = {k: "" for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
                           "OPENROUTER_API_KEY")}


def anthropic_at_fake(penv, fake):  # noqa: F811
    """anthropic/claude-sonnet-5 as the default model, its preset pointed at
    the fake (which speaks Anthropic Messages at /v1/messages), and no key."""
    ws = penv.home / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    penv.write_config("""{
  gateway: { auth: { token: "%s" } },
  models: { providers: { anthropic: { baseUrl: "http://127.0.0.1:%d" } } },
  agents: { defaults: { model: { primary: "anthropic/claude-sonnet-5" }, workspace: "%s" } },
}""" % (TOKEN, fake.port, ws))


def open_setup(b, url):
    login(b, url)
    b.wait("document.querySelector('#h-setup') && document.querySelector('#setup-problem')")
    problem = b.eval("document.querySelector('#setup-problem').textContent")
    assert "anthropic/claude-sonnet-5" in problem and "ANTHROPIC_API_KEY" in problem, problem
    # The model's provider is the one offered first.
    assert b.eval("document.querySelector('.setup input[name=provider]:checked').value") == "anthropic"


@needs_chromium
def test_setup_gives_the_configured_model_a_key(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    anthropic_at_fake(penv, fake)
    g = gateway(env=NO_KEYS)
    b = browser
    open_setup(b, g.url + "/")
    b.screenshot(artifacts(tmp_path) / "setup-missing-key.png")
    b.click(".setup button[type=submit]")
    b.type("#setup-key", KEY)
    b.click(".setup button[type=submit]")
    b.wait("document.querySelector('#setup-model')")
    # The configured model is kept as the choice.
    assert b.eval("document.querySelector('#setup-model').value") == "claude-sonnet-5"
    b.click(".setup button[type=submit]")
    b.wait("document.querySelector('#composer')")
    assert KEY in (penv.state / "pincer.json").read_text()
    send(b, "hi")
    b.wait("document.body.textContent.includes('Hello from the fake provider.')", timeout=20)
    assert "Hello from the fake provider." in assistant_text(b)
    reqs = [r for r in fake.requests if r["path"].startswith("/v1/messages")]
    assert reqs and reqs[-1]["headers"].get("x-api-key") == KEY
    assert KEY not in b.eval("document.documentElement.outerHTML")
    b.screenshot(artifacts(tmp_path) / "setup-then-chat.png")
    assert not b.errors, b.errors


@needs_chromium
def test_setup_says_when_the_key_still_is_not_there(gateway, penv, fake, browser, tmp_path):  # noqa: F811
    anthropic_at_fake(penv, fake)
    g = gateway(env=NO_KEYS)
    b = browser
    open_setup(b, g.url + "/")
    b.click(".setup button[type=submit]")
    b.wait("document.querySelector('#setup-key')")
    # The gateway's ANTHROPIC_API_KEY is empty: the SecretRef cannot resolve.
    b.click(".setup input[name=keymode][value=env]")
    b.click(".setup button[type=submit]")
    b.wait("document.querySelector('#setup-model')")
    b.click(".setup button[type=submit]")
    b.wait("document.querySelector('.setup p.error[role=status]')")
    msg = b.eval("document.querySelector('.setup p.error[role=status]').textContent")
    assert "still cannot be used" in msg and "ANTHROPIC_API_KEY" in msg, msg
    b.screenshot(artifacts(tmp_path) / "setup-env-missing.png")
    b.eval("[...document.querySelectorAll('.setup button')].find(e => e.textContent === 'Open chat anyway').click()")
    b.wait("document.querySelector('#composer')")
    assert not b.errors, b.errors


@needs_chromium
def test_setup_can_be_skipped(gateway, penv, fake, browser):  # noqa: F811
    anthropic_at_fake(penv, fake)
    g = gateway(env=NO_KEYS)
    b = browser
    open_setup(b, g.url + "/")
    b.eval("[...document.querySelectorAll('.setup button')].find(e => e.textContent === 'Skip').click()")
    b.wait("document.querySelector('#composer')")
    assert not b.errors, b.errors
