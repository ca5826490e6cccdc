/*
 * codec.h - compression of stored events with a dictionary.
 *
 * Events are small JSON documents that repeat the same keys and values
 * (library names, user agents, URLs); compressed one by one with zstd they
 * shrink little, but with a dictionary trained on the store's first events
 * they shrink four to five times.  The dictionary is kept in the store's
 * metadata ("event_dict"); an event record says whether its text is
 * compressed, so stores written before the dictionary existed stay readable.
 */
#ifndef CDP_CODEC_H
#define CDP_CODEC_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

struct cdp_codec;

/* A codec from dictionary bytes (copied); NULL when they are not a dictionary. */
struct cdp_codec *cdp_codec_new(const void *dict, size_t len);
void cdp_codec_free(struct cdp_codec *codec);

/*
 * Trains a dictionary on samples (count texts, lengths in sizes, laid end to
 * end in data).  Returns false when there are too few samples or training
 * fails; else the dictionary is in out (reset first).
 */
bool cdp_codec_train(const char *data, const size_t *sizes, size_t count, struct cdp_buf *out);

/* Appends the compressed form of text to out; false on failure. */
bool cdp_codec_compress(struct cdp_codec *codec, const char *text, size_t len, struct cdp_buf *out);

/* Replaces out with the text compressed in data; false when data is damaged. */
bool cdp_codec_decompress(struct cdp_codec *codec, const void *data, size_t len,
                          struct cdp_buf *out);

#endif
