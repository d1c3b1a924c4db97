/*
 * test_devices.c - the paired-device store: pairing requests, approval,
 * device tokens, persistence, damaged files, JSON views.
 *
 * Every test has its own state directory and an injected clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "gateway/devices.h"
#include "vectors/devices_scenario.h"

#define T0    1767225600000LL /* 2026-01-01T00:00:00Z */
#define DEV_A "0e426e0aee99f23a1afc50451aaa2b718e3f136ca635679f22456a225ac9ee99"
#define KEY_A "i3Q782azoo0Egkh2HN94MY_DhUWVTDJ1bVTPT4_CvKw"
#define DEV_B "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY_B "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

struct t {
	char dir[PATH_MAX];
	char err[256];
	struct devices *d;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct log_opts lo;

	if (!t || tu_mkdtemp(t->dir, sizeof(t->dir), "devices") < 0)
		return -1;
	/* The damaged-file tests warn on purpose; keep the output readable. */
	log_opts_default(&lo);
	lo.console_level = LOG_ERROR;
	log_setup(&lo);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	int r;

	devices_free(t->d);
	r = tu_rm_rf(t->dir);
	free(t);
	return r;
}

static struct devices *open_store(struct t *t)
{
	devices_free(t->d);
	t->d = devices_open(t->dir, t->err, sizeof(t->err));
	assert_non_null(t->d);
	return t->d;
}

static char *path_in(struct t *t, const char *rel)
{
	static char p[4][PATH_MAX + 64];
	static int next;
	char *s = p[next++ % 4];

	snprintf(s, sizeof(p[0]), "%s/%s", t->dir, rel);
	return s;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static json_t *load_json(const char *path)
{
	json_error_t e;
	json_t *v = json_load_file(path, 0, &e);

	assert_non_null(v);
	return v;
}

static char *read_text(const char *path)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(fs_read_file(path, &b), 0);
	return buf_detach(&b, NULL);
}

/* A request from device A for `role` with the given scopes (NULL-terminated). */
static struct devices_request req_a(const char *role, json_t *scopes)
{
	return (struct devices_request){
		.device_id = DEV_A,
		.public_key = KEY_A,
		.display_name = "Laptop",
		.platform = "linux",
		.client_id = "cli",
		.client_mode = "cli",
		.role = role,
		.scopes = scopes,
		.remote_ip = "192.168.1.20",
	};
}

/* devices_request, asserting success; returns the answer. */
static json_t *request(struct t *t, const struct devices_request *r, int64_t now)
{
	json_t *res = NULL;

	assert_int_equal(devices_request(t->d, r, now, &res, t->err, sizeof(t->err)), DEVICES_OK);
	assert_non_null(res);
	return res;
}

static const char *request_id_of(const json_t *res)
{
	return json_string_value(json_object_get(json_object_get(res, "request"), "requestId"));
}

/* Request and approve device A as an admin caller; returns the operator token (free it). */
static char *pair_a(struct t *t, json_t *scopes, int64_t now)
{
	json_t *admin = json_pack("[s]", "operator.admin"), *res, *dev = NULL;
	struct devices_request r = req_a("operator", scopes);
	struct devices_approve_opts o = { .caller_scopes = admin };
	char *token;

	res = request(t, &r, now);
	assert_int_equal(
		devices_approve(t->d, request_id_of(res), &o, now, &dev, t->err, sizeof(t->err)),
		DEVICES_OK);
	token = strdup(json_string_value(json_object_get(
		json_object_get(json_object_get(dev, "tokens"), "operator"), "token")));
	json_decref(res);
	json_decref(dev);
	json_decref(admin);
	return token;
}

static json_t *dv_json_copy(const json_t *v)
{
	json_t *c = json_deep_copy(v);

	assert_non_null(c);
	return c;
}

static bool json_list_equal(const json_t *list, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	if (json_array_size(list) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_string_value(json_array_get(list, i)), want[i]))
			return false;
	return true;
}
#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ==== opening and files ==== */

static void test_open_empty(void **state)
{
	struct t *t = *state;
	json_t *l;

	umask(0);
	open_store(t);
	umask(022);
	assert_true(fs_is_dir(path_in(t, "devices")));
	assert_int_equal(mode_of(path_in(t, "devices")), 0700);
	assert_false(fs_exists(path_in(t, "devices/pending.json")));
	l = devices_list_json(t->d, T0, NULL, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "pending")), 0);
	assert_int_equal(json_array_size(json_object_get(l, "paired")), 0);
	json_decref(l);
}

static void test_request_persists(void **state)
{
	struct t *t = *state;
	json_t *scopes = json_pack("[s]", "operator.read"), *res, *req, *file;
	struct devices_request r = req_a("operator", scopes);

	umask(0);
	open_store(t);
	res = request(t, &r, T0);
	umask(022);
	assert_string_equal(json_string_value(json_object_get(res, "status")), "pending");
	assert_true(json_is_true(json_object_get(res, "created")));
	assert_int_equal(json_integer_value(json_object_get(res, "expiresAtMs")),
			 T0 + DEVICES_PENDING_TTL_MS);
	assert_null(json_object_get(res, "superseded"));
	req = json_object_get(res, "request");
	assert_int_equal(strlen(request_id_of(res)), 36);
	assert_string_equal(json_string_value(json_object_get(req, "deviceId")), DEV_A);
	assert_string_equal(json_string_value(json_object_get(req, "publicKey")), KEY_A);
	assert_string_equal(json_string_value(json_object_get(req, "role")), "operator");
	assert_true(json_list_equal(json_object_get(req, "roles"), LIST("operator")));
	assert_true(json_list_equal(json_object_get(req, "scopes"), LIST("operator.read")));
	assert_string_equal(json_string_value(json_object_get(req, "remoteIp")), "192.168.1.20");
	assert_true(json_is_false(json_object_get(req, "silent")));
	assert_true(json_is_false(json_object_get(req, "isRepair")));
	assert_int_equal(json_integer_value(json_object_get(req, "ts")), T0);

	/* On disk before the call returned, private, keyed by request id. */
	assert_int_equal(mode_of(path_in(t, "devices/pending.json")), 0600);
	assert_int_equal(mode_of(path_in(t, "devices")), 0700);
	file = load_json(path_in(t, "devices/pending.json"));
	assert_true(json_equal(json_object_get(file, request_id_of(res)), req));
	json_decref(file);

	/* And read back by a fresh store. */
	open_store(t);
	assert_true(json_equal(devices_get_pending(t->d, request_id_of(res), T0 + 1), req));
	json_decref(res);
	json_decref(scopes);
}

