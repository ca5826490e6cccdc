/*
 * computed.c - the mapping from event names to computed traits.
 */
#include "computed.h"
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mapping {
    char *name;
    enum cdp_counter counter;
};

struct cdp_counter_map {
    struct mapping *items;
    size_t count;
};

static const struct {
    const char *name;
    enum cdp_counter counter;
} defaults[] = {
    {"Order Completed", CDP_COUNTER_ORDER},
    {"Order Refunded", CDP_COUNTER_REFUND},
    {"Checkout Started", CDP_COUNTER_CHECKOUT},
    {"Email Opened", CDP_COUNTER_EMAIL_OPENS},
    {"Email Link Clicked", CDP_COUNTER_EMAIL_CLICKS},
    {"File Downloaded", CDP_COUNTER_DOWNLOADS},
    {"Download Completed", CDP_COUNTER_DOWNLOADS},
    {"Support Ticket Created", CDP_COUNTER_SUPPORT_CONTACTS},
    {"Support Contacted", CDP_COUNTER_SUPPORT_CONTACTS},
    {"Live Chat Started", CDP_COUNTER_SUPPORT_CONTACTS},
    {"Support Call Made", CDP_COUNTER_SUPPORT_CONTACTS},
};

static const struct {
    const char *name;
    enum cdp_counter counter;
} counter_names[] = {
    {"email_opens", CDP_COUNTER_EMAIL_OPENS},
    {"email_clicks", CDP_COUNTER_EMAIL_CLICKS},
    {"downloads", CDP_COUNTER_DOWNLOADS},
    {"support_contacts", CDP_COUNTER_SUPPORT_CONTACTS},
    {"orders", CDP_COUNTER_ORDER},
    {"returns", CDP_COUNTER_REFUND},
    {"checkouts", CDP_COUNTER_CHECKOUT},
};

const char cdp_computed_counter_names[] =
    "email_opens, email_clicks, downloads, support_contacts, orders, returns, checkouts";

static void
map_set(struct cdp_counter_map *map, const char *name, enum cdp_counter counter)
{
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->items[i].name, name) == 0) {
            map->items[i].counter = counter;
            return;
        }
    }
    map->items = cdp_xrealloc(map->items, (map->count + 1) * sizeof *map->items);
    map->items[map->count].name = cdp_xstrdup(name);
    map->items[map->count++].counter = counter;
}

struct cdp_counter_map *
cdp_computed_map_new(void)
{
    struct cdp_counter_map *map = cdp_xcalloc(1, sizeof *map);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        map_set(map, defaults[i].name, defaults[i].counter);
    return map;
}

void
cdp_computed_map_free(struct cdp_counter_map *map)
{
    if (map == NULL)
        return;
    for (size_t i = 0; i < map->count; i++)
        free(map->items[i].name);
    free(map->items);
    free(map);
}

bool
cdp_computed_map_add(struct cdp_counter_map *map, const char *spec, char *errbuf, size_t errsize)
{
    const char *eq = strrchr(spec, '=');
    if (eq == NULL || eq == spec || eq[1] == '\0') {
        snprintf(errbuf, errsize, "--count wants 'Event Name=counter', not '%s'", spec);
        return false;
    }
    for (size_t i = 0; i < sizeof counter_names / sizeof counter_names[0]; i++) {
        if (strcmp(eq + 1, counter_names[i].name) == 0) {
            char *name = cdp_xmalloc((size_t)(eq - spec) + 1);
            memcpy(name, spec, (size_t)(eq - spec));
            name[eq - spec] = '\0';
            map_set(map, name, counter_names[i].counter);
            free(name);
            return true;
        }
    }
    snprintf(errbuf, errsize, "unknown counter '%s' (one of: %s)", eq + 1,
             cdp_computed_counter_names);
    return false;
}

enum cdp_counter
cdp_computed_classify(const struct cdp_counter_map *map, const char *name)
{
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->items[i].name, name) == 0)
            return map->items[i].counter;
    return CDP_COUNTER_NONE;
}

void
cdp_computed_count(struct cdp_profile_head *head, enum cdp_counter counter)
{
    switch (counter) {
    case CDP_COUNTER_EMAIL_OPENS:
        head->email_opens++;
        break;
    case CDP_COUNTER_EMAIL_CLICKS:
        head->email_clicks++;
        break;
    case CDP_COUNTER_DOWNLOADS:
        head->downloads++;
        break;
    case CDP_COUNTER_SUPPORT_CONTACTS:
        head->support_contacts++;
        break;
    default:
        break;
    }
}

void
cdp_computed_sessions(const int64_t *times, size_t n, uint32_t *visits, int64_t *time_ms)
{
    *visits = n > 0;
    *time_ms = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t gap = times[i] - times[i - 1];
        if (gap > CDP_SESSION_GAP_MS)
            (*visits)++;
        else
            *time_ms += gap;
    }
}

uint32_t
cdp_computed_abandoned(const int64_t *checkouts, size_t ncheckouts, const int64_t *orders,
                       size_t norders)
{
    uint32_t abandoned = 0;
    size_t j = 0;
    for (size_t i = 0; i < ncheckouts; i++) {
        while (j < norders && orders[j] < checkouts[i])
            j++;
        if (j == norders || orders[j] > checkouts[i] + CDP_ABANDON_WINDOW_MS)
            abandoned++;
    }
    return abandoned;
}
