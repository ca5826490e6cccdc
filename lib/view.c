/*
 * view.c - writing profiles as JSON text, without building a tree.
 */
#include "view.h"
#include "timeparse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cdp_view_string(struct cdp_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *p = cdp_buf_reserve(out, len * 6 + 2), *start = p;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c >= 0x20) {
            *p++ = (char)c;
        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (c == '\t') {
            *p++ = '\\';
            *p++ = 't';
        } else if (c == '\r') {
            *p++ = '\\';
            *p++ = 'r';
        } else {
            memcpy(p, "\\u00", 4);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            p += 6;
        }
    }
    *p++ = '"';
    cdp_buf_commit(out, (size_t)(p - start));
}

void
cdp_view_time(struct cdp_buf *out, int64_t ms)
{
    if (ms == CDP_TIME_NONE) {
        cdp_buf_puts(out, "null");
        return;
    }
    char text[40];
    cdp_time_format(ms, text, sizeof text);
    cdp_buf_putc(out, '"');
    cdp_buf_puts(out, text);
    cdp_buf_putc(out, '"');
}

void
cdp_view_micros(struct cdp_buf *out, int64_t micros)
{
    uint64_t v = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
    char frac[8];
    snprintf(frac, sizeof frac, "%06" PRIu64, v % 1000000);
    int n = 6;
    while (n > 0 && frac[n - 1] == '0')
        n--;
    frac[n] = '\0';
    cdp_buf_printf(out, "%s%" PRIu64 "%s%s", micros < 0 ? "-" : "", v / 1000000, n ? "." : "",
                   frac);
}

bool
cdp_view_purchase_frequency(const struct cdp_profile_head *h, double *per30)
{
    int64_t span = h->last_order_at - h->first_order_at;
    if (h->orders_count < 2 || h->first_order_at == CDP_TIME_NONE || span <= 0)
        return false;
    /* Orders per 30 days over the span from the first order to the last. */
    double f = (double)(h->orders_count - 1) * (30.0 * 86400000.0) / (double)span;
    char text[32];
    snprintf(text, sizeof text, "%.4g", f);
    *per30 = strtod(text, NULL);
    return true;
}

static void
key(struct cdp_buf *out, const char *name)
{
    cdp_buf_putc(out, '"');
    cdp_buf_puts(out, name);
    cdp_buf_puts(out, "\":");
}

static void
uint_field(struct cdp_buf *out, const char *name, uint64_t v)
{
    key(out, name);
    cdp_buf_printf(out, "%" PRIu64 ",", v);
}

static void
time_field(struct cdp_buf *out, const char *name, int64_t ms)
{
    key(out, name);
    cdp_view_time(out, ms);
    cdp_buf_putc(out, ',');
}

static void
optional_string(struct cdp_buf *out, const char *s)
{
    if (s)
        cdp_view_string(out, s, strlen(s));
    else
        cdp_buf_puts(out, "null");
}

static void
dump_value(struct cdp_buf *out, json_t *value)
{
    char small[256];
    size_t n = json_dumpb(value, small, sizeof small, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0) {
        cdp_buf_puts(out, "null");
    } else if (n <= sizeof small) {
        cdp_buf_append(out, small, n);
    } else {
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        cdp_buf_puts(out, text ? text : "null");
        free(text);
    }
}

void
cdp_view_profile(struct cdp_profile *p, struct cdp_buf *out)
{
    cdp_view_profile_with(p, NULL, out);
}

