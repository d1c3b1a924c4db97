/*
 * m_devices.c - device pairing methods: device.pair.list|approve|reject|
 * remove|rename and device.token.rotate|revoke, with OpenClaw's rules for
 * who may manage which device.
 *
 * An admin (operator.admin), or a caller without a device identity holding
 * operator.pairing (the CLI), manages every device. A caller that is itself
 * a paired device and not an admin manages only its own, and only its
 * operator role.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "gateway/devices.h"
#include "gateway/internal.h"

struct m_authz {
	const char *device_id; /* the caller's own device, or NULL */
	bool admin;
	const json_t *scopes;
};

static struct m_authz m_authz(const struct gw_call *call)
{
	struct m_authz a = { 0 };

	a.device_id = call->conn->device_id[0] ? call->conn->device_id : NULL;
	a.scopes = call->conn->scopes;
	a.admin = scopes_allow(a.scopes, SCOPE_ADMIN);
	return a;
}

/* A device-bound caller that is not an admin acting on another device. */
static bool m_cross_device(const struct m_authz *a, const char *device_id)
{
	return a->device_id && !a->admin && strcmp(a->device_id, device_id);
}

static bool m_is_connected(const char *device_id, void *ctx)
{
	const struct gateway *gw = ctx;

	for (const struct gw_conn *c = gw->conns; c; c = c->next)
		if (c->state == GWC_READY && !strcmp(c->device_id, device_id))
			return true;
	return false;
}

static void m_pair_list(struct gw_call *call)
{
	struct m_authz a = m_authz(call);

	if (gw_call_unpack(call, "{}") < 0)
		return;
	gw_call_ok(call, devices_list_json(call->gw->devices, time_now_ms(),
					   a.admin ? NULL : a.device_id, m_is_connected, call->gw));
}

/* Answer a store failure: its own message for policy/unknown, a generic one for I/O. */
static void m_store_error(struct gw_call *call, int rc, const char *err)
{
	if (rc == DEVICES_EIO) {
		log_error(GW_SUBSYS, "%s: device store: %s", call->method->name, err);
		gw_call_error(call, GW_E_UNAVAILABLE,
			      "device store unavailable (see the gateway log)", NULL);
		return;
	}
	gw_call_invalid(call, "%s", err);
}

static void m_resolved(struct gateway *gw, const char *request_id, const char *device_id,
		       const char *decision)
{
	gateway_broadcast(gw, "device.pair.resolved",
			  devices_resolved_event(request_id, device_id, decision, time_now_ms()),
			  false);
}

/* The pending request `request_id` may be settled by this caller? */
static bool m_may_settle(struct gw_call *call, const struct m_authz *a, const char *request_id,
			 bool approve)
{
	const json_t *pending;
	const char *dev, *role;

	if (!a->device_id || a->admin)
		return true;
	pending = devices_get_pending(call->gw->devices, request_id, time_now_ms());
	if (!pending)
		return false;
	dev = json_string_value(json_object_get(pending, "deviceId"));
	role = json_string_value(json_object_get(pending, "role"));
	if (!dev || strcmp(dev, a->device_id))
		return false;
	return !approve || !role || !strcmp(role, "operator");
}

static void m_pair_approve(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	struct m_authz a = m_authz(call);
	struct devices_approve_opts opts = { .caller_scopes = a.scopes };
	const char *request_id;
	json_t *device = NULL;
	char err[256];
	int rc;

	if (gw_call_unpack(call, "{s:s}", "requestId", &request_id) < 0)
		return;
	if (!m_may_settle(call, &a, request_id, true)) {
		gw_call_invalid(call, "device pairing approval denied");
		return;
	}
	rc = devices_approve(gw->devices, request_id, &opts, time_now_ms(), &device, err,
			     sizeof(err));
	if (rc != DEVICES_OK) {
		m_store_error(call, rc, err);
		return;
	}
	log_info(GW_SUBSYS, "device pairing approved device=%.12s",
		 json_string_value(json_object_get(device, "deviceId")));
	m_resolved(gw, request_id, json_string_value(json_object_get(device, "deviceId")),
		   "approved");
	gw_call_ok(call, json_pack("{s:s, s:o}", "requestId", request_id, "device",
				   devices_paired_public_json(device, -1)));
	json_decref(device);
}

static void m_pair_reject(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	struct m_authz a = m_authz(call);
	const char *request_id;
	json_t *result = NULL;
	char err[256];
	int rc;

	if (gw_call_unpack(call, "{s:s}", "requestId", &request_id) < 0)
		return;
	if (!m_may_settle(call, &a, request_id, false)) {
		gw_call_invalid(call, "device pairing rejection denied");
		return;
	}
	rc = devices_reject(gw->devices, request_id, time_now_ms(), &result, err, sizeof(err));
	if (rc != DEVICES_OK) {
		m_store_error(call, rc, err);
		return;
	}
	m_resolved(gw, request_id, json_string_value(json_object_get(result, "deviceId")),
		   "rejected");
	gw_call_ok(call, result);
}

static void m_pair_remove(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	struct m_authz a = m_authz(call);
	const char *device_id;
	char err[256], id[65];
	int rc;

	if (gw_call_unpack(call, "{s:s}", "deviceId", &device_id) < 0)
		return;
	if (m_cross_device(&a, device_id)) {
		gw_call_invalid(call, "device pairing removal denied");
		return;
	}
	snprintf(id, sizeof(id), "%s", device_id);
	rc = devices_remove(gw->devices, id, time_now_ms(), err, sizeof(err));
	if (rc != DEVICES_OK) {
		m_store_error(call, rc, err);
		return;
	}
	log_info(GW_SUBSYS, "device pairing removed device=%.12s", id);
	gw_call_ok(call, json_pack("{s:s}", "deviceId", id));
	/* After the answer: the caller may be the removed device itself. */
	gateway_close_device(gw, id, NULL, "device removed");
}

