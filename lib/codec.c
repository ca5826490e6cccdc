/*
 * codec.c - zstd with a trained dictionary, one context each way.
 */
#include "codec.h"

#include <stdlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_forceAttachDict */
#include <zdict.h>
#include <zstd.h>

#define DICT_SIZE ((size_t)64 << 10)
#define MIN_SAMPLES 500
#define LEVEL 1

struct cdp_codec {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    ZSTD_CDict *cdict;
    ZSTD_DDict *ddict;
};

struct cdp_codec *
cdp_codec_new(const void *dict, size_t len)
{
    if (ZDICT_getDictID(dict, len) == 0)
        return NULL;
    struct cdp_codec *c = cdp_xcalloc(1, sizeof *c);
    c->cctx = ZSTD_createCCtx();
    c->dctx = ZSTD_createDCtx();
    c->cdict = ZSTD_createCDict(dict, len, LEVEL);
    c->ddict = ZSTD_createDDict(dict, len);
    if (c->cctx == NULL || c->dctx == NULL || c->cdict == NULL || c->ddict == NULL ||
        ZSTD_isError(ZSTD_CCtx_refCDict(c->cctx, c->cdict)) ||
        /* Small inputs: use the dictionary's tables in place instead of copying them. */
        ZSTD_isError(
            ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_forceAttachDict, ZSTD_dictForceAttach)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_DCtx_refDDict(c->dctx, c->ddict))) {
        cdp_codec_free(c);
        return NULL;
    }
    return c;
}

void
cdp_codec_free(struct cdp_codec *c)
{
    if (c == NULL)
        return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    ZSTD_freeCDict(c->cdict);
    ZSTD_freeDDict(c->ddict);
    free(c);
}

bool
cdp_codec_train(const char *data, const size_t *sizes, size_t count, struct cdp_buf *out)
{
    if (count < MIN_SAMPLES)
        return false;
    cdp_buf_reset(out);
    char *dict = cdp_buf_reserve(out, DICT_SIZE);
    size_t n = ZDICT_trainFromBuffer(dict, DICT_SIZE, data, sizes, (unsigned)count);
    if (ZDICT_isError(n))
        return false;
    cdp_buf_commit(out, n);
    return true;
}

bool
cdp_codec_compress(struct cdp_codec *c, const char *text, size_t len, struct cdp_buf *out)
{
    size_t bound = ZSTD_compressBound(len);
    char *dst = cdp_buf_reserve(out, bound);
    size_t n = ZSTD_compress2(c->cctx, dst, bound, text, len);
    if (ZSTD_isError(n))
        return false;
    cdp_buf_commit(out, n);
    return true;
}

bool
cdp_codec_decompress(struct cdp_codec *c, const void *data, size_t len, struct cdp_buf *out)
{
    unsigned long long size = ZSTD_getFrameContentSize(data, len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
        return false;
    cdp_buf_reset(out);
    char *dst = cdp_buf_reserve(out, (size_t)size);
    size_t n = ZSTD_decompressDCtx(c->dctx, dst, (size_t)size, data, len);
    if (ZSTD_isError(n) || n != size)
        return false;
    cdp_buf_commit(out, n);
    return true;
}