static void test_round_trip_paired(void **state)
{
	struct t *t = *state;
	json_t *scopes = json_pack("[s]", "operator.write"), *before, *after, *keep;
	struct devices_paired p;
	char *token, *text;

	open_store(t);
	token = pair_a(t, scopes, T0);
	assert_int_equal(mode_of(path_in(t, "devices/paired.json")), 0600);
	before = load_json(path_in(t, "devices/paired.json"));

	/* Fields pincer does not know survive a load and a rewrite untouched. */
	keep = json_object_get(before, DEV_A);
	json_object_set_new(keep, "nodeSurface", json_pack("{s:i}", "createdAtMs", 5));
	text = json_dumps(before, JSON_INDENT(2));
	assert_int_equal(
		fs_write_atomic(path_in(t, "devices/paired.json"), text, strlen(text), 0600), 0);
	free(text);
	open_store(t);
	assert_int_equal(devices_get_paired(t->d, DEV_A, &p), 0);
	assert_string_equal(p.public_key, KEY_A);
	assert_string_equal(p.display_name, "Laptop");
	assert_string_equal(p.platform, "linux");
	assert_string_equal(p.client_id, "cli");
	assert_string_equal(p.client_mode, "cli");
	assert_string_equal(p.role, "operator");
	assert_string_equal(p.approved_via, "owner");
	assert_true(json_list_equal(p.roles, LIST("operator")));
	assert_true(json_list_equal(p.scopes, LIST("operator.write")));
	assert_int_equal(p.created_at_ms, T0);
	assert_int_equal(p.approved_at_ms, T0);
	assert_non_null(p.tokens);
	assert_int_equal(devices_update_metadata(
				 t->d, DEV_A, &(struct devices_metadata){ .remote_ip = "10.0.0.9" },
				 T0 + 5, t->err, sizeof(t->err)),
			 DEVICES_OK);
	after = load_json(path_in(t, "devices/paired.json"));
	assert_true(json_equal(json_object_get(json_object_get(after, DEV_A), "nodeSurface"),
			       json_object_get(keep, "nodeSurface")));
	json_object_set_new(keep, "remoteIp", json_string("10.0.0.9"));
	assert_true(json_equal(after, before));

	json_decref(before);
	json_decref(after);
	json_decref(scopes);
	free(token);
}

static void test_corrupt_file(void **state)
{
	struct t *t = *state;
	char *bad, *p;
	json_t *scopes = json_pack("[s]", "operator.read");

	assert_int_equal(fs_mkdir_p(path_in(t, "devices"), 0700), 0);
	p = tu_write_file(path_in(t, "devices"), "paired.json", "{\"x\": [1, 2", 0600);
	free(p);
	open_store(t);
	/* Started empty, with the damaged file kept aside byte for byte. */
	assert_int_equal(devices_get_paired(t->d, DEV_A, &(struct devices_paired){ 0 }), -1);
	bad = read_text(path_in(t, "devices/paired.json.bad"));
	assert_string_equal(bad, "{\"x\": [1, 2");
	free(bad);
	assert_int_equal(mode_of(path_in(t, "devices/paired.json.bad")), 0600);
	/* The file itself is replaced by the next change only. */
	bad = read_text(path_in(t, "devices/paired.json"));
	assert_string_equal(bad, "{\"x\": [1, 2");
	free(bad);
	free(pair_a(t, scopes, T0));
	open_store(t);
	assert_int_equal(devices_get_paired(t->d, DEV_A, &(struct devices_paired){ 0 }), 0);

	/* Valid JSON that is not an object is damage too. */
	p = tu_write_file(path_in(t, "devices"), "pending.json", "[]", 0600);
	free(p);
	open_store(t);
	bad = read_text(path_in(t, "devices/pending.json.bad"));
	assert_string_equal(bad, "[]");
	free(bad);
	json_decref(scopes);
}

static void test_invalid_records(void **state)
{
	struct t *t = *state;
	const char *text =
		"{\n"
		" \"good\": {\"deviceId\": \"good\", \"publicKey\": \"k\", "
		"\"createdAtMs\": 1, \"approvedAtMs\": 2},\n"
		" \"nokey\": {\"deviceId\": \"nokey\", \"createdAtMs\": 1, "
		"\"approvedAtMs\": 2},\n"
		" \"other\": {\"deviceId\": \"not-other\", \"publicKey\": \"k\", "
		"\"createdAtMs\": 1, \"approvedAtMs\": 2},\n"
		" \"badtokens\": {\"publicKey\": \"k\", \"createdAtMs\": 1, "
		"\"approvedAtMs\": 2, \"tokens\": {\"operator\": 5}},\n"
		" \"noid\": {\"publicKey\": \"k\", \"createdAtMs\": 1, \"approvedAtMs\": 2},\n"
		" \"scalar\": 7\n"
		"}\n";
	struct devices_paired p;
	char *bad, *f;

	assert_int_equal(fs_mkdir_p(path_in(t, "devices"), 0700), 0);
	f = tu_write_file(path_in(t, "devices"), "paired.json", text, 0600);
	free(f);
	open_store(t);
	assert_int_equal(devices_get_paired(t->d, "good", &p), 0);
	assert_int_equal(devices_get_paired(t->d, "noid", &p), 0);
	assert_string_equal(p.device_id, "noid");
	assert_int_equal(devices_get_paired(t->d, "nokey", &p), -1);
	assert_int_equal(devices_get_paired(t->d, "other", &p), -1);
	assert_int_equal(devices_get_paired(t->d, "badtokens", &p), -1);
	assert_int_equal(devices_get_paired(t->d, "scalar", &p), -1);
	bad = read_text(path_in(t, "devices/paired.json.bad"));
	assert_string_equal(bad, text);
	free(bad);
}

static void test_unreadable_file_fails(void **state)
{
	struct t *t = *state;

	/* A directory where the file should be cannot be read: refuse to start. */
	assert_int_equal(fs_mkdir_p(path_in(t, "devices/paired.json"), 0700), 0);
	assert_null(devices_open(t->dir, t->err, sizeof(t->err)));
	assert_non_null(strstr(t->err, "cannot read"));
	assert_non_null(strstr(t->err, "paired.json"));
}

/* A failed write leaves the store as it was, in memory as on disk. */
static void test_write_failure_changes_nothing(void **state)
{
	struct t *t = *state;
	json_t *scopes = json_pack("[s]", "operator.read"), *res = NULL, *l;
	struct devices_request r = req_a("operator", scopes);

	open_store(t);
	/* rename(2) cannot replace a directory with a file, even for root. */
	assert_int_equal(fs_mkdir_p(path_in(t, "devices/pending.json"), 0700), 0);
	assert_int_equal(devices_request(t->d, &r, T0, &res, t->err, sizeof(t->err)), DEVICES_EIO);
	assert_null(res);
	assert_non_null(strstr(t->err, "cannot write"));
	l = devices_list_json(t->d, T0, NULL, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "pending")), 0);
	json_decref(l);
	json_decref(scopes);
}

/* ==== pending requests ==== */

static void test_request_refresh(void **state)
{
	struct t *t = *state;
	json_t *admin = json_pack("[s]", "operator.admin"),
	       *read = json_pack("[s]", "operator.read");
	struct devices_request r = req_a("operator", admin);
	json_t *a, *b, *c, *file;

	open_store(t);
	a = request(t, &r, T0);
	/* The same request again refreshes it: same id and ts, later expiry. */
	r.remote_ip = "192.168.1.21";
	b = request(t, &r, T0 + 60000);
	assert_true(json_is_false(json_object_get(b, "created")));
	assert_string_equal(request_id_of(a), request_id_of(b));
	assert_int_equal(json_integer_value(json_object_get(b, "expiresAtMs")),
			 T0 + 60000 + DEVICES_PENDING_TTL_MS);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "request"), "ts")),
			 T0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(b, "request"), "remoteIp")),
		"192.168.1.21");
	assert_null(json_object_get(json_object_get(b, "request"), "refreshedAtMs"));
	file = load_json(path_in(t, "devices/pending.json"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(file, request_id_of(a)),
							    "refreshedAtMs")),
			 T0 + 60000);
	json_decref(file);

	/* Asking for less than is pending (admin implies read) refreshes too. */
	r.scopes = read;
	c = request(t, &r, T0 + 61000);
	assert_true(json_is_false(json_object_get(c, "created")));
	assert_string_equal(request_id_of(a), request_id_of(c));
	assert_true(json_list_equal(json_object_get(json_object_get(c, "request"), "scopes"),
				    LIST("operator.admin")));

	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(admin);
	json_decref(read);
}

