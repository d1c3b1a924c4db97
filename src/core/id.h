/*
 * id.h - random identifiers from the kernel CSPRNG.
 */
#ifndef PINCER_CORE_ID_H
#define PINCER_CORE_ID_H

#include <stddef.h>

/* Fill `buf` with `n` random bytes (getrandom); aborts if the kernel cannot. */
void id_random_bytes(void *buf, size_t n);
/* RFC 4122 version 4 UUID, lowercase, into `out` (at least 37 bytes). */
void id_uuid(char *out);
/* `nbytes` random bytes as lowercase hex into `out` (at least 2*nbytes+1). */
void id_hex(char *out, size_t nbytes);

#endif