void
cdp_view_profile_with(struct cdp_profile *p, const char *members, struct cdp_buf *out)
{
    cdp_profile_load(p);
    const struct cdp_profile_head *h = &p->head;
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(&p->id, hex);
    cdp_buf_puts(out, "{\"id\":\"");
    cdp_buf_puts(out, hex);
    cdp_buf_puts(out, "\",\"identifiers\":[");
    const char *s = p->identifiers.data, *end = s + p->identifiers.len;
    for (bool first = true; s < end; first = false) {
        size_t n = strlen(s);
        if (!first)
            cdp_buf_putc(out, ',');
        cdp_view_string(out, s, n);
        s += n + 1;
    }
    cdp_buf_puts(out, "],\"traits\":{");
    const char *name;
    json_t *entry;
    bool first = true;
    /* Traits in name order, so output does not depend on the order they were set. */
    const char **names = NULL;
    size_t count = json_object_size(p->traits), i = 0;
    if (count) {
        names = cdp_xmalloc(count * sizeof *names);
        json_object_foreach(p->traits, name, entry) names[i++] = name;
        for (size_t a = 1; a < count; a++)
            for (size_t b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
                const char *t = names[b];
                names[b] = names[b - 1];
                names[b - 1] = t;
            }
    }
    for (i = 0; i < count; i++) {
        if (!first)
            cdp_buf_putc(out, ',');
        first = false;
        cdp_view_string(out, names[i], strlen(names[i]));
        cdp_buf_putc(out, ':');
        dump_value(out, json_array_get(json_object_get(p->traits, names[i]), 0));
    }
    free(names);

    cdp_buf_puts(out, "},\"computed\":{");
    time_field(out, "first_seen", h->first_seen);
    time_field(out, "last_seen", h->last_seen);
    uint_field(out, "events_count", h->events_count);
    uint_field(out, "page_views", h->page_views);
    uint_field(out, "visits", h->visits);
    uint_field(out, "time_on_site_s", (uint64_t)(h->time_on_site_ms / 1000));
    uint_field(out, "email_opens", h->email_opens);
    uint_field(out, "email_clicks", h->email_clicks);
    uint_field(out, "downloads", h->downloads);
    uint_field(out, "support_contacts", h->support_contacts);
    uint_field(out, "orders_count", h->orders_count);
    key(out, "revenue_total");
    cdp_view_micros(out, h->revenue_micros);
    cdp_buf_putc(out, ',');
    key(out, "avg_order_value");
    if (h->orders_count)
        cdp_view_micros(out, h->revenue_micros / (int64_t)h->orders_count);
    else
        cdp_buf_puts(out, "null");
    cdp_buf_putc(out, ',');
    time_field(out, "first_order_at", h->first_order_at);
    time_field(out, "last_order_at", h->last_order_at);
    key(out, "purchase_frequency");
    double per30;
    if (cdp_view_purchase_frequency(h, &per30))
        cdp_buf_printf(out, "%.4g", per30);
    else
        cdp_buf_puts(out, "null");
    cdp_buf_putc(out, ',');
    uint_field(out, "returns_count", h->returns_count);
    uint_field(out, "abandoned_carts", h->abandoned_carts);
    key(out, "preferred_payment_method");
    optional_string(out, cdp_profile_top_tally(p, "payment_method"));
    cdp_buf_putc(out, ',');
    key(out, "top_category");
    optional_string(out, cdp_profile_top_tally(p, "category"));
    cdp_buf_puts(out, "},\"first_seen\":");
    cdp_view_time(out, h->first_seen);
    cdp_buf_puts(out, ",\"last_seen\":");
    cdp_view_time(out, h->last_seen);
    if (members && *members) {
        cdp_buf_putc(out, ',');
        cdp_buf_puts(out, members);
    }
    cdp_buf_putc(out, '}');
}

json_t *
cdp_view_profile_json(struct cdp_profile *p)
{
    struct cdp_buf text = CDP_BUF_INIT;
    cdp_view_profile(p, &text);
    json_t *v = json_loadb(text.data, text.len, 0, NULL);
    cdp_buf_free(&text);
    return v;
}

static const char *const computed_names[] = {
    "first_seen",      "last_seen",        "events_count",   "page_views",
    "visits",          "time_on_site_s",   "email_opens",    "email_clicks",
    "downloads",       "support_contacts", "orders_count",   "revenue_total",
    "avg_order_value", "first_order_at",   "last_order_at",  "purchase_frequency",
    "returns_count",   "abandoned_carts",  "preferred_payment_method", "top_category",
    NULL};

int
cdp_view_computed_index(const char *name)
{
    for (int i = 0; computed_names[i]; i++)
        if (strcmp(computed_names[i], name) == 0)
            return i;
    return -1;
}

/* Appends v in decimal, without printf: the hot path of CSV exports. */
static void
put_uint(struct cdp_buf *out, uint64_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char *p = cdp_buf_reserve(out, (size_t)n);
    for (int i = 0; i < n; i++)
        p[i] = digits[n - 1 - i];
    cdp_buf_commit(out, (size_t)n);
}