static void test_request_supersede(void **state)
{
	struct t *t = *state;
	json_t *read = json_pack("[s]", "operator.read"),
	       *write = json_pack("[s]", "operator.write");
	struct devices_request r = req_a("operator", read);
	json_t *a, *b, *sup, *l;

	open_store(t);
	a = request(t, &r, T0);
	/* Asking for more replaces the pending request with one that asks for both. */
	r.scopes = write;
	b = request(t, &r, T0 + 1000);
	assert_true(json_is_true(json_object_get(b, "created")));
	assert_string_not_equal(request_id_of(a), request_id_of(b));
	assert_true(json_list_equal(json_object_get(json_object_get(b, "request"), "scopes"),
				    LIST("operator.read", "operator.write")));
	sup = json_object_get(b, "superseded");
	assert_int_equal(json_array_size(sup), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sup, 0), "requestId")),
			    request_id_of(a));
	assert_string_equal(json_string_value(json_object_get(json_array_get(sup, 0), "deviceId")),
			    DEV_A);
	assert_null(devices_get_pending(t->d, request_id_of(a), T0 + 1000));
	l = devices_list_json(t->d, T0 + 1000, NULL, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "pending")), 1);
	json_decref(l);

	/* A different role also merges: roles accumulate. */
	{
		struct devices_request n = req_a("node", NULL);
		json_t *c = request(t, &n, T0 + 2000);

		assert_true(json_list_equal(json_object_get(json_object_get(c, "request"), "roles"),
					    LIST("operator", "node")));
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(c, "request"), "role")),
			"node");
		json_decref(c);
	}
	json_decref(a);
	json_decref(b);
	json_decref(read);
	json_decref(write);
}

static void test_request_needs_identity(void **state)
{
	struct t *t = *state;
	struct devices_request r = req_a("operator", NULL);
	json_t *res = NULL;

	open_store(t);
	r.device_id = "  ";
	assert_int_equal(devices_request(t->d, &r, T0, &res, t->err, sizeof(t->err)),
			 DEVICES_DENIED);
	assert_string_equal(t->err, "deviceId required");
	r.device_id = DEV_A;
	r.public_key = NULL;
	assert_int_equal(devices_request(t->d, &r, T0, &res, t->err, sizeof(t->err)),
			 DEVICES_DENIED);
	assert_null(res);
}

static void test_pending_expiry(void **state)
{
	struct t *t = *state;
	json_t *res, *l, *file, *admin = json_pack("[s]", "operator.admin");
	struct devices_request r = req_a("operator", NULL);
	struct devices_approve_opts o = { .caller_scopes = admin };
	char id[DEVICES_REQUEST_ID_SIZE];

	open_store(t);
	res = request(t, &r, T0);
	snprintf(id, sizeof(id), "%s", request_id_of(res));
	json_decref(res);

	/* Alive up to and including the TTL... */
	assert_non_null(devices_get_pending(t->d, id, T0 + DEVICES_PENDING_TTL_MS));
	l = devices_list_json(t->d, T0 + DEVICES_PENDING_TTL_MS, NULL, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "pending")), 1);
	json_decref(l);
	/* ...gone one millisecond later, for reads and for approval. */
	assert_null(devices_get_pending(t->d, id, T0 + DEVICES_PENDING_TTL_MS + 1));
	l = devices_list_json(t->d, T0 + DEVICES_PENDING_TTL_MS + 1, NULL, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "pending")), 0);
	json_decref(l);
	assert_int_equal(devices_approve(t->d, id, &o, T0 + DEVICES_PENDING_TTL_MS + 1, NULL,
					 t->err, sizeof(t->err)),
			 DEVICES_NOT_FOUND);
	assert_string_equal(t->err, "unknown requestId");

	/* The next change prunes it from disk; a new request gets a new id. */
	res = request(t, &r, T0 + DEVICES_PENDING_TTL_MS + 2);
	assert_true(json_is_true(json_object_get(res, "created")));
	assert_string_not_equal(request_id_of(res), id);
	file = load_json(path_in(t, "devices/pending.json"));
	assert_null(json_object_get(file, id));
	assert_int_equal(json_object_size(file), 1);
	json_decref(file);
	json_decref(res);
	json_decref(admin);
}

/* ==== approval ==== */

static void test_approve(void **state)
{
	struct t *t = *state;
	json_t *scopes = json_pack("[ss]", "operator.write", "operator.approvals");
	json_t *admin = json_pack("[s]", "operator.admin"), *res, *dev = NULL, *tok, *file;
	struct devices_request r = req_a("operator", scopes);
	struct devices_approve_opts o = { 0 };

	open_store(t);
	res = request(t, &r, T0);

	/* Granting operator scopes takes a caller who holds them. */
	assert_int_equal(devices_approve(t->d, request_id_of(res), &o, T0 + 10, &dev, t->err,
					 sizeof(t->err)),
			 DEVICES_DENIED);
	assert_string_equal(t->err, "missing scope: operator.approvals");
	o.caller_scopes = scopes;
	{
		json_t *weak = json_pack("[s]", "operator.write");

		o.caller_scopes = weak;
		assert_int_equal(devices_approve(t->d, request_id_of(res), &o, T0 + 10, &dev,
						 t->err, sizeof(t->err)),
				 DEVICES_DENIED);
		assert_string_equal(t->err, "missing scope: operator.approvals");
		json_decref(weak);
	}
	assert_non_null(devices_get_pending(t->d, request_id_of(res), T0 + 10));

	o.caller_scopes = admin;
	assert_int_equal(devices_approve(t->d, request_id_of(res), &o, T0 + 10, &dev, t->err,
					 sizeof(t->err)),
			 DEVICES_OK);
	assert_string_equal(json_string_value(json_object_get(dev, "deviceId")), DEV_A);
	assert_string_equal(json_string_value(json_object_get(dev, "approvedVia")), "owner");
	assert_true(json_list_equal(json_object_get(dev, "scopes"),
				    LIST("operator.write", "operator.approvals")));
	assert_true(
		json_equal(json_object_get(dev, "scopes"), json_object_get(dev, "approvedScopes")));
	tok = json_object_get(json_object_get(dev, "tokens"), "operator");
	assert_int_equal(strlen(json_string_value(json_object_get(tok, "token"))), 43);
	/* The token's scopes are normalised: write implies read, sorted. */
	assert_true(json_list_equal(json_object_get(tok, "scopes"),
				    LIST("operator.approvals", "operator.read", "operator.write")));
	assert_int_equal(json_integer_value(json_object_get(tok, "createdAtMs")), T0 + 10);
	assert_null(json_object_get(tok, "rotatedAtMs"));
	assert_null(devices_get_pending(t->d, request_id_of(res), T0 + 10));

	/* Both files say so. */
	file = load_json(path_in(t, "devices/paired.json"));
	assert_true(json_equal(json_object_get(file, DEV_A), dev));
	json_decref(file);
	file = load_json(path_in(t, "devices/pending.json"));
	assert_int_equal(json_object_size(file), 0);
	json_decref(file);

	assert_int_equal(devices_approve(t->d, request_id_of(res), &o, T0 + 11, NULL, t->err,
					 sizeof(t->err)),
			 DEVICES_NOT_FOUND);
	assert_string_equal(t->err, "unknown requestId");
	json_decref(res);
	json_decref(dev);
	json_decref(admin);
	json_decref(scopes);
}

