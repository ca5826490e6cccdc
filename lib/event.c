/*
 * event.c - validating and normalising one Segment-spec event.
 */
#include "event.h"
#include "jsonscan.h"
#include "normalize.h"
#include "timeparse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
    NULL, "identify", "track", "page", "screen", "group", "alias",
};

#define MAX_MEMBERS 128

static bool
key_in(const struct cdp_json_member *m, const char *const *names)
{
    for (; *names; names++)
        if (cdp_jsonscan_key_is(m, *names))
            return true;
    return false;
}

/*
 * Copies into dst the members of the object text whose keys are in names,
 * each parsed on its own.  Returns false when a key has escapes or there
 * are too many members to scan (the caller then parses everything).
 */
/*
 * A string without escapes, true, false or null, built straight from its
 * validated text (most members ingest reads are such); NULL for the rest,
 * which jansson parses.
 */
static json_t *
scalar_value(const char *v, size_t n)
{
    if (n >= 2 && v[0] == '"' && memchr(v + 1, '\\', n - 2) == NULL)
        return json_stringn_nocheck(v + 1, n - 2);
    if (n == 4 && memcmp(v, "true", 4) == 0)
        return json_true();
    if (n == 5 && memcmp(v, "false", 5) == 0)
        return json_false();
    if (n == 4 && memcmp(v, "null", 4) == 0)
        return json_null();
    return NULL;
}

static bool
take_scanned(json_t *dst, const struct cdp_json_member *members, int n, const char *const *names)
{
    for (int i = 0; i < n; i++) {
        if (members[i].key_escaped)
            return false;
        if (!key_in(&members[i], names))
            continue;
        json_t *v = scalar_value(members[i].value, members[i].value_len);
        if (v == NULL)
            v = json_loadb(members[i].value, members[i].value_len, JSON_DECODE_ANY, NULL);
        if (v == NULL)
            return false;
        char key[64];
        if (members[i].key_len >= sizeof key) {
            json_decref(v);
            continue;
        }
        memcpy(key, members[i].key, members[i].key_len);
        key[members[i].key_len] = '\0';
        json_object_set_new(dst, key, v);
    }
    return true;
}

static bool
take_members(json_t *dst, const char *text, size_t len, const char *const *names)
{
    struct cdp_json_member members[MAX_MEMBERS];
    int n = cdp_jsonscan_members(text, len, members, MAX_MEMBERS);
    if (n < 0 || n > MAX_MEMBERS)
        return false;
    return take_scanned(dst, members, n, names);
}

/* True for the JSON text of a non-empty string or an integer. */
static bool
usable_message_id(const char *v, size_t n)
{
    if (n >= 3 && v[0] == '"')
        return true;
    if (n == 0)
        return false;
    for (size_t i = v[0] == '-'; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return n > (size_t)(v[0] == '-');
}

json_t *
cdp_event_parse(const char *text, size_t len)
{
    static const char *const top[] = {"type",      "event",       "name",
                                      "userId",    "anonymousId", "previousId",
                                      "messageId", "timestamp",   "originalTimestamp",
                                      "sentAt",    "receivedAt",  "groupId",
                                      "traits",    NULL};
    static const char *const context_keys[] = {"traits", "externalIds", "consent", "merge", NULL};
    static const char *const property_keys[] = {
        "email", "phone",    "order_id",       "orderId",       "total",    "revenue",
        "value", "products", "payment_method", "paymentMethod", "category", NULL};
    struct cdp_json_member members[MAX_MEMBERS];
    int n = cdp_jsonscan_members(text, len, members, MAX_MEMBERS);
    if (n < 0 || n > MAX_MEMBERS)
        return json_loadb(text, len, JSON_DECODE_ANY, NULL);
    bool has_message = false;
    for (int i = 0; i < n; i++) {
        if (members[i].key_escaped)
            return json_loadb(text, len, JSON_DECODE_ANY, NULL);
        /*
         * Only a messageId that cdp_event_read() takes (a non-empty string or
         * an integer) names the event; otherwise its id hashes everything.
         */
        if (cdp_jsonscan_key_is(&members[i], "messageId"))
            has_message = usable_message_id(members[i].value, members[i].value_len);
    }
    if (!has_message)
        return json_loadb(text, len, JSON_DECODE_ANY, NULL);

    json_t *root = json_object();
    bool ok = take_scanned(root, members, n, top);
    for (int i = 0; ok && i < n; i++) {
        const struct cdp_json_member *m = &members[i];
        bool context = cdp_jsonscan_key_is(m, "context");
        if (!context && !cdp_jsonscan_key_is(m, "properties"))
            continue;
        if (m->value[0] != '{') {
            /* Not an object: keep it whole, validation will say so. */
            json_t *v = json_loadb(m->value, m->value_len, JSON_DECODE_ANY, NULL);
            ok = v != NULL;
            json_object_set_new(root, context ? "context" : "properties", v);
            continue;
        }
        json_t *sub = json_object();
        ok = take_members(sub, m->value, m->value_len, context ? context_keys : property_keys);
        json_object_set_new(root, context ? "context" : "properties", sub);
    }
    if (!ok) {
        json_decref(root);
        return json_loadb(text, len, JSON_DECODE_ANY, NULL);
    }
    return root;
}

const char *
cdp_event_type_name(enum cdp_event_type type)
{
    if (type >= CDP_EVENT_IDENTIFY && type <= CDP_EVENT_ALIAS)
        return type_names[type];
    return "unknown";
}

json_t *
cdp_json_path(json_t *root, const char *path)
{
    char part[128];
    while (root != NULL && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part || !json_is_object(root))
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        root = json_object_get(root, part);
        path += n + (dot != NULL);
    }
    return root;
}

