/*
 * id.c - random identifiers from the kernel CSPRNG; see id.h.
 */
#include "core/id.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/mem.h"

/*
 * Identifiers name sessions and tokens; a predictable one is a security
 * bug, so there is no weak fallback: if the kernel will not give us
 * entropy, stop.
 */
static NORETURN void id_fail(const char *what, int err)
{
	fprintf(stderr, "pincer: cannot get random bytes (%s): %s\n", what, strerror(err));
	abort();
}

/*
 * For kernels or seccomp sandboxes that refuse getrandom(2) itself.
 * /dev/urandom draws from the same pool once it is initialised.
 */
static void id_urandom(unsigned char *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		id_fail("/dev/urandom", errno);
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			id_fail("/dev/urandom", r < 0 ? errno : EIO);
		p += r;
		n -= (size_t)r;
	}
	close(fd);
}

void id_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		/* Requests past 256 bytes may be cut short by a signal: loop. */
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOSYS || errno == EPERM) {
				id_urandom(p, n);
				return;
			}
			id_fail("getrandom", errno);
		}
		if (r == 0)
			id_fail("getrandom", EIO);
		p += r;
		n -= (size_t)r;
	}
}

static const char id_hexdigits[] = "0123456789abcdef";

static void id_tohex(char *out, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = id_hexdigits[b[i] >> 4];
		out[2 * i + 1] = id_hexdigits[b[i] & 0x0f];
	}
}

void id_uuid(char *out)
{
	unsigned char b[16];
	/* Bytes per group of 8-4-4-4-12 hex digits. */
	static const size_t groups[] = { 4, 2, 2, 2, 6 };
	size_t off = 0;

	id_random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx (RFC 4122) */
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		if (g)
			*out++ = '-';
		id_tohex(out, b + off, groups[g]);
		out += 2 * groups[g];
		off += groups[g];
	}
	*out = '\0';
	explicit_bzero(b, sizeof(b));
}

void id_hex(char *out, size_t nbytes)
{
	unsigned char chunk[64];

	/* In chunks, so any length works without a heap buffer. */
	while (nbytes) {
		size_t n = nbytes < sizeof(chunk) ? nbytes : sizeof(chunk);

		id_random_bytes(chunk, n);
		id_tohex(out, chunk, n);
		out += 2 * n;
		nbytes -= n;
	}
	*out = '\0';
	/* The hex may be a token: do not leave its bytes on the stack. */
	explicit_bzero(chunk, sizeof(chunk));
}