static void test_approve_scope_outside_role(void **state)
{
	struct t *t = *state;
	json_t *scopes = json_pack("[s]", "operator.read"), *res;
	struct devices_request r = req_a("node", scopes);
	struct devices_approve_opts o = { .caller_scopes = scopes };

	open_store(t);
	res = request(t, &r, T0);
	assert_int_equal(
		devices_approve(t->d, request_id_of(res), &o, T0, NULL, t->err, sizeof(t->err)),
		DEVICES_DENIED);
	assert_string_equal(t->err, "invalid scope for requested roles: operator.read");
	json_decref(res);
	json_decref(scopes);
}

/* A node needs no operator caller scopes, and its token has no operator scopes. */
static void test_approve_node(void **state)
{
	struct t *t = *state;
	struct devices_request r = req_a("node", NULL);
	json_t *res, *dev = NULL;

	open_store(t);
	res = request(t, &r, T0);
	assert_int_equal(
		devices_approve(t->d, request_id_of(res), NULL, T0, &dev, t->err, sizeof(t->err)),
		DEVICES_OK);
	assert_int_equal(
		json_array_size(json_object_get(
			json_object_get(json_object_get(dev, "tokens"), "node"), "scopes")),
		0);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "node", NULL), DEVICES_ACCESS_OK);
	json_decref(res);
	json_decref(dev);
}

static void test_reject(void **state)
{
	struct t *t = *state;
	struct devices_request r = req_a("operator", NULL);
	json_t *res, *out = NULL;

	open_store(t);
	res = request(t, &r, T0);
	assert_int_equal(
		devices_reject(t->d, request_id_of(res), T0 + 1, &out, t->err, sizeof(t->err)),
		DEVICES_OK);
	assert_string_equal(json_string_value(json_object_get(out, "requestId")),
			    request_id_of(res));
	assert_string_equal(json_string_value(json_object_get(out, "deviceId")), DEV_A);
	assert_null(devices_get_pending(t->d, request_id_of(res), T0 + 1));
	assert_int_equal(
		devices_reject(t->d, request_id_of(res), T0 + 1, NULL, t->err, sizeof(t->err)),
		DEVICES_NOT_FOUND);
	assert_string_equal(t->err, "unknown requestId");
	open_store(t);
	assert_null(devices_get_pending(t->d, request_id_of(res), T0 + 1));
	json_decref(res);
	json_decref(out);
}

static void test_remove(void **state)
{
	struct t *t = *state;
	json_t *scopes = json_pack("[s]", "operator.read"), *res, *file;
	struct devices_request up;
	char *token;

	open_store(t);
	token = pair_a(t, scopes, T0);
	up = req_a("node", NULL);
	res = request(t, &up, T0 + 5);
	assert_int_equal(devices_remove(t->d, " " DEV_A " ", T0 + 6, t->err, sizeof(t->err)),
			 DEVICES_OK);
	assert_int_equal(devices_get_paired(t->d, DEV_A, &(struct devices_paired){ 0 }), -1);
	/* Its pending requests and tokens go with it. */
	assert_null(devices_get_pending(t->d, request_id_of(res), T0 + 6));
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", token, NULL, T0 + 6, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_DEVICE_NOT_PAIRED);
	assert_int_equal(devices_remove(t->d, DEV_A, T0 + 7, t->err, sizeof(t->err)),
			 DEVICES_NOT_FOUND);
	assert_string_equal(t->err, "unknown deviceId");
	file = load_json(path_in(t, "devices/paired.json"));
	assert_int_equal(json_object_size(file), 0);
	json_decref(file);
	json_decref(res);
	json_decref(scopes);
	free(token);
}

/* ==== access and upgrades ==== */

static void test_check_access(void **state)
{
	struct t *t = *state;
	json_t *read = json_pack("[s]", "operator.read"),
	       *admin = json_pack("[s]", "operator.admin");
	json_t *talk = json_pack("[s]", "operator.talk");
	char *token;

	open_store(t);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", read),
			 DEVICES_ACCESS_NOT_PAIRED);
	token = pair_a(t, read, T0);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", read),
			 DEVICES_ACCESS_OK);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", NULL),
			 DEVICES_ACCESS_OK);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", admin),
			 DEVICES_ACCESS_SCOPE_UPGRADE);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", talk),
			 DEVICES_ACCESS_SCOPE_UPGRADE);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "node", NULL),
			 DEVICES_ACCESS_ROLE_UPGRADE);
	/* Another key under the same id is another device. */
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_B, "operator", read),
			 DEVICES_ACCESS_NOT_PAIRED);
	/* A revoked token takes the role away until it is approved again. */
	assert_int_equal(devices_token_revoke(t->d, DEV_A, "operator", NULL, T0 + 1, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_OK);
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", read),
			 DEVICES_ACCESS_ROLE_UPGRADE);
	assert_string_equal(devices_access_reason(DEVICES_ACCESS_NOT_PAIRED), "not-paired");
	assert_string_equal(devices_access_reason(DEVICES_ACCESS_ROLE_UPGRADE), "role-upgrade");
	assert_string_equal(devices_access_reason(DEVICES_ACCESS_SCOPE_UPGRADE), "scope-upgrade");
	assert_null(devices_access_reason(DEVICES_ACCESS_OK));
	json_decref(read);
	json_decref(admin);
	json_decref(talk);
	free(token);
}

