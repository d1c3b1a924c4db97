// gateway.js - the WebSocket client of the gateway protocol (v4).
//
//   const gw = new Gateway({ url, getToken });
//   gw.on("state", (s) => ...);          // connecting | connected | pairing | auth | closed
//   gw.on("chat", (payload) => ...);     // any gateway event by name, or "*"
//   gw.start();
//   const res = await gw.request("health", {});
//
// Handshake: wait for connect.challenge {nonce, ts}, then send connect with
// the device block signed over the v3 payload, and the shared token (from
// the login form) or the device token the gateway issued earlier. The
// connection is re-made with backoff (1 s doubling to 30 s, with jitter)
// unless the gateway refused our credentials: then it waits for the user.
// A connection that hears nothing (not even a tick) for two tick intervals
// is presumed dead and replaced, as OpenClaw's client does (close 4000).

import {
  deviceIdentity, identitySupported, signaturePayload,
  loadDeviceToken, saveDeviceToken, dropDeviceToken,
} from "./identity.js";

export const CLIENT = {
  id: "openclaw-control-ui",
  mode: "ui",
  version: "pincer-ui",
  platform: "web",
  deviceFamily: "browser",
};
export const ROLE = "operator";
export const SCOPES = ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.pairing"];
const CAPS = ["tool-events", "exec-approvals", "approvals"];
const REQUEST_TIMEOUT_MS = 30000;
const HANDSHAKE_TIMEOUT_MS = 15000;

export class GatewayError extends Error {
  constructor(err) {
    super((err && err.message) || "request failed");
    this.code = err && err.code;
    this.details = err && err.details;
    this.retryAfterMs = err && err.retryAfterMs;
  }
}

