// identity.js - this browser's device identity: an Ed25519 key pair made
// with WebCrypto and kept in IndexedDB (the private key is not
// extractable: script can sign with it but never read it), and the device
// tokens the gateway issues once the device is paired.
//
// Wire format (OpenClaw's device-auth): device.id is the lowercase hex
// SHA-256 of the raw 32-byte public key, device.publicKey that raw key as
// unpadded base64url, device.signature base64url of the Ed25519 signature
// over the v3 payload
//   v3|id|client.id|client.mode|role|scopes,joined|signedAt|token|nonce|platform|family

const DB = "pincer-control-ui";
const STORE = "kv";

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function kv(mode, fn) {
  const d = await db();
  try {
    return await new Promise((resolve, reject) => {
      const tx = d.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req && req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    d.close();
  }
}

export const kvGet = (k) => kv("readonly", (s) => s.get(k));
export const kvSet = (k, v) => kv("readwrite", (s) => s.put(v, k));
export const kvDel = (k) => kv("readwrite", (s) => s.delete(k));

export function b64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Is WebCrypto Ed25519 there? (It needs a secure context: https or localhost.) */
export function identitySupported() {
  return !!(globalThis.crypto && crypto.subtle && globalThis.indexedDB && isSecureContext);
}

let cached;

/** The device identity {id, publicKey, sign(text)}, made on first use. */
export async function deviceIdentity() {
  if (cached) return cached;
  let rec = await kvGet("device");
  if (!rec || !rec.privateKey || !rec.publicKey) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    rec = { privateKey: pair.privateKey, publicKey: pair.publicKey, createdAt: Date.now() };
    await kvSet("device", rec);
  }
  const raw = await crypto.subtle.exportKey("raw", rec.publicKey);
  const id = hex(await crypto.subtle.digest("SHA-256", raw));
  cached = {
    id,
    publicKey: b64url(raw),
    async sign(text) {
      const sig = await crypto.subtle.sign({ name: "Ed25519" }, rec.privateKey, new TextEncoder().encode(text));
      return b64url(sig);
    },
  };
  return cached;
}

/** Forget the key pair and every device token (a new identity next time). */
export async function resetIdentity() {
  cached = null;
  await kvDel("device");
}

const tokenKey = (deviceId, role) => `deviceToken:${deviceId}:${role}`;
export const loadDeviceToken = (deviceId, role) => kvGet(tokenKey(deviceId, role));
export const saveDeviceToken = (deviceId, role, token) => kvSet(tokenKey(deviceId, role), token);
export const dropDeviceToken = (deviceId, role) => kvDel(tokenKey(deviceId, role));

/** The v3 payload exactly as the gateway rebuilds it (device_auth.c). */
export function signaturePayload(p) {
  const norm = (s) => String(s || "").trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
  return [
    "v3", p.deviceId, p.clientId, p.clientMode, p.role, (p.scopes || []).join(","),
    String(p.signedAt), p.token || "", p.nonce, norm(p.platform), norm(p.deviceFamily),
  ].join("|");
}
