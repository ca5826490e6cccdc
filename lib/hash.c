/*
 * hash.c - XXH3-128 identifiers in a fixed byte order.
 */
#include "hash.h"

#include <string.h>
#include <xxhash.h>

struct cdp_id
cdp_hash_bytes(const void *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    XXH128_canonical_t canonical;
    struct cdp_id id;
    XXH128_canonicalFromHash(&canonical, h);
    memcpy(id.bytes, canonical.digest, sizeof id.bytes);
    return id;
}

struct cdp_id
cdp_hash_string(const char *s)
{
    return cdp_hash_bytes(s, strlen(s));
}

void
cdp_hash_to_hex(const struct cdp_id *id, char out[CDP_ID_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[id->bytes[i] >> 4];
        out[2 * i + 1] = digits[id->bytes[i] & 15];
    }
    out[32] = '\0';
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
cdp_hash_from_hex(const char *s, struct cdp_id *id)
{
    for (int i = 0; i < 16; i++) {
        int hi = hex_value(s[2 * i]), lo = hi < 0 ? -1 : hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        id->bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    return s[32] == '\0';
}

int
cdp_hash_compare(const struct cdp_id *a, const struct cdp_id *b)
{
    return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}
