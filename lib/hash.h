/*
 * hash.h - 128-bit hashes that name things in the store: profiles,
 * identifiers, messages and orders.  XXH3-128 from libxxhash: fast, stable
 * across machines and versions, and wide enough that collisions among
 * billions of identifiers are not a practical concern.
 */
#ifndef CDP_HASH_H
#define CDP_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 128-bit hash, stored big-endian so that keys sort as the hex prints. */
struct cdp_id {
    unsigned char bytes[16];
};

#define CDP_ID_HEX_SIZE 33 /* 32 hex digits and a NUL */

/* Hashes len bytes of data. */
struct cdp_id cdp_hash_bytes(const void *data, size_t len);

/* Hashes a NUL-terminated string. */
struct cdp_id cdp_hash_string(const char *s);

/* Writes the 32 lower-case hex digits of id and a NUL into out. */
void cdp_hash_to_hex(const struct cdp_id *id, char out[CDP_ID_HEX_SIZE]);

/* Reads 32 hex digits (either case); false if s is not exactly that. */
bool cdp_hash_from_hex(const char *s, struct cdp_id *id);

/* memcmp order; 0 when equal. */
int cdp_hash_compare(const struct cdp_id *a, const struct cdp_id *b);

#endif