static void test_scope_upgrade(void **state)
{
	struct t *t = *state;
	json_t *read = json_pack("[s]", "operator.read"),
	       *admin = json_pack("[s]", "operator.admin");
	struct devices_request r = req_a("operator", admin);
	struct devices_approve_opts o = { .caller_scopes = admin };
	json_t *res, *dev = NULL, *tok;
	char *old;

	open_store(t);
	old = pair_a(t, read, T0);
	/* A paired device asking for more gets a new pending request, marked as a repair. */
	res = request(t, &r, T0 + 1000);
	assert_true(json_is_true(json_object_get(res, "created")));
	assert_true(json_is_true(json_object_get(json_object_get(res, "request"), "isRepair")));
	/* Until it is approved, the device keeps what it had. */
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", read),
			 DEVICES_ACCESS_OK);
	assert_int_equal(devices_approve(t->d, request_id_of(res), &o, T0 + 2000, &dev, t->err,
					 sizeof(t->err)),
			 DEVICES_OK);
	assert_true(json_list_equal(json_object_get(dev, "approvedScopes"),
				    LIST("operator.read", "operator.admin")));
	assert_int_equal(json_integer_value(json_object_get(dev, "createdAtMs")), T0);
	assert_int_equal(json_integer_value(json_object_get(dev, "approvedAtMs")), T0 + 2000);
	tok = json_object_get(json_object_get(dev, "tokens"), "operator");
	/* A new token string, the old one's birth date, now rotated. */
	assert_string_not_equal(json_string_value(json_object_get(tok, "token")), old);
	assert_int_equal(json_integer_value(json_object_get(tok, "createdAtMs")), T0);
	assert_int_equal(json_integer_value(json_object_get(tok, "rotatedAtMs")), T0 + 2000);
	assert_true(json_list_equal(json_object_get(tok, "scopes"),
				    LIST("operator.admin", "operator.read", "operator.write")));
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", admin),
			 DEVICES_ACCESS_OK);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", old, NULL, T0 + 2001, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_MISMATCH);
	json_decref(res);
	json_decref(dev);
	json_decref(read);
	json_decref(admin);
	free(old);
}

static void test_auto_approve(void **state)
{
	struct t *t = *state;
	json_t *admin = json_pack("[s]", "operator.admin"), *res = NULL, *dev, *l;
	struct devices_request r = req_a("operator", admin);

	open_store(t);
	assert_int_equal(devices_auto_approve(t->d, &r, T0, &res, t->err, sizeof(t->err)),
			 DEVICES_OK);
	assert_int_equal(strlen(json_string_value(json_object_get(res, "requestId"))), 36);
	dev = json_object_get(res, "device");
	assert_string_equal(json_string_value(json_object_get(dev, "approvedVia")), "silent");
	assert_string_equal(json_string_value(json_object_get(dev, "lastSeenReason")), "connect");
	assert_int_equal(json_integer_value(json_object_get(dev, "lastSeenAtMs")), T0);
	assert_string_equal(json_string_value(json_object_get(dev, "remoteIp")), "192.168.1.20");
	assert_int_equal(devices_check_access(t->d, DEV_A, KEY_A, "operator", admin),
			 DEVICES_ACCESS_OK);
	/* Same result as request + approve: nothing left pending. */
	l = devices_list_json(t->d, T0, NULL, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "pending")), 0);
	assert_int_equal(json_array_size(json_object_get(l, "paired")), 1);
	json_decref(l);
	json_decref(res);

	/* A second role, approved the same way, joins the first. */
	{
		struct devices_request n = req_a("node", NULL);

		res = NULL;
		assert_int_equal(
			devices_auto_approve(t->d, &n, T0 + 5, &res, t->err, sizeof(t->err)),
			DEVICES_OK);
		assert_true(
			json_list_equal(json_object_get(json_object_get(res, "device"), "roles"),
					LIST("operator", "node")));
		json_decref(res);
	}
	json_decref(admin);
}

/* Auto-approval cannot grant what policy forbids; the request is left for a human. */
static void test_auto_approve_denied(void **state)
{
	struct t *t = *state;
	json_t *scopes = json_pack("[s]", "operator.read"), *res = NULL;
	struct devices_request r = req_a("node", scopes);

	open_store(t);
	assert_int_equal(devices_auto_approve(t->d, &r, T0, &res, t->err, sizeof(t->err)),
			 DEVICES_DENIED);
	assert_string_equal(json_string_value(json_object_get(res, "status")), "pending");
	assert_non_null(devices_get_pending(t->d, request_id_of(res), T0));
	assert_true(json_is_true(json_object_get(json_object_get(res, "request"), "silent")));
	json_decref(res);
	json_decref(scopes);
}

/* ==== device tokens ==== */

