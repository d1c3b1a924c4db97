"""Heartbeat (SPEC §4.9): `wake` with queued system events, HEARTBEAT_OK
suppression on chat surfaces, scheduled polls and their skip reasons
(no-route, quiet-hours, empty HEARTBEAT.md), and set-heartbeats.

Every test runs the real gateway against the fake provider; a poll is seen
from the request the fake records and from `last-heartbeat`.
"""
import time

from agentkit import TOKEN, fake  # noqa: F401
from wsclient import connected

HB_PROMPT = "If nothing needs attention, reply HEARTBEAT_OK."


def write(penv, fake, heartbeat, extra=""):  # noqa: F811
    ws = penv.home / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    penv.write_config("""{
  gateway: { auth: { token: "%s" } },
  models: { providers: { fake: { baseUrl: "http://127.0.0.1:%d/v1", apiKey: "k",
    api: "openai-completions", models: [{ id: "fake-model", contextWindow: 128000 }] } } },
  agents: { defaults: { model: { primary: "fake/fake-model" }, workspace: "%s",
                        heartbeat: { %s } } },
  %s
}""" % (TOKEN, fake.port, ws, heartbeat, extra))
    return ws


def last_heartbeat(c, want=None, timeout=10):
    """last-heartbeat, waiting until its status is one of `want`."""
    end = time.monotonic() + timeout
    while True:
        hb = c.call("last-heartbeat")
        if want is None or (hb and hb.get("status") in want):
            return hb
        assert time.monotonic() < end, hb
        time.sleep(0.05)


def user_text(req):
    msgs = req["body"]["messages"]
    content = [m for m in msgs if m["role"] == "user"][-1]["content"]
    return content if isinstance(content, str) else "".join(
        p.get("text", "") for p in content)


def chat_events(c, run_id):
    return [f["payload"] for f in c.events
            if f.get("event") == "chat" and f["payload"].get("runId") == run_id]


def test_wake_now_runs_with_the_event_and_an_ack_stays_silent(penv, gateway, fake):  # noqa: F811
    write(penv, fake, 'every: "30m"')
    fake.script({"text": "HEARTBEAT_OK"})
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        assert c.call("wake", {"mode": "now", "text": "Disk at 91% on /var"})["ok"] is True
        hb = last_heartbeat(c, ("ok",))
        assert hb["reason"] == "wake" and hb["runId"]
        text = user_text(fake.requests[-1])
        assert "System: Disk at 91% on /var" in text and HB_PROMPT in text
        # the ack reaches no chat surface: no delta, a final without a message
        deadline = time.monotonic() + 5
        while not [e for e in chat_events(c, hb["runId"]) if e["state"] == "final"]:
            assert time.monotonic() < deadline, c.events
            c.events.append(c.recv(5))
        evs = chat_events(c, hb["runId"])
        assert [e["state"] for e in evs] == ["final"], evs
        assert "message" not in evs[0]
        # the event was consumed: it is not prepended again
        fake.script({"text": "hello"})
        c.call("chat.send", {"sessionKey": "main", "message": "hi", "idempotencyKey": "k1"})
        while len(fake.requests) < 2:
            time.sleep(0.05)
        assert "Disk at 91%" not in user_text(fake.requests[-1])


def test_an_alert_reaches_chat_without_the_token(penv, gateway, fake):  # noqa: F811
    write(penv, fake, 'every: "30m"')
    alert = "The backup job failed twice; check /var/log/backup.log. " * 8
    fake.script({"text": alert + "HEARTBEAT_OK"})
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        c.call("wake", {"mode": "now", "text": "backup failed"})
        hb = last_heartbeat(c, ("ok",))
        deadline = time.monotonic() + 5
        while not [e for e in chat_events(c, hb["runId"]) if e["state"] == "final"]:
            assert time.monotonic() < deadline, c.events
            c.events.append(c.recv(5))
        final = [e for e in chat_events(c, hb["runId"]) if e["state"] == "final"][0]
        shown = final["message"]["content"][0]["text"]
        assert shown == alert.strip() and "HEARTBEAT_OK" not in shown
        assert not [e for e in chat_events(c, hb["runId"]) if e["state"] == "delta"]


def test_scheduled_poll_without_a_route_is_skipped(penv, gateway, fake):  # noqa: F811
    # target defaults to "owner", and there is no owner to reach
    write(penv, fake, 'every: "1s"')
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        hb = last_heartbeat(c, ("skipped",))
        assert hb["reason"] == "interval" and hb["skipReason"] == "no-route"
        assert "ownerAllowFrom" in hb["detail"]
        assert fake.requests == []


def test_internal_target_polls_on_schedule_and_set_heartbeats_stops_it(
        penv, gateway, fake):  # noqa: F811
    ws = write(penv, fake, 'every: "1s", target: "none", prompt: "Check the plants."')
    # a task, or the seeded template (headings only) would skip every poll after the first
    (ws / "HEARTBEAT.md").write_text("# Heartbeat\n\n- Water the plants when the soil is dry\n")
    fake.script([{"text": "HEARTBEAT_OK"}] * 20)
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        hb = last_heartbeat(c, ("ok",))
        assert hb["reason"] == "interval"
        assert user_text(fake.requests[0]).endswith("Check the plants.")
        assert c.call("set-heartbeats", {"enabled": False}) == {"ok": True, "enabled": False}
        time.sleep(0.3)  # a poll already under way may still land
        n = len(fake.requests)
        time.sleep(2.5)
        assert len(fake.requests) == n
        c.call("set-heartbeats", {"enabled": True})
        end = time.monotonic() + 5
        while len(fake.requests) == n:
            assert time.monotonic() < end, c.call("last-heartbeat")
            time.sleep(0.05)


def test_quiet_hours_and_an_empty_heartbeat_file_skip(penv, gateway, fake):  # noqa: F811
    now = time.localtime()
    start = "%02d:%02d" % ((now.tm_hour + 2) % 24, now.tm_min)
    end = "%02d:%02d" % ((now.tm_hour + 3) % 24, now.tm_min)
    write(penv, fake, 'every: "1s", target: "none", activeHours: { start: "%s", end: "%s" }'
          % (start, end))
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        assert last_heartbeat(c, ("skipped",))["skipReason"] == "quiet-hours"
    g.stop()
    ws = write(penv, fake, 'every: "1s", target: "none"')
    (ws / "HEARTBEAT.md").write_text("# Heartbeat\n\n## Tasks\n\n- \n")
    g = gateway()
    with connected(g.port, token=TOKEN) as c:
        assert last_heartbeat(c, ("skipped",))["skipReason"] == "empty-heartbeat-file"
    assert fake.requests == []
