// devices_scenario.mjs - run a pairing scenario through OpenClaw's own
// device-pairing store and write what it answered, for the differential test
// in tests/unit/test_devices.c.
//
// The steps below go through OpenClaw's public pairing functions
// (src/infra/device-pairing.ts, device-pairing-approval.ts,
// device-pairing-tokens.ts) against a fresh state directory, with Date.now
// pinned to each step's `at`. Request ids and tokens are random on both
// sides, so results are normalised: every UUID becomes "<req:N>" and every
// token "<token:N>", numbered in order of first appearance, walking objects
// in sorted key order. Later steps name earlier ids by those placeholders.
// "auto" is what the gateway does for a direct-loopback connect
// (connect-device-pairing.ts): a silent request, approved at once as
// "silent" with the connection's metadata.
//
// Used once, with OpenClaw 2026.9.6:
//   node tests/unit/vectors/devices_scenario.mjs /path/to/openclaw/dist > tests/unit/vectors/devices_scenario.h
// The dist file names carry content hashes; another release needs them
// updated below. The unit test itself never runs Node.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dist = (process.argv[2] ?? "/work/ocref/node_modules/openclaw/dist").replace(/\/?$/, "/");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-pairing-"));
process.env.OPENCLAW_STATE_DIR = dir;
let now = 0;
Date.now = () => now;
const pairing = await import(dist + "device-pairing-DbLfxuuq.mjs");
const approval = await import(dist + "device-pairing-approval-6orhFPdN.mjs");
const tokens = await import(dist + "device-pairing-tokens-ET3TWOUZ.mjs");
const requestDevicePairing = pairing.u, listDevicePairing = pairing.i;
const rejectDevicePairing = pairing.s, removePairedDevice = pairing.c, getPairedDevice = pairing.t;
const approveDevicePairing = approval.n, formatForbidden = approval.r;
const verifyDeviceToken = tokens.i, revokeDeviceToken = tokens.n;
const rotateDeviceToken = tokens.r, ensureDeviceToken = tokens.t;

const T0 = 1767225600000;
const A = { deviceId: "dev-a", publicKey: "KEY-A", displayName: "Laptop", platform: "linux",
	clientId: "cli", clientMode: "cli", remoteIp: "192.168.1.20" };
const B = { deviceId: "dev-b", publicKey: "KEY-B", clientId: "openclaw-control-ui",
	clientMode: "webchat" };
const steps = [
	{ op: "request", at: T0, req: { ...A, role: "operator", scopes: ["operator.read"] } },
	{ op: "request", at: T0 + 1000, req: { ...A, role: "operator", scopes: ["operator.read"], remoteIp: "192.168.1.21" } },
	{ op: "request", at: T0 + 1500, req: { deviceId: "dev-a", publicKey: "KEY-A", role: "operator", scopes: [] } },
	{ op: "request", at: T0 + 2000, req: { ...A, role: "operator", scopes: ["operator.admin"] } },
	{ op: "list", at: T0 + 2000 },
	{ op: "approve", at: T0 + 2500, request: "<req:1>" },
	{ op: "approve", at: T0 + 2600, request: "<req:1>", callerScopes: ["operator.write"] },
	{ op: "approve", at: T0 + 3000, request: "<req:1>", callerScopes: ["operator.admin"] },
	{ op: "approve", at: T0 + 3001, request: "<req:1>", callerScopes: ["operator.admin"] },
	{ op: "verify", at: T0 + 4000, deviceId: "dev-a", role: "operator", token: "<token:0>", scopes: ["operator.read"] },
	{ op: "verify", at: T0 + 4001, deviceId: "dev-a", role: "operator", token: "wrong", scopes: [] },
	{ op: "verify", at: T0 + 4002, deviceId: "dev-a", role: "node", token: "<token:0>", scopes: [] },
	{ op: "verify", at: T0 + 4003, deviceId: "dev-a", role: "operator", token: "<token:0>", scopes: ["operator.talk.secrets"] },
	{ op: "verify", at: T0 + 4004, deviceId: "dev-z", role: "operator", token: "<token:0>", scopes: [] },
	{ op: "request", at: T0 + 5000, req: { ...A, role: "node", scopes: [] } },
	{ op: "request", at: T0 + 5100, req: { ...B, role: "operator", scopes: ["operator.write"], silent: true } },
	{ op: "reject", at: T0 + 5200, request: "<req:3>" },
	{ op: "reject", at: T0 + 5201, request: "<req:3>" },
	{ op: "approve", at: T0 + 6000, request: "<req:2>", callerScopes: [] },
	{ op: "rotate", at: T0 + 7000, deviceId: "dev-a", role: "operator", scopes: ["operator.read"] },
	{ op: "rotate", at: T0 + 7001, deviceId: "dev-a", role: "operator", scopes: ["operator.admin"], callerScopes: ["operator.read"] },
	{ op: "rotate", at: T0 + 7002, deviceId: "dev-a", role: "node", scopes: ["node.camera"] },
	{ op: "rotate", at: T0 + 7003, deviceId: "dev-a", role: "worker" },
	{ op: "rotate", at: T0 + 7004, deviceId: "dev-a", role: "node" },
	{ op: "revoke", at: T0 + 8000, deviceId: "dev-a", role: "operator", callerScopes: ["operator.talk"] },
	{ op: "revoke", at: T0 + 8001, deviceId: "dev-a", role: "operator", callerScopes: ["operator.admin"] },
	{ op: "verify", at: T0 + 8002, deviceId: "dev-a", role: "operator", token: "<token:3>", scopes: [] },
	{ op: "ensure", at: T0 + 9000, deviceId: "dev-a", role: "operator", scopes: ["operator.read"] },
	{ op: "ensure", at: T0 + 9001, deviceId: "dev-a", role: "operator", scopes: [] },
	{ op: "ensure", at: T0 + 9002, deviceId: "dev-a", role: "operator", scopes: ["operator.pairing"] },
	{ op: "ensure", at: T0 + 9003, deviceId: "dev-a", role: "node", scopes: [] },
	{ op: "list", at: T0 + 9100 },
	{ op: "request", at: T0 + 9200, req: { ...B, role: "operator", scopes: ["operator.read"] } },
	{ op: "list", at: T0 + 9200 + 300001 },
	{ op: "auto", at: T0 + 400000, req: { ...B, role: "operator", scopes: ["operator.read", "operator.approvals"] } },
	{ op: "auto", at: T0 + 400100, req: { ...B, role: "operator", scopes: ["operator.write"], remoteIp: "127.0.0.1" } },
	{ op: "list", at: T0 + 400200 },
	{ op: "remove", at: T0 + 500000, deviceId: "dev-a" },
	{ op: "remove", at: T0 + 500001, deviceId: "dev-a" },
	{ op: "list", at: T0 + 500002 },
];