static void test_token_verify(void **state)
{
	struct t *t = *state;
	json_t *write = json_pack("[s]", "operator.write"),
	       *read = json_pack("[s]", "operator.read");
	json_t *admin = json_pack("[s]", "operator.admin"), *got = NULL, *file, *dev;
	char *token;

	open_store(t);
	token = pair_a(t, write, T0);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", token, read, T0 + 100, &got,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_OK);
	assert_true(json_list_equal(got, LIST("operator.read", "operator.write")));
	json_decref(got);
	/* Its use is recorded, on disk. */
	file = load_json(path_in(t, "devices/paired.json"));
	dev = json_object_get(file, DEV_A);
	assert_int_equal(json_integer_value(json_object_get(dev, "lastSeenAtMs")), T0 + 100);
	assert_string_equal(json_string_value(json_object_get(dev, "lastSeenReason")),
			    "device-token-auth");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(dev, "tokens"), "operator"),
				 "lastUsedAtMs")),
			 T0 + 100);
	json_decref(file);

	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", "nope", NULL, T0, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_MISMATCH);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", "   ", NULL, T0, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_MISMATCH);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", NULL, NULL, T0, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_TOKEN_MISMATCH);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "node", token, NULL, T0, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_TOKEN_MISSING);
	assert_int_equal(devices_token_verify(t->d, DEV_A, " ", token, NULL, T0, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_TOKEN_ROLE_MISSING);
	assert_int_equal(devices_token_verify(t->d, DEV_B, "operator", token, NULL, T0, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_DEVICE_NOT_PAIRED);
	/* More than the token carries. */
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", token, admin, T0, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_SCOPE_MISMATCH);
	assert_string_equal(devices_token_check_reason(DEVICES_TOKEN_SCOPE_MISMATCH),
			    "scope-mismatch");
	assert_string_equal(devices_token_check_reason(DEVICES_TOKEN_REVOKED), "token-revoked");
	assert_string_equal(devices_token_check_reason(DEVICES_TOKEN_DEVICE_NOT_PAIRED),
			    "device-not-paired");

	/* Revoked: refused from now on. */
	assert_int_equal(devices_token_revoke(t->d, DEV_A, "operator", NULL, T0 + 200, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_OK);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", token, NULL, T0 + 201, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_REVOKED);
	json_decref(write);
	json_decref(read);
	json_decref(admin);
	free(token);
}

/* Tokens OpenClaw bound to its shared-auth generation cannot be honoured. */
static void test_token_issuer_stale(void **state)
{
	struct t *t = *state;
	json_t *read = json_pack("[s]", "operator.read"), *file, *tok;
	char *token, *text;

	open_store(t);
	token = pair_a(t, read, T0);
	file = load_json(path_in(t, "devices/paired.json"));
	tok = json_object_get(json_object_get(json_object_get(file, DEV_A), "tokens"), "operator");
	json_object_set_new(
		tok, "issuer",
		json_pack("{s:s, s:s}", "kind", "shared-gateway-auth", "generation", "g1"));
	text = json_dumps(file, 0);
	assert_int_equal(
		fs_write_atomic(path_in(t, "devices/paired.json"), text, strlen(text), 0600), 0);
	open_store(t);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", token, NULL, T0, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_ISSUER_STALE);
	free(text);
	free(token);
	json_decref(file);
	json_decref(read);
}

static void test_token_rotate(void **state)
{
	struct t *t = *state;
	json_t *write = json_pack("[s]", "operator.write"),
	       *read = json_pack("[s]", "operator.read");
	json_t *admin = json_pack("[s]", "operator.admin"), *entry = NULL;
	char *token, *fresh;

	open_store(t);
	token = pair_a(t, write, T0);
	assert_int_equal(devices_token_rotate(t->d, DEV_A, "operator", read, NULL, T0 + 50, &entry,
					      t->err, sizeof(t->err)),
			 DEVICES_OK);
	fresh = strdup(json_string_value(json_object_get(entry, "token")));
	assert_string_not_equal(fresh, token);
	assert_int_equal(strlen(fresh), 43);
	assert_true(json_list_equal(json_object_get(entry, "scopes"), LIST("operator.read")));
	assert_int_equal(json_integer_value(json_object_get(entry, "createdAtMs")), T0);
	assert_int_equal(json_integer_value(json_object_get(entry, "rotatedAtMs")), T0 + 50);
	json_decref(entry);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", token, NULL, T0 + 51, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_MISMATCH);
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", fresh, read, T0 + 51, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_OK);

	/* Not past what the device was approved for... */
	entry = NULL;
	assert_int_equal(devices_token_rotate(t->d, DEV_A, "operator", admin, NULL, T0 + 60, &entry,
					      t->err, sizeof(t->err)),
			 DEVICES_DENIED);
	assert_string_equal(t->err, "scope-outside-approved-baseline");
	assert_null(entry);
	/* ...nor past what the caller holds. */
	assert_int_equal(devices_token_rotate(t->d, DEV_A, "operator", write, read, T0 + 60, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_DENIED);
	assert_string_equal(t->err, "caller-missing-scope scope=operator.write");
	assert_int_equal(devices_token_rotate(t->d, DEV_A, "node", NULL, NULL, T0 + 60, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_NOT_FOUND);
	assert_string_equal(t->err, "unknown-device-or-role");
	/* Without scopes, the token keeps its own. */
	assert_int_equal(devices_token_rotate(t->d, DEV_A, "operator", NULL, admin, T0 + 70, &entry,
					      t->err, sizeof(t->err)),
			 DEVICES_OK);
	assert_true(json_list_equal(json_object_get(entry, "scopes"), LIST("operator.read")));
	json_decref(entry);
	/* The failed attempts left the fresh token alone; the last rotation replaced it. */
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator", fresh, NULL, T0 + 71, NULL,
					      t->err, sizeof(t->err)),
			 DEVICES_TOKEN_MISMATCH);
	json_decref(write);
	json_decref(read);
	json_decref(admin);
	free(token);
	free(fresh);
}

static void test_token_revoke(void **state)
{
	struct t *t = *state;
	json_t *write = json_pack("[s]", "operator.write"),
	       *read = json_pack("[s]", "operator.read");
	json_t *entry = NULL, *file;
	char *token;

	open_store(t);
	token = pair_a(t, write, T0);
	/* The caller must hold what the token grants. */
	assert_int_equal(devices_token_revoke(t->d, DEV_A, "operator", read, T0 + 1, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_DENIED);
	assert_string_equal(t->err, "caller-missing-scope scope=operator.write");
	assert_int_equal(devices_token_revoke(t->d, DEV_A, "operator", write, T0 + 2, &entry,
					      t->err, sizeof(t->err)),
			 DEVICES_OK);
	assert_int_equal(json_integer_value(json_object_get(entry, "revokedAtMs")), T0 + 2);
	json_decref(entry);
	file = load_json(path_in(t, "devices/paired.json"));
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(json_object_get(file, DEV_A), "tokens"),
					"operator"),
			"revokedAtMs")),
		T0 + 2);
	json_decref(file);
	assert_int_equal(devices_token_revoke(t->d, DEV_A, "node", NULL, T0 + 3, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_NOT_FOUND);
	assert_int_equal(devices_token_revoke(t->d, DEV_B, "operator", NULL, T0 + 3, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_NOT_FOUND);
	json_decref(write);
	json_decref(read);
	free(token);
}

static void test_token_ensure(void **state)
{
	struct t *t = *state;
	json_t *write = json_pack("[s]", "operator.write"),
	       *read = json_pack("[s]", "operator.read");
	json_t *admin = json_pack("[s]", "operator.admin"), *entry = NULL;
	char *token;

	open_store(t);
	token = pair_a(t, write, T0);
	/* The current token covers it: handed back as is. */
	assert_int_equal(devices_token_ensure(t->d, DEV_A, "operator", read, T0 + 1, &entry, t->err,
					      sizeof(t->err)),
			 DEVICES_OK);
	assert_string_equal(json_string_value(json_object_get(entry, "token")), token);
	json_decref(entry);
	assert_int_equal(devices_token_ensure(t->d, DEV_A, "operator", admin, T0 + 1, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_DENIED);
	assert_int_equal(devices_token_ensure(t->d, DEV_A, "node", NULL, T0 + 1, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_NOT_FOUND);
	/* After revocation, a new one, within the approval. */
	assert_int_equal(devices_token_revoke(t->d, DEV_A, "operator", NULL, T0 + 2, NULL, t->err,
					      sizeof(t->err)),
			 DEVICES_OK);
	assert_int_equal(devices_token_ensure(t->d, DEV_A, "operator", read, T0 + 3, &entry, t->err,
					      sizeof(t->err)),
			 DEVICES_OK);
	assert_string_not_equal(json_string_value(json_object_get(entry, "token")), token);
	assert_null(json_object_get(entry, "revokedAtMs"));
	assert_int_equal(json_integer_value(json_object_get(entry, "rotatedAtMs")), T0 + 3);
	assert_true(json_list_equal(json_object_get(entry, "scopes"), LIST("operator.read")));
	assert_int_equal(devices_token_verify(t->d, DEV_A, "operator",
					      json_string_value(json_object_get(entry, "token")),
					      NULL, T0 + 4, NULL, t->err, sizeof(t->err)),
			 DEVICES_TOKEN_OK);
	json_decref(entry);
	json_decref(write);
	json_decref(read);
	json_decref(admin);
	free(token);
}

/* ==== JSON views ==== */

static bool connected_a(const char *id, void *ctx)
{
	(void)ctx;
	return strcmp(id, DEV_A) == 0;
}

static void test_list(void **state)
{
	struct t *t = *state;
	json_t *read = json_pack("[s]", "operator.read"), *l, *paired, *dev, *toks;
	struct devices_request b = {
		.device_id = DEV_B,
		.public_key = KEY_B,
		.role = "operator",
		.scopes = read,
	};
	char *token, *text;

	open_store(t);
	token = pair_a(t, read, T0);
	json_decref(request(t, &b, T0 + 10));
	l = devices_list_json(t->d, T0 + 20, NULL, connected_a, NULL);

	/* No token string anywhere in what an RPC would send. */
	text = json_dumps(l, 0);
	assert_null(strstr(text, token));
	assert_null(strstr(text, "approvedScopes"));
	free(text);

	assert_int_equal(json_array_size(json_object_get(l, "pending")), 1);
	paired = json_object_get(l, "paired");
	assert_int_equal(json_array_size(paired), 1);
	dev = json_array_get(paired, 0);
	assert_true(json_is_true(json_object_get(dev, "connected")));
	assert_true(json_list_equal(json_object_get(dev, "scopes"), LIST("operator.read")));
	toks = json_object_get(dev, "tokens");
	assert_int_equal(json_array_size(toks), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(toks, 0), "role")),
			    "operator");
	assert_int_equal(
		json_integer_value(json_object_get(json_array_get(toks, 0), "createdAtMs")), T0);
	assert_null(json_object_get(json_array_get(toks, 0), "token"));
	json_decref(l);

	/* A non-admin caller sees only itself. */
	l = devices_list_json(t->d, T0 + 20, DEV_B, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "pending")), 1);
	assert_int_equal(json_array_size(json_object_get(l, "paired")), 0);
	json_decref(l);
	json_decref(read);
	free(token);
}

