/*
 * test_protocol.c - gateway frames, ConnectParams and scope rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gateway/protocol.h"
#include "gateway/scopes.h"

static int parse(const char *s, struct gw_frame *f, char *err)
{
	return gw_frame_parse(s, strlen(s), f, err, 256);
}

static void test_frame_req(void **state)
{
	struct gw_frame f;
	char err[256];

	assert_int_equal(parse("{\"type\":\"req\",\"id\":\"1\",\"method\":\"health\","
			       "\"params\":{\"probe\":true},\"traceparent\":\"00-x\"}",
			       &f, err),
			 0);
	assert_int_equal(f.type, GW_FRAME_REQ);
	assert_string_equal(f.id, "1");
	assert_string_equal(f.method, "health");
	assert_true(json_is_true(json_object_get(f.params, "probe")));
	json_decref(f.root);

	assert_int_equal(parse("{\"type\":\"cancel\",\"id\":\"7\"}", &f, err), 0);
	assert_int_equal(f.type, GW_FRAME_CANCEL);
	assert_string_equal(f.id, "7");
	json_decref(f.root);
}

static void test_frame_errors(void **state)
{
	static const struct {
		const char *in, *err, *id;
	} cases[] = {
		{ "nope", "invalid request frame: not valid JSON", NULL },
		{ "[1]", "invalid request frame: must be object", NULL },
		{ "{\"id\":\"a\",\"method\":\"m\"}",
		  "invalid request frame: must have required property 'type'", "a" },
		{ "{\"type\":\"event\",\"id\":\"a\"}",
		  "invalid request frame: at /type: must be equal to constant", "a" },
		{ "{\"type\":\"req\",\"method\":\"m\"}",
		  "invalid request frame: must have required property 'id'", NULL },
		{ "{\"type\":\"req\",\"id\":5,\"method\":\"m\"}",
		  "invalid request frame: at /id: must be non-empty string", NULL },
		{ "{\"type\":\"req\",\"id\":\"a\"}",
		  "invalid request frame: must have required property 'method'", "a" },
		{ "{\"type\":\"req\",\"id\":\"a\",\"method\":\"m\",\"x\":1}",
		  "invalid request frame: at root: unexpected property 'x'", "a" },
		{ "{\"type\":\"cancel\"}",
		  "invalid request frame: must have required property 'id'", NULL },
		{ "{\"type\":\"cancel\",\"id\":\"a\",\"method\":\"m\"}",
		  "invalid request frame: at root: unexpected property 'method'", "a" },
		{ "{\"type\":\"req\",\"id\":\"a\",\"id\":\"b\",\"method\":\"m\"}",
		  "invalid request frame: not valid JSON", NULL },
	};
	struct gw_frame f;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].in, &f, err), -1);
		assert_non_null(strstr(err, cases[i].err));
		if (cases[i].id)
			assert_string_equal(f.id, cases[i].id);
		json_decref(f.root);
	}
}

static void test_responses(void **state)
{
	json_t *r = gw_res_error("x", GW_E_FORBIDDEN, "no", json_pack("{s:s}", "code", "C"));
	char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);

	assert_string_equal(s, "{\"error\":{\"code\":\"FORBIDDEN\",\"details\":{\"code\":\"C\"},"
			       "\"message\":\"no\"},\"id\":\"x\",\"ok\":false,\"type\":\"res\"}");
	free(s);
	json_decref(r);
	r = gw_res_ok("y", NULL);
	s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"id\":\"y\",\"ok\":true,\"type\":\"res\"}");
	free(s);
	json_decref(r);
}

static json_t *params(const char *extra)
{
	char buf[1024];

	snprintf(
		buf, sizeof(buf),
		"{\"minProtocol\":4,\"maxProtocol\":4,\"client\":{\"id\":\"cli\",\"version\":\"1\","
		"\"platform\":\"linux\",\"mode\":\"cli\"}%s}",
		extra);
	return json_loads(buf, 0, NULL);
}

static void test_connect_ok(void **state)
{
	json_t *p =
		params(",\"role\":\"node\",\"scopes\":[],\"caps\":[\"tool-events\"],"
		       "\"auth\":{\"token\":\"t\"},\"device\":{\"id\":\"d\",\"publicKey\":\"k\","
		       "\"signature\":\"s\",\"signedAt\":1,\"nonce\":\"n\"},"
		       "\"permissions\":{\"a\":true},\"locale\":\"en\"");
	struct gw_connect c;
	char err[256];

	assert_int_equal(gw_connect_parse(p, &c, err, sizeof(err)), 0);
	assert_int_equal(c.role, GW_ROLE_NODE);
	assert_string_equal(c.client_id, "cli");
	assert_string_equal(c.auth_token, "t");
	assert_non_null(c.device);
	assert_int_equal(json_array_size(c.caps), 1);
	assert_int_equal(gw_connect_negotiate(&c), 4);
	gw_connect_release(&c);
	json_decref(p);
}

static void test_connect_errors(void **state)
{
	static const struct {
		const char *extra, *err;
	} cases[] = {
		{ ",\"zzz\":1", "invalid connect params: at root: unexpected property 'zzz'" },
		{ ",\"scopes\":\"x\"", "invalid connect params: at /scopes: must be array" },
		{ ",\"scopes\":[\"\"]", "invalid connect params: at /scopes/0: must be non-empty" },
		{ ",\"role\":\"king\"", "invalid role" },
		{ ",\"auth\":{\"token\":1}",
		  "invalid connect params: at /auth/token: must be string" },
		{ ",\"auth\":{\"x\":\"y\"}", "at /auth: unexpected property 'x'" },
		{ ",\"device\":{\"id\":\"d\"}",
		  "at /device: must have required property 'publicKey'" },
		{ ",\"permissions\":{\"a\":1}", "at /permissions: must have boolean values" },
	};
	struct gw_connect c;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *p = params(cases[i].extra);

		assert_non_null(p);
		assert_int_equal(gw_connect_parse(p, &c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, cases[i].err));
		json_decref(p);
	}
	assert_int_equal(gw_connect_parse(NULL, &c, err, sizeof(err)), -1);
}

static void test_negotiate(void **state)
{
	struct gw_connect c = { .role = GW_ROLE_OPERATOR, .client_mode = "cli" };

	c.min_protocol = 3, c.max_protocol = 3;
	assert_int_equal(gw_connect_negotiate(&c), -1); /* clients need 4 */
	c.client_mode = "probe";
	assert_int_equal(gw_connect_negotiate(&c), 3);
	c.min_protocol = 3, c.max_protocol = 9;
	assert_int_equal(gw_connect_negotiate(&c), 4);
	c.min_protocol = 5, c.max_protocol = 9;
	assert_int_equal(gw_connect_negotiate(&c), -1);
	c.min_protocol = 4, c.max_protocol = 3;
	assert_int_equal(gw_connect_negotiate(&c), -1);
	c.role = GW_ROLE_NODE, c.client_mode = "node", c.min_protocol = 2, c.max_protocol = 3;
	assert_int_equal(gw_connect_negotiate(&c), 3);
	c.max_protocol = 2;
	assert_int_equal(gw_connect_negotiate(&c), -1);
}