// Placeholders: actual value <-> "<kind:N>", numbered by first appearance.
const names = new Map(), values = new Map(), counts = { req: 0, token: 0 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
function name(kind, v) {
	if (!names.has(v)) {
		const n = `<${kind}:${counts[kind]++}>`;
		names.set(v, n);
		values.set(n, v);
	}
	return names.get(v);
}
function normalise(v, key) {
	if (Array.isArray(v)) return v.map((x) => normalise(x));
	if (v && typeof v === "object") {
		const out = {};
		for (const k of Object.keys(v).toSorted()) if (v[k] !== undefined) out[k] = normalise(v[k], k);
		return out;
	}
	if (typeof v === "string" && key === "token") return name("token", v);
	if (typeof v === "string" && UUID.test(v)) return name("req", v);
	return v;
}
const real = (v) => (values.has(v) ? values.get(v) : v);

async function run(s) {
	switch (s.op) {
	case "request":
		return await requestDevicePairing(s.req);
	case "list":
		return await listDevicePairing();
	case "approve": {
		const r = await approveDevicePairing(real(s.request), s.callerScopes ? { callerScopes: s.callerScopes } : {});
		return r?.status === "forbidden" ? { status: "forbidden", message: formatForbidden(r) } : r;
	}
	case "reject":
		return await rejectDevicePairing(real(s.request));
	case "remove":
		return await removePairedDevice(s.deviceId);
	case "verify":
		return await verifyDeviceToken({ deviceId: s.deviceId, role: s.role, token: real(s.token), scopes: s.scopes });
	case "ensure":
		return await ensureDeviceToken({ deviceId: s.deviceId, role: s.role, scopes: s.scopes });
	case "rotate":
		return await rotateDeviceToken({ deviceId: s.deviceId, role: s.role, scopes: s.scopes, callerScopes: s.callerScopes });
	case "revoke":
		return await revokeDeviceToken({ deviceId: s.deviceId, role: s.role, callerScopes: s.callerScopes });
	case "auto": {
		const existing = await getPairedDevice(s.req.deviceId);
		const had = existing ? (existing.approvedScopes ?? existing.scopes ?? []) : [];
		const asked = await requestDevicePairing({ ...s.req, silent: true });
		const r = await approveDevicePairing(asked.request.requestId, {
			callerScopes: [...new Set([...(s.req.scopes ?? []), ...had.map((x) => x.trim()).filter(Boolean)])],
			approvedVia: "silent",
			accessMetadata: { displayName: s.req.displayName, remoteIp: s.req.remoteIp, lastSeenAtMs: now, lastSeenReason: "connect" },
		});
		return r?.status === "approved"
			? { requestId: r.requestId, device: r.device, ...(asked.superseded ? { superseded: asked.superseded } : {}) }
			: { status: "forbidden", message: formatForbidden(r) };
	}
	}
	throw new Error(`unknown op ${s.op}`);
}

const results = [];
for (const s of steps) {
	now = s.at;
	results.push(normalise((await run(s)) ?? null));
}
fs.rmSync(dir, { recursive: true, force: true });

const cstr = (s) => JSON.stringify(s).replace(/\?/g, "\\?");
console.log("/*\n * devices_scenario.h - generated by tests/unit/vectors/devices_scenario.mjs from");
console.log(" * OpenClaw 2026.9.6's own pairing store; do not edit.\n */");
console.log("static const char *const devices_scenario_steps[] = {");
for (const s of steps) console.log(`\t${cstr(JSON.stringify(s))},`);
console.log("\tNULL,\n};\n");
console.log("static const char *const devices_scenario_expected[] = {");
for (const r of results) console.log(`\t${cstr(JSON.stringify(r))},`);
console.log("\tNULL,\n};");
process.exit(0);