static void test_list_order(void **state)
{
	struct t *t = *state;
	struct devices_request a = req_a("node", NULL), b = a;
	json_t *l;

	open_store(t);
	b.device_id = DEV_B;
	b.public_key = KEY_B;
	json_decref(request(t, &a, T0));
	json_decref(request(t, &b, T0 + 5));
	l = devices_list_json(t->d, T0 + 6, NULL, NULL, NULL);
	/* Newest first. */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(l, "pending"), 0), "deviceId")),
			    DEV_B);
	json_decref(l);
}

static void test_paired_public_json(void **state)
{
	json_t *rec = json_pack(
		"{s:s, s:s, s:[s], s:[s], s:{s:{s:s, s:s, s:[s], s:I, s:I}, "
		"s:{s:s, s:s, s:[], s:I}}, s:I, s:I}",
		"deviceId", "d", "publicKey", "k", "scopes", "operator.read", "approvedScopes",
		"operator.read", "tokens", "operator", "token", "secret-1", "role", "operator",
		"scopes", "operator.read", "createdAtMs", (json_int_t)1, "revokedAtMs",
		(json_int_t)3, "node", "token", "secret-2", "role", "node", "scopes", "createdAtMs",
		(json_int_t)2, "createdAtMs", (json_int_t)1, "approvedAtMs", (json_int_t)2);
	json_t *pub;
	char *text;

	(void)state;
	pub = devices_paired_public_json(rec, -1);
	text = json_dumps(pub, JSON_COMPACT);
	assert_null(strstr(text, "secret"));
	assert_null(json_object_get(pub, "approvedScopes"));
	assert_null(json_object_get(pub, "connected"));
	/* Sorted by role: node before operator. */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(pub, "tokens"), 0), "role")),
			    "node");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(pub, "tokens"), 1), "revokedAtMs")),
			 3);
	free(text);
	json_decref(pub);
	pub = devices_paired_public_json(rec, 0);
	assert_true(json_is_false(json_object_get(pub, "connected")));
	json_decref(pub);
	json_decref(rec);
}

static void test_resolved_event(void **state)
{
	json_t *e = devices_resolved_event("r1", "d1", "approved", T0);
	char *s = json_dumps(e, JSON_COMPACT);

	(void)state;
	assert_string_equal(s, "{\"requestId\":\"r1\",\"deviceId\":\"d1\",\"decision\":"
			       "\"approved\",\"ts\":1767225600000}");
	free(s);
	json_decref(e);
}

/* ==== the same scenario as OpenClaw's own store (vectors/devices_scenario.mjs) ==== */

/* Placeholders for random values, as the generator numbers them. */
struct names {
	json_t *by_value; /* value -> "<kind:N>" */
	json_t *by_name;  /* "<kind:N>" -> value */
	int reqs, tokens;
};