/* Appends a time as ISO 8601 (as cdp_time_format writes it), without printf for years 0-9999. */
static void
put_time(struct cdp_buf *out, int64_t ms)
{
    int year, month, day, hour, minute, second, millis;
    cdp_time_to_civil(ms, &year, &month, &day, &hour, &minute, &second, &millis);
    if (year < 0 || year > 9999) {
        char text[40];
        cdp_time_format(ms, text, sizeof text);
        cdp_buf_puts(out, text);
        return;
    }
    char *p = cdp_buf_reserve(out, 24);
    int f[] = {year / 1000, year / 100 % 10, year / 10 % 10, year % 10};
    for (int i = 0; i < 4; i++)
        p[i] = (char)('0' + f[i]);
    p[4] = '-';
    p[5] = (char)('0' + month / 10);
    p[6] = (char)('0' + month % 10);
    p[7] = '-';
    p[8] = (char)('0' + day / 10);
    p[9] = (char)('0' + day % 10);
    p[10] = 'T';
    p[11] = (char)('0' + hour / 10);
    p[12] = (char)('0' + hour % 10);
    p[13] = ':';
    p[14] = (char)('0' + minute / 10);
    p[15] = (char)('0' + minute % 10);
    p[16] = ':';
    p[17] = (char)('0' + second / 10);
    p[18] = (char)('0' + second % 10);
    p[19] = '.';
    p[20] = (char)('0' + millis / 100);
    p[21] = (char)('0' + millis / 10 % 10);
    p[22] = (char)('0' + millis % 10);
    p[23] = 'Z';
    cdp_buf_commit(out, 24);
}

/* Appends an amount in millionths as cdp_view_micros does, without printf. */
static void
put_micros(struct cdp_buf *out, int64_t micros)
{
    uint64_t v = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
    if (micros < 0)
        cdp_buf_putc(out, '-');
    put_uint(out, v / 1000000);
    uint64_t frac = v % 1000000;
    if (frac == 0)
        return;
    char digits[7];
    for (int i = 5; i >= 0; i--) {
        digits[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    int n = 6;
    while (digits[n - 1] == '0')
        n--;
    cdp_buf_putc(out, '.');
    cdp_buf_append(out, digits, (size_t)n);
}

void
cdp_view_computed_text_at(struct cdp_profile *p, int which, struct cdp_buf *out)
{
    const struct cdp_profile_head *h = &p->head;
    int64_t t = CDP_TIME_NONE;
    uint64_t n = 0;
    switch (which) {
    case 0:
        t = h->first_seen;
        break;
    case 1:
        t = h->last_seen;
        break;
    case 13:
        t = h->first_order_at;
        break;
    case 14:
        t = h->last_order_at;
        break;
    case 2:
        n = h->events_count;
        break;
    case 3:
        n = h->page_views;
        break;
    case 4:
        n = h->visits;
        break;
    case 5:
        n = (uint64_t)(h->time_on_site_ms / 1000);
        break;
    case 6:
        n = h->email_opens;
        break;
    case 7:
        n = h->email_clicks;
        break;
    case 8:
        n = h->downloads;
        break;
    case 9:
        n = h->support_contacts;
        break;
    case 10:
        n = h->orders_count;
        break;
    case 16:
        n = h->returns_count;
        break;
    case 17:
        n = h->abandoned_carts;
        break;
    case 11:
        put_micros(out, h->revenue_micros);
        return;
    case 12:
        if (h->orders_count)
            put_micros(out, h->revenue_micros / (int64_t)h->orders_count);
        return;
    case 15: {
        double f;
        if (cdp_view_purchase_frequency(h, &f))
            cdp_buf_printf(out, "%.4g", f);
        return;
    }
    case 18:
    case 19: {
        const char *top = cdp_profile_top_tally(p, which == 18 ? "payment_method" : "category");
        if (top)
            cdp_buf_puts(out, top);
        return;
    }
    default:
        return;
    }
    if (which == 0 || which == 1 || which == 13 || which == 14) {
        if (t != CDP_TIME_NONE)
            put_time(out, t);
    } else {
        put_uint(out, n);
    }
}

bool
cdp_view_computed_text(struct cdp_profile *p, const char *name, struct cdp_buf *out)
{
    int which = cdp_view_computed_index(name);
    if (which < 0)
        return false;
    if (p != NULL)
        cdp_view_computed_text_at(p, which, out);
    return true;
}