export class Gateway {
  constructor({ url, getToken }) {
    this.url = url;
    this.getToken = getToken;
    this.ws = null;
    this.pending = new Map();
    this.listeners = new Map();
    this.seq = 0;
    this.attempt = 0;
    this.state = "idle";
    this.hello = null;
    this.lastError = null;
    this.stopped = true;
  }

  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => this.listeners.get(event).delete(fn);
  }

  emit(event, payload, frame) {
    for (const key of [event, "*"]) {
      for (const fn of this.listeners.get(key) || []) {
        try {
          fn(payload, frame, event);
        } catch (e) {
          console.error(e);
        }
      }
    }
  }

  setState(state, info) {
    this.state = state;
    this.emit("state", { state, info });
  }

  /** Does the gateway implement `method`? (hello-ok features.methods) */
  has(method) {
    return !!(this.hello && this.hello.features && (this.hello.features.methods || []).includes(method));
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  /** Reconnect at once (after the user entered a token, or asked to retry). */
  restart() {
    clearTimeout(this.retryTimer);
    this.stopped = false;
    this.attempt = 0;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000, "reconnect");
    }
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000, "bye");
  }

  open() {
    clearTimeout(this.retryTimer);
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.lastError = { message: String(e.message || e) };
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.connected = false;
    this.refused = false;
    this.handshakeTimer = setTimeout(() => ws.close(4000, "handshake timeout"), HANDSHAKE_TIMEOUT_MS);
    ws.onmessage = (ev) => this.onMessage(ws, ev.data);
    ws.onclose = (ev) => this.onClose(ws, ev);
    ws.onerror = () => {}; // onclose follows and says what happened
  }

  onClose(ws, ev) {
    if (ws !== this.ws) return;
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.idleTimer);
    this.ws = null;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new GatewayError({ code: "UNAVAILABLE", message: "connection closed" }));
    }
    this.pending.clear();
    const was = this.connected;
    this.connected = false;
    if (was) this.emit("disconnected", { code: ev.code, reason: ev.reason });
    if (this.stopped) {
      this.setState("closed");
      return;
    }
    if (this.refused) return; // state already says why; the user acts next
    if (!this.lastError || was) this.lastError = { message: ev.reason || `connection closed (${ev.code})` };
    this.scheduleRetry();
  }

  scheduleRetry() {
    const base = Math.min(30000, 1000 * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.setState("offline", { retryInMs: delay, error: this.lastError });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  armIdle() {
    clearTimeout(this.idleTimer);
    const tick = (this.hello && this.hello.policy && this.hello.policy.tickIntervalMs) || 15000;
    const ws = this.ws;
    this.idleTimer = setTimeout(() => ws && ws.close(4000, "tick timeout"), tick * 2 + 1000);
  }

  async onMessage(ws, data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (this.connected) this.armIdle();
    if (frame.type === "event") {
      if (frame.event === "connect.challenge") {
        this.sendConnect(ws, frame.payload || {}).catch((e) => {
          this.lastError = { message: String(e.message || e) };
          ws.close(4000, "connect failed");
        });
        return;
      }
      this.emit(frame.event, frame.payload, frame);
      return;
    }
    if (frame.type === "res") {
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      if (frame.ok) p.resolve(frame.payload);
      else p.reject(new GatewayError(frame.error));
    }
  }

  async sendConnect(ws, challenge) {
    const shared = this.getToken();
    const params = {
      minProtocol: 4,
      maxProtocol: 4,
      client: { ...CLIENT },
      role: ROLE,
      scopes: SCOPES,
      caps: CAPS,
      locale: navigator.language,
      userAgent: navigator.userAgent,
    };
    let identity = null, deviceToken = null;
    if (identitySupported()) {
      identity = await deviceIdentity();
      if (!shared) deviceToken = await loadDeviceToken(identity.id, ROLE);
    }
    if (shared) params.auth = { token: shared };
    else if (deviceToken) params.auth = { deviceToken };
    if (identity) {
      const signedAt = Number.isInteger(challenge.ts) ? challenge.ts : Date.now();
      const payload = signaturePayload({
        deviceId: identity.id, clientId: CLIENT.id, clientMode: CLIENT.mode, role: ROLE,
        scopes: SCOPES, signedAt, token: shared || deviceToken || "", nonce: challenge.nonce,
        platform: CLIENT.platform, deviceFamily: CLIENT.deviceFamily,
      });
      params.device = {
        id: identity.id, publicKey: identity.publicKey, signature: await identity.sign(payload),
        signedAt, nonce: challenge.nonce,
      };
    }
    if (ws !== this.ws) return;
    let hello;
    try {
      hello = await this.call(ws, "connect", params, HANDSHAKE_TIMEOUT_MS);
    } catch (e) {
      clearTimeout(this.handshakeTimer);
      this.onConnectError(e, identity, deviceToken);
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.hello = hello;
    this.connected = true;
    this.attempt = 0;
    this.lastError = null;
    if (identity && hello.auth && hello.auth.deviceToken)
      await saveDeviceToken(identity.id, ROLE, hello.auth.deviceToken);
    this.armIdle();
    this.setState("connected", { hello, deviceId: identity && identity.id });
    this.emit("hello", hello);
  }

  onConnectError(e, identity, usedDeviceToken) {
    const code = (e.details && e.details.code) || e.code;
    this.lastError = { message: e.message, code, details: e.details };
    if (code === "PAIRING_REQUIRED" || e.code === "NOT_PAIRED") {
      // The gateway filed a request; keep knocking, slowly, until someone approves it.
      this.setState("pairing", { error: this.lastError, deviceId: identity && identity.id });
      this.refused = true;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.open(), 3000);
      return;
    }
    if (usedDeviceToken && identity) {
      // A stale device token (revoked, rotated): forget it and ask for the gateway token.
      dropDeviceToken(identity.id, ROLE);
    }
    this.refused = true;
    if (code === "CONTROL_UI_ORIGIN_NOT_ALLOWED") this.setState("origin", { error: this.lastError });
    else if (e.code === "INVALID_REQUEST" && !/auth|token|password|unauthorized/i.test(e.message + " " + (code || "")))
      this.setState("failed", { error: this.lastError });
    else this.setState("auth", { error: this.lastError });
  }

  call(ws, method, params, timeoutMs) {
    return new Promise((resolve, reject) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new GatewayError({ code: "UNAVAILABLE", message: "not connected" }));
        return;
      }
      const id = `ui-${++this.seq}-${Math.random().toString(36).slice(2, 8)}`;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayError({ code: "TIMEOUT", message: `${method} timed out` }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const frame = { type: "req", id, method };
      if (params !== undefined) frame.params = params;
      ws.send(JSON.stringify(frame));
    });
  }

  /** One RPC; rejects with GatewayError {code, message, details}. */
  request(method, params = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (!this.connected) return Promise.reject(new GatewayError({ code: "UNAVAILABLE", message: "not connected" }));
    return this.call(this.ws, method, params, timeoutMs);
  }
}

export function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