/* Writes "kind:value" into out; false when it does not fit. */
static bool
join_identifier(const char *kind, const char *value, char *out, size_t outsize)
{
    size_t k = strlen(kind), v = strlen(value);
    if (k + 1 + v + 1 > outsize)
        return false;
    memcpy(out, kind, k);
    out[k] = ':';
    memcpy(out + k + 1, value, v + 1);
    return true;
}

int
cdp_identifier_strength(const char *identifier)
{
    if (strncmp(identifier, "user:", 5) == 0)
        return CDP_STRENGTH_USER;
    if (strncmp(identifier, "email:", 6) == 0)
        return CDP_STRENGTH_EMAIL;
    if (strncmp(identifier, "phone:", 6) == 0)
        return CDP_STRENGTH_PHONE;
    if (strncmp(identifier, "anon:", 5) == 0)
        return CDP_STRENGTH_ANON;
    return CDP_STRENGTH_EXTERNAL;
}

bool
cdp_event_add_identifier(struct cdp_event *ev, const char *kind, const char *value, int strength)
{
    char text[CDP_IDENTIFIER_MAX];
    if (ev->identifiers_count >= CDP_EVENT_MAX_IDENTIFIERS ||
        !join_identifier(kind, value, text, sizeof text))
        return false;
    for (int i = 0; i < ev->identifiers_count; i++)
        if (strcmp(ev->identifiers[i], text) == 0)
            return false;
    memcpy(ev->identifiers[ev->identifiers_count], text, strlen(text) + 1);
    ev->strength[ev->identifiers_count++] = strength;
    return true;
}

int
cdp_event_strongest(const struct cdp_event *ev)
{
    int best = -1;
    for (int i = 0; i < ev->identifiers_count; i++) {
        if (best < 0 || ev->strength[i] > ev->strength[best] ||
            (ev->strength[i] == ev->strength[best] &&
             strcmp(ev->identifiers[i], ev->identifiers[best]) < 0))
            best = i;
    }
    return best;
}

bool
cdp_identifier_normalize(const char *kind, const char *value, const char *country, char *out,
                         size_t outsize, const char **reason)
{
    char norm[CDP_IDENTIFIER_MAX];
    size_t len = strlen(value);
    bool ok;
    *reason = NULL;
    if (strcmp(kind, "email") == 0) {
        ok = cdp_normalize_email(value, len, norm, sizeof norm);
        if (!ok)
            *reason = "invalid e-mail";
    } else if (strcmp(kind, "phone") == 0) {
        ok = cdp_normalize_phone(value, len, country, norm, sizeof norm);
        if (!ok)
            *reason = "invalid phone number";
    } else {
        ok = cdp_normalize_trim(value, len, norm, sizeof norm);
        if (!ok)
            *reason = "empty identifier";
    }
    if (ok && cdp_normalize_is_junk(norm)) {
        *reason = "junk identifier";
        ok = false;
    }
    if (!ok)
        return false;
    if (!join_identifier(kind, norm, out, outsize)) {
        *reason = "identifier too long";
        return false;
    }
    return true;
}

/* A scalar identifier value as text: strings as they are, integers printed. */
static const char *
scalar_text(json_t *v, char *buf, size_t size)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return NULL;
}