static void test_scopes(void **state)
{
	json_t *admin = json_pack("[s]", SCOPE_ADMIN), *write = json_pack("[s]", SCOPE_WRITE);
	json_t *read = json_pack("[s]", SCOPE_READ), *none = json_array();
	json_t *want = json_pack("[s,s]", SCOPE_READ, SCOPE_PAIRING);
	bool known;

	assert_true(scopes_allow(none, NULL));
	assert_false(scopes_allow(none, SCOPE_READ));
	assert_true(scopes_allow(read, SCOPE_READ));
	assert_false(scopes_allow(read, SCOPE_WRITE));
	assert_true(scopes_allow(write, SCOPE_READ));
	assert_false(scopes_allow(write, SCOPE_PAIRING));
	assert_true(scopes_allow(admin, SCOPE_PAIRING));
	assert_true(scopes_cover(admin, want));
	assert_false(scopes_cover(write, want));

	assert_null(scopes_for_event("tick", &known));
	assert_true(known);
	assert_string_equal(scopes_for_event("chat", &known), SCOPE_READ);
	assert_string_equal(scopes_for_event("device.pair.requested", &known), SCOPE_PAIRING);
	assert_null(scopes_for_event("mystery.event", &known));
	assert_false(known);
	assert_null(scopes_for_event("chatter", &known)); /* a prefix is not a family */
	assert_false(known);
	json_decref(admin), json_decref(write), json_decref(read), json_decref(none);
	json_decref(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_req),      cmocka_unit_test(test_frame_errors),
		cmocka_unit_test(test_responses),      cmocka_unit_test(test_connect_ok),
		cmocka_unit_test(test_connect_errors), cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