static void m_pair_rename(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	struct m_authz a = m_authz(call);
	struct devices_metadata m = { 0 };
	struct devices_paired paired;
	const char *device_id, *label;
	char err[256];
	int rc;

	if (gw_call_unpack(call, "{s:s, s:s}", "deviceId", &device_id, "label", &label) < 0)
		return;
	if (!*label || strlen(label) > 64) {
		gw_call_invalid(call, "invalid device.pair.rename params: label must be 1-64 "
				      "characters");
		return;
	}
	if (m_cross_device(&a, device_id)) {
		gw_call_invalid(call, "device pairing rename denied");
		return;
	}
	m.operator_label = label;
	rc = devices_update_metadata(gw->devices, device_id, &m, time_now_ms(), err, sizeof(err));
	if (rc != DEVICES_OK) {
		m_store_error(call, rc, err);
		return;
	}
	if (devices_get_paired(gw->devices, device_id, &paired) < 0) {
		gw_call_invalid(call, "unknown deviceId");
		return;
	}
	gw_call_ok(call, json_pack("{s:o}", "device",
				   devices_paired_public_json(
					   paired.record, m_is_connected(paired.device_id, gw))));
}

/* Rotate and revoke share their checks: cross-device and non-operator roles need admin. */
static bool m_token_allowed(const struct m_authz *a, const char *device_id, const char *role)
{
	if (m_cross_device(a, device_id))
		return false;
	return !a->device_id || a->admin || !strcmp(role, "operator");
}

static void m_token_rotate(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	struct m_authz a = m_authz(call);
	const char *device_id, *role;
	json_t *scopes = NULL, *entry = NULL, *res, *at;
	char err[256], id[65], r[32];
	bool in_band;
	int rc;

	if (gw_call_unpack(call, "{s:s, s:s, s?o}", "deviceId", &device_id, "role", &role, "scopes",
			   &scopes) < 0)
		return;
	if (!m_token_allowed(&a, device_id, role)) {
		gw_call_invalid(call, "device token rotation denied");
		return;
	}
	rc = devices_token_rotate(gw->devices, device_id, role, scopes,
				  strcmp(role, "operator") ? NULL : a.scopes, time_now_ms(), &entry,
				  err, sizeof(err));
	if (rc != DEVICES_OK) {
		if (rc == DEVICES_DENIED)
			log_warn(GW_SUBSYS, "device token rotation denied device=%.12s: %s",
				 device_id, err);
		if (rc == DEVICES_DENIED)
			gw_call_invalid(call, "device token rotation denied");
		else
			m_store_error(call, rc, err);
		return;
	}
	snprintf(id, sizeof(id), "%s", device_id);
	snprintf(r, sizeof(r), "%s", role);
	/* The new token goes only to the device rotating its own: never across devices. */
	in_band = a.device_id && !strcmp(a.device_id, id);
	at = json_object_get(entry, "rotatedAtMs");
	res = json_pack("{s:s, s:O, s:O, s:O, s:s}", "deviceId", id, "role",
			json_object_get(entry, "role"), "scopes", json_object_get(entry, "scopes"),
			"rotatedAtMs", at ? at : json_object_get(entry, "createdAtMs"),
			"tokenDelivery", in_band ? "in-band" : "withheld-cross-device");
	if (in_band)
		json_object_set(res, "token", json_object_get(entry, "token"));
	json_decref(entry);
	log_info(GW_SUBSYS, "device token rotated device=%.12s role=%s", id, r);
	gw_call_ok(call, res);
	gateway_close_device(gw, id, r, "device token rotated");
}

static void m_token_revoke(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	struct m_authz a = m_authz(call);
	const char *device_id, *role;
	json_t *entry = NULL, *res;
	char err[256], id[65], r[32];
	int rc;

	if (gw_call_unpack(call, "{s:s, s:s}", "deviceId", &device_id, "role", &role) < 0)
		return;
	if (!m_token_allowed(&a, device_id, role)) {
		gw_call_invalid(call, "device token revocation denied");
		return;
	}
	rc = devices_token_revoke(gw->devices, device_id, role,
				  strcmp(role, "operator") ? NULL : a.scopes, time_now_ms(), &entry,
				  err, sizeof(err));
	if (rc != DEVICES_OK) {
		if (rc == DEVICES_DENIED)
			gw_call_invalid(call, "device token revocation denied");
		else
			m_store_error(call, rc, err);
		return;
	}
	snprintf(id, sizeof(id), "%s", device_id);
	snprintf(r, sizeof(r), "%s", role);
	res = json_pack("{s:s, s:s, s:O}", "deviceId", id, "role", r, "revokedAtMs",
			json_object_get(entry, "revokedAtMs"));
	json_decref(entry);
	log_info(GW_SUBSYS, "device token revoked device=%.12s role=%s", id, r);
	gw_call_ok(call, res);
	gateway_close_device(gw, id, r, "device token revoked");
}

const struct gw_method gw_methods_devices[] = {
	{ "device.pair.list", SCOPE_PAIRING, m_pair_list },
	{ "device.pair.approve", SCOPE_PAIRING, m_pair_approve },
	{ "device.pair.reject", SCOPE_PAIRING, m_pair_reject },
	{ "device.pair.remove", SCOPE_PAIRING, m_pair_remove },
	{ "device.pair.rename", SCOPE_PAIRING, m_pair_rename },
	{ "device.token.rotate", SCOPE_PAIRING, m_token_rotate },
	{ "device.token.revoke", SCOPE_PAIRING, m_token_revoke },
	{ NULL },
};