static void
warn_value(struct cdp_buf *warnings, const char *reason, const char *kind, const char *value)
{
    cdp_buf_printf(warnings, "%s '%.80s' ignored (%s)\n", reason, value, kind);
}

/* Normalises and adds one identifier, warning when it cannot be used. */
static void
take_identifier(struct cdp_event *ev, const char *kind, json_t *v, const char *country,
                struct cdp_buf *warnings)
{
    char buf[32], text[CDP_IDENTIFIER_MAX];
    const char *value = scalar_text(v, buf, sizeof buf), *reason;
    if (value == NULL) {
        if (v != NULL && !json_is_null(v))
            cdp_buf_printf(warnings, "%s is not a string: ignored\n", kind);
        return;
    }
    if (!cdp_identifier_normalize(kind, value, country, text, sizeof text, &reason)) {
        if (strcmp(reason, "empty identifier") != 0)
            warn_value(warnings, reason, kind, value);
        return;
    }
    const char *colon = strchr(text, ':');
    cdp_event_add_identifier(ev, kind, colon + 1, cdp_identifier_strength(text));
}

/* context.externalIds: [{"id": "...", "type": "crm_id"}, ...] -> "crm_id:..." */
static void
take_external_ids(struct cdp_event *ev, json_t *list, const char *country, struct cdp_buf *warnings)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *type = json_string_value(json_object_get(item, "type"));
        char kind[32];
        size_t n = 0;
        if (type == NULL)
            continue;
        for (; type[n] && n < sizeof kind - 1; n++) {
            unsigned char c = (unsigned char)type[n];
            kind[n] = isalnum(c) || c == '_' || c == '-' ? (char)tolower(c) : '_';
        }
        kind[n] = '\0';
        if (n == 0)
            continue;
        if (strcmp(kind, "userid") == 0 || strcmp(kind, "user_id") == 0)
            strcpy(kind, "user");
        else if (strcmp(kind, "anonymousid") == 0 || strcmp(kind, "anonymous_id") == 0)
            strcpy(kind, "anon");
        take_identifier(ev, kind, json_object_get(item, "id"), country, warnings);
    }
}