static bool is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static const char *placeholder(struct names *n, const char *kind, const char *value)
{
	json_t *have = json_object_get(n->by_value, value);
	char name[32];

	if (have)
		return json_string_value(have);
	snprintf(name, sizeof(name), "<%s:%d>", kind,
		 !strcmp(kind, "req") ? n->reqs++ : n->tokens++);
	json_object_set_new(n->by_value, value, json_string(name));
	json_object_set_new(n->by_name, name, json_string(value));
	return json_string_value(json_object_get(n->by_value, value));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The generator's normalise(): sorted keys, ids and tokens replaced. */
static json_t *normalise(struct names *n, const json_t *v, const char *key)
{
	if (json_is_array(v)) {
		json_t *out = json_array();
		size_t i;
		const json_t *x;

		json_array_foreach(v, i, x)
		{
			json_array_append_new(out, normalise(n, x, NULL));
		}
		return out;
	}
	if (json_is_object(v)) {
		size_t cnt = json_object_size(v), i = 0;
		const char **keys = malloc((cnt + 1) * sizeof(*keys)), *k;
		json_t *out = json_object(), *x;

		json_object_foreach((json_t *)v, k, x)
		{
			keys[i++] = k;
		}
		qsort(keys, cnt, sizeof(*keys), cmp_str);
		for (i = 0; i < cnt; i++)
			json_object_set_new(out, keys[i],
					    normalise(n, json_object_get(v, keys[i]), keys[i]));
		free(keys);
		return out;
	}
	if (json_is_string(v) && key && !strcmp(key, "token"))
		return json_string(placeholder(n, "token", json_string_value(v)));
	if (json_is_string(v) && is_uuid(json_string_value(v)))
		return json_string(placeholder(n, "req", json_string_value(v)));
	return dv_json_copy(v);
}

static const char *real(struct names *n, const char *s)
{
	const char *v = s ? json_string_value(json_object_get(n->by_name, s)) : NULL;

	return v ? v : s;
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* What OpenClaw's list returns: live public requests, and the paired records as stored. */
static json_t *scenario_list(struct t *t, int64_t at)
{
	json_t *l = devices_list_json(t->d, at, NULL, NULL, NULL), *file, *rec,
	       *paired = json_array();
	const char *key;
	json_t **items;
	size_t cnt = 0;

	file = fs_exists(path_in(t, "devices/paired.json"))
		       ? load_json(path_in(t, "devices/paired.json"))
		       : json_object();
	items = malloc((json_object_size(file) + 1) * sizeof(*items));
	json_object_foreach(file, key, rec)
	{
		items[cnt++] = rec;
	}
	/* Newest approval first; ties keep file order, as toSorted does. */
	for (size_t i = 1; i < cnt; i++) {
		json_t *x = items[i];
		json_int_t k = json_integer_value(json_object_get(x, "approvedAtMs"));
		size_t j = i;

		while (j > 0 &&
		       json_integer_value(json_object_get(items[j - 1], "approvedAtMs")) < k) {
			items[j] = items[j - 1];
			j--;
		}
		items[j] = x;
	}
	for (size_t i = 0; i < cnt; i++)
		json_array_append(paired, items[i]);
	free(items);
	json_object_set_new(l, "paired", paired);
	json_decref(file);
	return l;
}

/* {ok:false, reason, scope?} from an "<reason>[ scope=<scope>]" message. */
static json_t *denial(const char *err)
{
	const char *sp = strstr(err, " scope=");
	json_t *o = json_pack("{s:b}", "ok", 0);

	json_object_set_new(o, "reason",
			    sp ? json_stringn(err, (size_t)(sp - err)) : json_string(err));
	if (sp)
		json_object_set_new(o, "scope", json_string(sp + 7));
	return o;
}

static json_t *scenario_step(struct t *t, struct names *n, const json_t *s)
{
	const char *op = jstr(s, "op");
	int64_t at = json_integer_value(json_object_get(s, "at"));
	json_t *out = NULL, *r = json_object_get(s, "req");
	const json_t *callers = json_object_get(s, "callerScopes"),
		     *scopes = json_object_get(s, "scopes");
	const char *dev = jstr(s, "deviceId"), *role = jstr(s, "role");
	char *err = t->err;
	size_t el = sizeof(t->err);
	int rc;
	struct devices_request req = {
		.device_id = jstr(r, "deviceId"),
		.public_key = jstr(r, "publicKey"),
		.display_name = jstr(r, "displayName"),
		.platform = jstr(r, "platform"),
		.device_family = jstr(r, "deviceFamily"),
		.client_id = jstr(r, "clientId"),
		.client_mode = jstr(r, "clientMode"),
		.role = jstr(r, "role"),
		.scopes = json_object_get(r, "scopes"),
		.remote_ip = jstr(r, "remoteIp"),
		.silent = json_is_true(json_object_get(r, "silent")),
	};

	if (!strcmp(op, "request")) {
		assert_int_equal(devices_request(t->d, &req, at, &out, err, el), DEVICES_OK);
	} else if (!strcmp(op, "list")) {
		out = scenario_list(t, at);
	} else if (!strcmp(op, "approve")) {
		struct devices_approve_opts o = { .caller_scopes = callers };
		json_t *device = NULL;

		rc = devices_approve(t->d, real(n, jstr(s, "request")), &o, at, &device, err, el);
		if (rc == DEVICES_OK)
			out = json_pack("{s:s, s:s, s:o}", "status", "approved", "requestId",
					real(n, jstr(s, "request")), "device", device);
		else if (rc == DEVICES_DENIED)
			out = json_pack("{s:s, s:s}", "status", "forbidden", "message", err);
		else
			assert_int_equal(rc, DEVICES_NOT_FOUND);
	} else if (!strcmp(op, "reject")) {
		rc = devices_reject(t->d, real(n, jstr(s, "request")), at, &out, err, el);
		assert_true(rc == DEVICES_OK || rc == DEVICES_NOT_FOUND);
	} else if (!strcmp(op, "remove")) {
		rc = devices_remove(t->d, dev, at, err, el);
		if (rc == DEVICES_OK)
			out = json_pack("{s:s}", "deviceId", dev);
		else
			assert_int_equal(rc, DEVICES_NOT_FOUND);
	} else if (!strcmp(op, "verify")) {
		enum devices_token_check c = devices_token_verify(
			t->d, dev, role, real(n, jstr(s, "token")), scopes, at, NULL, err, el);

		out = c == DEVICES_TOKEN_OK ? json_pack("{s:b}", "ok", 1)
					    : json_pack("{s:b, s:s}", "ok", 0, "reason",
							devices_token_check_reason(c));
	} else if (!strcmp(op, "ensure")) {
		rc = devices_token_ensure(t->d, dev, role, scopes, at, &out, err, el);
		assert_true(rc == DEVICES_OK || rc == DEVICES_DENIED || rc == DEVICES_NOT_FOUND);
	} else if (!strcmp(op, "rotate") || !strcmp(op, "revoke")) {
		json_t *entry = NULL;

		rc = !strcmp(op, "rotate")
			     ? devices_token_rotate(t->d, dev, role, scopes, callers, at, &entry,
						    err, el)
			     : devices_token_revoke(t->d, dev, role, callers, at, &entry, err, el);
		out = rc == DEVICES_OK ? json_pack("{s:b, s:o}", "ok", 1, "entry", entry)
				       : denial(err);
	} else if (!strcmp(op, "auto")) {
		rc = devices_auto_approve(t->d, &req, at, &out, err, el);
		if (rc == DEVICES_DENIED) {
			json_decref(out);
			out = json_pack("{s:s, s:s}", "status", "forbidden", "message", err);
		} else {
			assert_int_equal(rc, DEVICES_OK);
		}
	} else {
		fail_msg("unknown scenario op %s", op);
	}
	return out ? out : json_null();
}

static void test_openclaw_scenario(void **state)
{
	struct t *t = *state;
	struct names n = { json_object(), json_object(), 0, 0 };

	open_store(t);
	for (size_t i = 0; devices_scenario_steps[i]; i++) {
		json_t *step = json_loads(devices_scenario_steps[i], 0, NULL);
		json_t *want = json_loads(devices_scenario_expected[i], JSON_DECODE_ANY, NULL);
		json_t *got, *norm;

		assert_non_null(step);
		assert_non_null(want);
		got = scenario_step(t, &n, step);
		norm = normalise(&n, got, NULL);
		if (!json_equal(norm, want)) {
			char *g = json_dumps(norm, JSON_ENCODE_ANY | JSON_COMPACT);

			print_error("step %zu: %s\n got  %s\n want %s\n", i,
				    devices_scenario_steps[i], g, devices_scenario_expected[i]);
			free(g);
			fail();
		}
		json_decref(norm);
		json_decref(got);
		json_decref(step);
		json_decref(want);
	}
	json_decref(n.by_value);
	json_decref(n.by_name);
}

/* ==== scope rules ==== */

static void test_normalize_scopes(void **state)
{
	json_t *in = json_pack("[s, s, s, i, s]", " operator.admin ", "operator.talk", "", 4,
			       "operator.talk"),
	       *out;

	(void)state;
	out = devices_normalize_scopes(in);
	assert_true(json_list_equal(
		out, LIST("operator.admin", "operator.read", "operator.talk", "operator.write")));
	json_decref(out);
	json_decref(in);
	out = devices_normalize_scopes(NULL);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
}

static void test_role_scopes_allow(void **state)
{
	static const struct {
		const char *role, *want, *have;
		bool ok;
	} cases[] = {
		{ "operator", "operator.read", "operator.read", true },
		{ "operator", "operator.write", "operator.read", false },
		{ "operator", "operator.pairing", "operator.admin", true },
		{ "operator", "operator.read", "operator.write", true },
		{ "operator", "operator.talk", "operator.write", true },
		{ "operator", "operator.sessions.write", "operator.write", true },
		{ "operator", "operator.sessions.read", "operator.read", true },
		{ "operator", "operator.sessions.read", "operator.sessions.write", true },
		{ "operator", "operator.talk.secrets", "operator.write", false },
		{ "operator", "node.camera", "operator.admin", false },
		{ "node", "node.camera", "node.camera", true },
		{ "node", "node.camera", "operator.admin", false },
		{ "node", "operator.read", "operator.read", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *want = json_pack("[s]", cases[i].want),
		       *have = json_pack("[s]", cases[i].have);

		assert_int_equal(devices_role_scopes_allow(cases[i].role, want, have), cases[i].ok);
		json_decref(want);
		json_decref(have);
	}
	assert_true(devices_role_scopes_allow("operator", NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_paired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_file_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_supersede, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_needs_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approve_scope_outside_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approve_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_approve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_approve_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_issuer_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_ensure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openclaw_scenario, setup, teardown),
		cmocka_unit_test(test_paired_public_json),
		cmocka_unit_test(test_resolved_event),
		cmocka_unit_test(test_normalize_scopes),
		cmocka_unit_test(test_role_scopes_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