static bool
read_time(json_t *v, const struct cdp_event_options *options, int64_t *ms)
{
    if (json_is_integer(v)) {
        char text[32];
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return cdp_time_parse(text, strlen(text), ms);
    }
    if (json_is_real(v)) {
        char text[48];
        snprintf(text, sizeof text, "%.3f", json_real_value(v));
        return cdp_time_parse(text, strlen(text), ms);
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (options->date_format && cdp_time_parse_format(s, len, options->date_format, ms))
        return true;
    return cdp_time_parse(s, len, ms);
}

static enum cdp_event_type
parse_type(const char *s)
{
    for (int t = CDP_EVENT_IDENTIFY; t <= CDP_EVENT_ALIAS; t++)
        if (strcmp(s, type_names[t]) == 0)
            return (enum cdp_event_type)t;
    return 0;
}

enum cdp_event_status
cdp_event_read(struct cdp_event *ev, json_t *root, const struct cdp_event_options *options,
               int64_t now, struct cdp_buf *warnings, char *reason, size_t reasonsize)
{
    static const char *const time_fields[] = {"timestamp", "originalTimestamp", "sentAt",
                                              "receivedAt"};
    memset(ev, 0, sizeof *ev);
    ev->name = "";
    if (!json_is_object(root)) {
        snprintf(reason, reasonsize, "not a JSON object");
        return CDP_EVENT_NOT_OBJECT;
    }
    json_t *type = json_object_get(root, "type");
    if (type == NULL) {
        snprintf(reason, reasonsize, "no \"type\" field");
        return CDP_EVENT_NO_TYPE;
    }
    if (!json_is_string(type) || (ev->type = parse_type(json_string_value(type))) == 0) {
        char *text = json_dumps(type, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(reason, reasonsize, "unknown type %.60s", text ? text : "?");
        free(text);
        return CDP_EVENT_UNKNOWN_TYPE;
    }

    ev->time = now;
    ev->time_from_import = true;
    if (options->replay) {
        ev->time = options->replay_time;
        ev->time_from_import = options->replay_untimed;
    }
    for (size_t i = 0; i < sizeof time_fields / sizeof time_fields[0] && !options->replay; i++) {
        json_t *v = json_object_get(root, time_fields[i]);
        if (v == NULL || json_is_null(v))
            continue;
        if (!read_time(v, options, &ev->time)) {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            snprintf(reason, reasonsize, "unparseable %s %.60s", time_fields[i], text ? text : "?");
            free(text);
            return CDP_EVENT_BAD_TIMESTAMP;
        }
        ev->time_from_import = false;
        break;
    }

    json_t *context = json_object_get(root, "context");
    ev->merge = json_is_object(json_object_get(context, "merge")) ? json_object_get(context, "merge")
                                                                  : NULL;
    ev->context_traits = json_object_get(context, "traits");
    if (ev->context_traits != NULL && !json_is_object(ev->context_traits))
        ev->context_traits = NULL;
    if (ev->type == CDP_EVENT_IDENTIFY || ev->type == CDP_EVENT_GROUP) {
        ev->traits = json_object_get(root, "traits");
        if (ev->traits != NULL && !json_is_object(ev->traits)) {
            snprintf(reason, reasonsize, "\"traits\" is not an object");
            return CDP_EVENT_BAD_FIELD;
        }
    } else {
        ev->properties = json_object_get(root, "properties");
        if (ev->properties != NULL && !json_is_object(ev->properties)) {
            snprintf(reason, reasonsize, "\"properties\" is not an object");
            return CDP_EVENT_BAD_FIELD;
        }
    }
    if (ev->type == CDP_EVENT_TRACK) {
        json_t *name = json_object_get(root, "event");
        if (!json_is_string(name) || json_string_length(name) == 0) {
            snprintf(reason, reasonsize, "track without an \"event\" name");
            return CDP_EVENT_BAD_FIELD;
        }
        ev->name = json_string_value(name);
    } else if (ev->type == CDP_EVENT_PAGE || ev->type == CDP_EVENT_SCREEN) {
        const char *name = json_string_value(json_object_get(root, "name"));
        ev->name = name ? name : "";
    }

    /* Identifiers, strongest first in the order they are read. */
    const char *country = options->country;
    take_identifier(ev, "user", json_object_get(root, "userId"), country, warnings);
    json_t *sources[] = {ev->traits, ev->context_traits,
                         ev->type == CDP_EVENT_GROUP ? NULL : ev->properties};
    for (size_t i = 0; i < 3; i++) {
        if (sources[i] == NULL || (i == 0 && ev->type == CDP_EVENT_GROUP))
            continue;
        take_identifier(ev, "email", json_object_get(sources[i], "email"), country, warnings);
        take_identifier(ev, "phone", json_object_get(sources[i], "phone"), country, warnings);
    }
    take_external_ids(ev, json_object_get(context, "externalIds"), country, warnings);
    take_identifier(ev, "anon", json_object_get(root, "anonymousId"), country, warnings);
    if (ev->type == CDP_EVENT_ALIAS) {
        char buf[32], text[CDP_IDENTIFIER_MAX];
        const char *prev = scalar_text(json_object_get(root, "previousId"), buf, sizeof buf), *why;
        if (prev == NULL ||
            !cdp_identifier_normalize("anon", prev, NULL, text, sizeof text, &why)) {
            snprintf(reason, reasonsize, "alias without a usable \"previousId\"");
            return CDP_EVENT_BAD_FIELD;
        }
        ev->previous_id = json_string_value(json_object_get(root, "previousId"));
    }
    if (ev->identifiers_count == 0 && ev->previous_id == NULL) {
        snprintf(reason, reasonsize, "no identifier (userId, anonymousId, e-mail or phone)");
        return CDP_EVENT_NO_IDENTIFIER;
    }

    json_t *mid = json_object_get(root, "messageId");
    char mbuf[32];
    const char *message = scalar_text(mid, mbuf, sizeof mbuf);
    if (message != NULL && message[0] != '\0') {
        if (message == mbuf) {
            snprintf(ev->message_buf, sizeof ev->message_buf, "%s", mbuf);
            message = ev->message_buf;
        }
        ev->message_id = message;
    } else {
        /* No messageId: name the event by its content, so a re-import finds it again. */
        char *canonical = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
        struct cdp_id h = cdp_hash_string(canonical ? canonical : "");
        char hex[CDP_ID_HEX_SIZE];
        free(canonical);
        cdp_hash_to_hex(&h, hex);
        snprintf(ev->message_buf, sizeof ev->message_buf, "cdp-%s", hex);
        ev->message_id = ev->message_buf;
        ev->message_generated = true;
    }
    ev->message = cdp_hash_string(ev->message_id);
    return CDP_EVENT_OK;
}
