/*
 * cdp-gen - deterministic generator of synthetic customer data.
 *
 * Usage:
 *   cdp-gen [--events N] [--people N] [--seed S]
 *           [--format ndjson|crm-csv|orders-csv|purchases-csv|people-csv]
 *           [--start ISODATE] [--days D]
 *
 * Output goes to stdout. The same arguments always give byte-identical
 * output: every random choice comes from the xoshiro256** generators
 * below (seeded with splitmix64), never from rand() or the clock.
 *
 *   ndjson      Segment-spec events (page, screen, track, identify, alias,
 *               group) as a server-side analytics-node library sends them,
 *               one JSON object per line (about 700 bytes on average),
 *               in time order except for about 2% late arrivals, which
 *               come minutes to hours after their timestamp (their sentAt
 *               tells when). Timestamps lie in [--start, --start + --days),
 *               but for a handful that spill a few hours past the end.
 *   crm-csv     the CRM's export of the same people (';'-delimited, French
 *               header, dd/mm/yyyy dates, "oui"/"non" opt-in).
 *   orders-csv  the shop's export of the orders (comma-delimited).
 *   people-csv  person records with duplicates made by corrupting copies,
 *               for cdp-merge's benchmark (see "People" below).
 *   purchases-csv  customer,date,amount: the purchases of --people
 *               customers drawn from the models cdp-predict fits, for its
 *               benchmark (see "Purchases" below; --events is ignored).
 *
 * How the three formats agree
 * ---------------------------
 * 1. The population is built first, the same way for every format. Person i
 *    draws all its attributes (names, e-mail, phone, city, devices, flags,
 *    activity weight) from a private PRNG seeded with (seed, i), and e-mail
 *    and phone uniqueness is enforced by visiting people in index order.
 *    It depends only on --seed and --people (creation dates also on
 *    --start and --days), so crm-csv lists the very people the events talk
 *    about: same canonical e-mail and phone number, each source writing
 *    them with its own noise (case, spaces, phone formats). Give crm-csv
 *    the same --people, or the same --events if --people is left to its
 *    default. About 90% of people are in the CRM, 2% of them twice.
 * 2. The event simulation uses another PRNG stream seeded from --seed and
 *    also depends on --events, --start and --days. orders-csv runs exactly
 *    the same simulation (every event is rendered as in ndjson, then thrown
 *    away) and prints the shop's record of each completed order instead.
 *    So orders-csv must get the same --events/--people/--seed/--start/--days
 *    as the ndjson file it should match. About 6% of shop orders have no
 *    Order Completed event (tracking lost in the browser) and about 1% of
 *    tracked orders are test orders missing from the shop export.
 *
 * The people
 * ----------
 * Each person has 1-4 devices (desktop or mobile browser, sometimes the
 * mobile app, which sends screen instead of page), each with its own
 * anonymousId. A device's events carry only the anonymousId until the
 * person logs in there (identify, rarely preceded by alias); after that
 * they carry userId and anonymousId. A quarter of the people never log
 * in: they check out as guests (the e-mail typed at checkout is in
 * context.traits.email) and a few subscribe to the newsletter (an
 * identify with anonymousId and traits.email only). E-mail events come
 * from the mailing tool with a userId only. Activity is heavy-tailed
 * (8% of people have no events at all: they exist only in the CRM) and
 * grouped in sessions of page views minutes apart, sessions days apart.
 *
 * Purchases
 * ---------
 * purchases-csv simulates the BG/NBD and Gamma-Gamma models with known
 * parameters, so that a fit can be checked against them: customer i
 * makes a first purchase on a day uniform in the first half of the period;
 * while active, buys at a rate lambda ~ Gamma(shape 0.25, rate 10 per day)
 * and after each repeat purchase drops out with probability p ~ Beta(0.8,
 * 2.5);
 * each purchase is worth Gamma(shape 6, rate nu) with nu ~ Gamma(shape
 * 3.75, rate 15) per customer.  The rows come customer by customer, in
 * time order, amounts in cents.  Customer i's draws come from its own
 * generator seeded with (seed, i).
 *
 * People
 * ------
 * people-csv writes rec_id,given_name,surname,street_number,address,city,
 * postcode,date_of_birth,phone for --people persons, with ids as in the
 * Febrl data sets: rec-N-org for a person's original record and
 * rec-N-dup-K for its copies. A tenth of the surnames come from a list of
 * common ones, the others are made of syllables; postcodes are the city's
 * or another of its department's. A quarter of the persons have one to
 * three copies, each with one to three corruptions: a typo (a letter
 * changed, dropped, doubled or swapped with the next), a name in capitals
 * or without accents, a field missing, digits of the birth date or
 * postcode changed or swapped, another street number. Persons come in a
 * random order, each original followed by its copies.
 *
 * Defaults: --events 10000, --people events/20, --seed 1,
 * --start 2025-01-01, --days 365.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MS_PER_DAY 86400000LL

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64 for seeding and hashing, xoshiro256** for streams */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A bijection on 64-bit integers (the splitmix64 finalizer). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A bijection on 32-bit integers. */
static uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bU;
    h ^= h >> 13;
    h *= 0xc2b2ae35U;
    h ^= h >> 16;
    return h;
}

typedef struct {
    uint64_t s[4];
} Rng;

static void rng_seed(Rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(Rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform integer in [0, n). */
static inline uint32_t rng_below(Rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform double in [0, 1). */
static inline double rng_unit(Rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static inline int rng_chance(Rng *r, double p)
{
    return rng_unit(r) < p;
}

/* Uniform integer in [lo, hi]. */
static inline int64_t rng_range(Rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_unit(r) * (double)(hi - lo + 1));
}

static double rng_exp(Rng *r, double mean)
{
    return -mean * log(1.0 - rng_unit(r));
}

static double rng_gauss(Rng *r)
{
    double u = 1.0 - rng_unit(r), v = rng_unit(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Gamma(shape, 1) by Marsaglia and Tsang's method (boosted below shape 1). */
static double rng_gamma(Rng *r, double shape)
{
    if (shape < 1) {
        double u = rng_unit(r);
        return rng_gamma(r, shape + 1) * pow(u > 0 ? u : 0x1.0p-53, 1 / shape);
    }
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = rng_gauss(r), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = rng_unit(r);
        if (u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)))
            return d * v;
    }
}

/* Index drawn with probability proportional to w[i]. */
static int rng_pick(Rng *r, const uint16_t *w, int n)
{
    uint32_t total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    uint32_t x = rng_below(r, total);
    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return mix64(h) | 1;
}

/* ------------------------------------------------------------------ */
/* Output buffering                                                   */

static char *out_buf;
static size_t out_len;
#define OUT_CAP (4u << 20)

static void out_flush(void)
{
    if (out_len && fwrite(out_buf, 1, out_len, stdout) != out_len) {
        if (errno != EPIPE)
            perror("cdp-gen: write");
        exit(1);
    }
    out_len = 0;
}

static void out_write(const char *s, size_t n)
{
    if (out_len + n > OUT_CAP)
        out_flush();
    memcpy(out_buf + out_len, s, n);
    out_len += n;
}

/* ------------------------------------------------------------------ */
/* Text helpers. They write at w and return the new end.              */

#define PL(w, lit) (memcpy((w), (lit), sizeof(lit) - 1), (w) += sizeof(lit) - 1)

static inline char *put_s(char *w, const char *s)
{
    size_t n = strlen(s);
    memcpy(w, s, n);
    return w + n;
}

/* JSON string body, escaped, without the quotes. */
static char *put_jesc(char *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (char)c;
        } else if (c < 0x20) {
            PL(w, "\\u00");
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        } else {
            *w++ = (char)c;
        }
    }
    return w;
}

static char *put_js(char *w, const char *s)
{
    *w++ = '"';
    w = put_jesc(w, s);
    *w++ = '"';
    return w;
}

static char *put_u(char *w, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *w++ = tmp[--n];
    return w;
}

static char *put_uz(char *w, uint64_t v, int width)
{
    char *end = w + width;
    for (char *q = end - 1; q >= w; q--) {
        *q = (char)('0' + v % 10);
        v /= 10;
    }
    return end;
}

/* An amount in cents as a number with two decimals: 1990 -> 19.90 */
static char *put_money(char *w, int64_t cents)
{
    if (cents < 0) {
        *w++ = '-';
        cents = -cents;
    }
    w = put_u(w, (uint64_t)(cents / 100));
    *w++ = '.';
    return put_uz(w, (uint64_t)(cents % 100), 2);
}

static char *put_hex(char *w, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--)
        *w++ = hex[(v >> (4 * i)) & 15];
    return w;
}

/* UUID version 4 layout; every bit of hi is kept, so distinct hi values
 * give distinct strings. */
static char *put_uuid(char *w, uint64_t hi, uint64_t lo)
{
    w = put_hex(w, hi >> 32, 8);
    *w++ = '-';
    w = put_hex(w, (hi >> 16) & 0xffff, 4);
    *w++ = '-';
    *w++ = '4';
    w = put_hex(w, (hi >> 4) & 0xfff, 3);
    *w++ = '-';
    w = put_hex(w, 8 | (lo & 3), 1);
    w = put_hex(w, ((hi & 15) << 8) | ((lo >> 2) & 0xff), 3);
    *w++ = '-';
    return put_hex(w, lo >> 16, 12);
}

static char *put_ip(char *w, uint32_t ip)
{
    w = put_u(w, ip >> 24);
    *w++ = '.';
    w = put_u(w, (ip >> 16) & 255);
    *w++ = '.';
    w = put_u(w, (ip >> 8) & 255);
    *w++ = '.';
    return put_u(w, ip & 255);
}

/* Writes a CSV field, quoted when it needs to be. */
static char *put_csv(char *w, const char *s, size_t n, char delim)
{
    int quote = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        if (s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            quote = 1;
    if (!quote) {
        memcpy(w, s, n);
        return w + n;
    }
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *w++ = '"';
        *w++ = s[i];
    }
    *w++ = '"';
    return w;
}

/* ------------------------------------------------------------------ */
/* Calendar                                                           */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ISO 8601 in UTC: 2025-03-14T09:26:53.123Z (or without milliseconds). */
static char *put_ts(char *w, int64_t ms, int with_ms)
{
    static int64_t cached_day = INT64_MIN;
    static char day_str[10];
    int64_t day = floor_div(ms, MS_PER_DAY);
    int64_t rem = ms - day * MS_PER_DAY;
    if (day != cached_day) {
        int y, m, d;
        civil_from_days(day, &y, &m, &d);
        char *q = put_uz(day_str, (uint64_t)y, 4);
        *q++ = '-';
        q = put_uz(q, (uint64_t)m, 2);
        *q++ = '-';
        put_uz(q, (uint64_t)d, 2);
        cached_day = day;
    }
    memcpy(w, day_str, 10);
    w += 10;
    *w++ = 'T';
    w = put_uz(w, (uint64_t)(rem / 3600000), 2);
    *w++ = ':';
    w = put_uz(w, (uint64_t)(rem / 60000 % 60), 2);
    *w++ = ':';
    w = put_uz(w, (uint64_t)(rem / 1000 % 60), 2);
    if (with_ms) {
        *w++ = '.';
        w = put_uz(w, (uint64_t)(rem % 1000), 3);
    }
    *w++ = 'Z';
    return w;
}

/* dd/mm/yyyy */
static char *put_date_fr(char *w, int64_t ms)
{
    int y, m, d;
    civil_from_days(floor_div(ms, MS_PER_DAY), &y, &m, &d);
    w = put_uz(w, (uint64_t)d, 2);
    *w++ = '/';
    w = put_uz(w, (uint64_t)m, 2);
    *w++ = '/';
    return put_uz(w, (uint64_t)y, 4);
}

/* ------------------------------------------------------------------ */
/* Latin-1 range UTF-8 folding: "Lefèbvre" -> "lefebvre"              */

static const char fold_upper[] = "aaaaaaaceeeeiiiidnoooooxouuuuyts";
static const char fold_lower[] = "aaaaaaaceeeeiiiidnoooooxouuuuyty";

/* Lower-case ASCII letters and digits of s; drops spaces and apostrophes,
 * turns other punctuation into sep (0 to drop it too). */
static void fold_ascii(char *dst, size_t cap, const char *s, char sep)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n + 1 < cap) {
        unsigned char c = *p++;
        char o = 0;
        if (c == 0xc3 && *p >= 0x80 && *p <= 0xbf) {
            unsigned char b = *p++;
            o = b < 0xa0 ? fold_upper[b - 0x80] : fold_lower[b - 0xa0];
        } else if (c >= 0x80) {
            while ((*p & 0xc0) == 0x80)
                p++;
            o = sep;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            o = (char)c;
        } else if (c >= 'A' && c <= 'Z') {
            o = (char)(c + 32);
        } else if (c == ' ' || c == '\'') {
            o = sep == '-' ? '-' : 0;
        } else {
            o = sep;
        }
        if (o == '-' && (n == 0 || dst[n - 1] == '-'))
            o = 0;
        if (o)
            dst[n++] = o;
    }
    while (n && dst[n - 1] == '-')
        n--;
    dst[n] = 0;
}

/* Upper-case copy of a UTF-8 string (ASCII and Latin-1 letters). */
static char *put_upper(char *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p++;
        if (c >= 'a' && c <= 'z') {
            *w++ = (char)(c - 32);
        } else if (c == 0xc3 && *p >= 0xa0 && *p <= 0xbe && *p != 0xb7) {
            *w++ = (char)c;
            *w++ = (char)(*p++ - 0x20);
        } else {
            *w++ = (char)c;
        }
    }
    return w;
}

static char *put_lower(char *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p++;
        if (c >= 'A' && c <= 'Z') {
            *w++ = (char)(c + 32);
        } else if (c == 0xc3 && *p >= 0x80 && *p <= 0x9e && *p != 0x97) {
            *w++ = (char)c;
            *w++ = (char)(*p++ + 0x20);
        } else {
            *w++ = (char)c;
        }
    }
    return w;
}

/* ------------------------------------------------------------------ */
/* Reference data                                                     */

static const char *const first_names[] = {
    "Inès", "André", "Chloé", "Léa", "Hélène", "Zoé", "Noé", "Gaëlle",
    "Anaïs", "Maëlys", "Jérôme", "Stéphane", "Frédéric", "Céline", "Émilie",
    "Élodie", "Théo", "Mathéo", "Raphaël", "Maël", "Loïc", "Jean-François",
    "François", "Françoise", "Agnès", "Benoît", "Clémence", "Léon", "Noémie",
    "Aïcha", "Jean", "Marie", "Pierre", "Camille", "Lucas", "Louis", "Emma",
    "Jade", "Hugo", "Arthur", "Manon", "Thomas", "Nicolas", "Julien",
    "Sophie", "Nathalie", "Isabelle", "Sandrine", "Philippe", "Michel",
    "Alain", "Christophe", "Laurent", "Sébastien", "Aurélie", "Fatima",
    "Mohamed", "Karim", "Yasmine", "Nour", "Mamadou", "Jürgen", "Anne-Sophie",
    "Marc", "Valérie", "Sylvie", "Olivier", "Antoine", "Juliette", "Alice",
    "Gabriel", "Rose", "Adèle", "Margaux", "Océane", "Grégoire", "Ophélie",
    "Côme", "Bérénice", "Léna", "Chantal", "Mélanie", "Cécile", "Rémi",
    "Jérémy", "Pauline", "Lucie", "Maxime", "Quentin", "Amélie",
};

static const char *const last_names[] = {
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
    "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèbvre", "Lefebvre",
    "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure",
    "Rousseau", "Blanc", "Guérin", "Müller", "Henry", "Roussel", "Nicolas",
    "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez",
    "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen",
    "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche",
    "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand",
    "Dufour", "Blanchard", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt",
    "Leroux", "Colin", "Fernandez", "Renard", "Arnaud", "Rolland", "Caron",
    "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine",
    "Picard", "Gaillard", "Lacroix", "Fabre", "Dupuis", "Olivier", "Da Silva",
    "Hubert", "Guillot", "Rivière", "Le Gall", "Guillaume", "Berger",
    "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier", "Benoît",
    "Maillard", "Aubry", "Le Roux", "Prévost", "Poirier", "Carré", "N'Diaye",
    "Haddad", "Benali", "Diallo", "Traoré", "Hoarau", "Kieffer", "Bréhat",
    "Châtelain", "Lévêque", "Daudé", "Zimmermann", "Besnard", "Cohen",
};

enum { C_FR, C_BE, C_CH };
static const char *const country_code[] = { "FR", "BE", "CH" };
static const char *const country_locale[] = { "fr-FR", "fr-BE", "fr-CH" };

typedef struct {
    const char *name;
    int postal;
    int nposts; /* consecutive codes (arrondissements) */
    uint16_t weight;
    uint8_t country;
} City;

static const City cities[] = {
    { "Paris", 75001, 20, 120, C_FR },
    { "Marseille", 13001, 16, 40, C_FR },
    { "Lyon", 69001, 9, 35, C_FR },
    { "Toulouse", 31000, 1, 20, C_FR },
    { "Nice", 6000, 1, 15, C_FR },
    { "Nantes", 44000, 1, 15, C_FR },
    { "Montpellier", 34000, 1, 14, C_FR },
    { "Strasbourg", 67000, 1, 14, C_FR },
    { "Bordeaux", 33000, 1, 15, C_FR },
    { "Lille", 59000, 1, 15, C_FR },
    { "Rennes", 35000, 1, 11, C_FR },
    { "Reims", 51100, 1, 8, C_FR },
    { "Saint-Étienne", 42000, 1, 8, C_FR },
    { "Le Havre", 76600, 1, 7, C_FR },
    { "Toulon", 83000, 1, 8, C_FR },
    { "Grenoble", 38000, 1, 8, C_FR },
    { "Dijon", 21000, 1, 7, C_FR },
    { "Angers", 49000, 1, 7, C_FR },
    { "Nîmes", 30000, 1, 7, C_FR },
    { "Villeurbanne", 69100, 1, 7, C_FR },
    { "Clermont-Ferrand", 63000, 1, 7, C_FR },
    { "Aix-en-Provence", 13090, 1, 7, C_FR },
    { "Le Mans", 72000, 1, 6, C_FR },
    { "Brest", 29200, 1, 6, C_FR },
    { "Tours", 37000, 1, 6, C_FR },
    { "Amiens", 80000, 1, 6, C_FR },
    { "Limoges", 87000, 1, 6, C_FR },
    { "Annecy", 74000, 1, 6, C_FR },
    { "Perpignan", 66000, 1, 5, C_FR },
    { "Metz", 57000, 1, 5, C_FR },
    { "Besançon", 25000, 1, 5, C_FR },
    { "Orléans", 45000, 1, 5, C_FR },
    { "Rouen", 76000, 1, 5, C_FR },
    { "Caen", 14000, 1, 5, C_FR },
    { "Mulhouse", 68100, 1, 5, C_FR },
    { "Nancy", 54000, 1, 5, C_FR },
    { "Argenteuil", 95100, 1, 4, C_FR },
    { "Montreuil", 93100, 1, 4, C_FR },
    { "Saint-Denis", 93200, 1, 4, C_FR },
    { "Roubaix", 59100, 1, 4, C_FR },
    { "Avignon", 84000, 1, 4, C_FR },
    { "Poitiers", 86000, 1, 4, C_FR },
    { "Pau", 64000, 1, 4, C_FR },
    { "La Rochelle", 17000, 1, 4, C_FR },
    { "Ajaccio", 20000, 1, 3, C_FR },
    { "Bayonne", 64100, 1, 3, C_FR },
    { "Vannes", 56000, 1, 3, C_FR },
    { "Chambéry", 73000, 1, 3, C_FR },
    { "Évry-Courcouronnes", 91000, 1, 3, C_FR },
    { "Boulogne-Billancourt", 92100, 1, 5, C_FR },
    { "Versailles", 78000, 1, 4, C_FR },
    { "Neuilly-sur-Seine", 92200, 1, 3, C_FR },
    { "Colmar", 68000, 1, 3, C_FR },
    { "Quimper", 29000, 1, 3, C_FR },
    { "Troyes", 10000, 1, 3, C_FR },
    { "Bourg-en-Bresse", 1000, 1, 2, C_FR },
    { "Gap", 5000, 1, 2, C_FR },
    { "Laon", 2000, 1, 1, C_FR },
    { "Cannes", 6400, 1, 4, C_FR },
    { "Antibes", 6600, 1, 3, C_FR },
    { "Bruxelles", 1000, 1, 6, C_BE },
    { "Liège", 4000, 1, 3, C_BE },
    { "Namur", 5000, 1, 2, C_BE },
    { "Gand", 9000, 1, 2, C_BE },
    { "Genève", 1201, 1, 5, C_CH },
    { "Lausanne", 1003, 1, 4, C_CH },
    { "Neuchâtel", 2000, 1, 2, C_CH },
    { "Fribourg", 1700, 1, 2, C_CH },
};

static const char *const domains[] = {
    "gmail.com", "orange.fr", "hotmail.fr", "yahoo.fr", "free.fr", "sfr.fr",
    "laposte.net", "outlook.fr", "hotmail.com", "wanadoo.fr", "icloud.com",
    "outlook.com", "live.fr", "bbox.fr", "neuf.fr", "protonmail.com",
};
static const uint16_t domain_w[] = {
    30, 12, 10, 6, 7, 4, 5, 5, 4, 4, 5, 3, 2, 2, 1, 1,
};

enum { K_DESKTOP, K_MOBILE, K_APP };

typedef struct {
    const char *ua;
    uint8_t kind;
    const char *dev_type, *maker, *model, *os, *os_version;
} Agent;

static const Agent agents[] = {
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", K_DESKTOP, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", K_DESKTOP, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", K_DESKTOP, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0", K_DESKTOP, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.85", K_DESKTOP, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", K_DESKTOP, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", K_DESKTOP, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", K_MOBILE, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", K_MOBILE, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36", K_MOBILE, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36", K_MOBILE, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.179 Mobile Safari/537.36", K_MOBILE, 0, 0, 0, 0, 0 },
    { "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", K_MOBILE, 0, 0, 0, 0, 0 },
    { "MaisonOrme/3.4.1 (iPhone; iOS 17.5; Scale/3.00)", K_APP, "ios", "Apple", "iPhone15,2", "iOS", "17.5" },
    { "MaisonOrme/3.4.0 (Linux; Android 14; SM-A546B)", K_APP, "android", "samsung", "SM-A546B", "Android", "14" },
};
#define N_DESKTOP 7
#define N_MOBILE 6
#define FIRST_MOBILE 7
#define FIRST_APP 13

static const uint8_t isp_fixed[] = { 90, 86, 92, 2, 78, 88, 82, 81, 83, 80, 77, 109, 176 };
static const uint8_t isp_mobile[] = { 37, 176, 92, 109, 80, 46 };

static const char *const categories[] = {
    "Vêtements", "Chaussures", "Accessoires", "Maison", "Beauté",
    "Épicerie fine", "Enfant",
};
static const char *const cat_code[] = { "VET", "CHA", "ACC", "MAI", "BEA", "EPI", "ENF" };

typedef struct {
    const char *name;
    uint8_t cat;
    int price; /* cents, VAT included */
    char slug[64], pid[25], sku[12];
} Product;

static Product products[] = {
    { "Pull en laine mérinos", 0, 7900, "", "", "" },
    { "Chemise en lin blanche", 0, 5900, "", "", "" },
    { "Robe portefeuille fleurie", 0, 6900, "", "", "" },
    { "Jean droit brut", 0, 8900, "", "", "" },
    { "Trench beige imperméable", 0, 18900, "", "", "" },
    { "T-shirt coton bio rayé", 0, 2490, "", "", "" },
    { "Cardigan côtelé écru", 0, 6490, "", "", "" },
    { "Marinière « Saint-Malo »", 0, 4500, "", "", "" },
    { "Doudoune légère sans manches", 0, 9900, "", "", "" },
    { "Baskets en cuir blanc", 1, 11900, "", "", "" },
    { "Bottines Chelsea en daim", 1, 14900, "", "", "" },
    { "Espadrilles tressées", 1, 3490, "", "", "" },
    { "Mocassins en cuir grainé", 1, 12900, "", "", "" },
    { "Sandales à brides", 1, 5990, "", "", "" },
    { "Sac cabas en toile", 2, 3900, "", "", "" },
    { "Ceinture en cuir tressé", 2, 4500, "", "", "" },
    { "Écharpe en cachemire", 2, 8900, "", "", "" },
    { "Bonnet côtelé", 2, 2500, "", "", "" },
    { "Lunettes de soleil écaille", 2, 6900, "", "", "" },
    { "Portefeuille zippé", 2, 4900, "", "", "" },
    { "Montre bracelet acier", 2, 15900, "", "", "" },
    { "Bougie parfumée figue", 3, 2800, "", "", "" },
    { "Plaid en laine d'Écosse", 3, 7900, "", "", "" },
    { "Linge de lit en lin lavé", 3, 12900, "", "", "" },
    { "Vase en grès émaillé", 3, 3400, "", "", "" },
    { "Tasse en céramique artisanale", 3, 1800, "", "", "" },
    { "Coussin velours 45×45", 3, 2900, "", "", "" },
    { "Diffuseur d'huiles essentielles", 3, 3990, "", "", "" },
    { "Crème mains karité", 4, 1250, "", "", "" },
    { "Savon de Marseille à l'huile d'olive", 4, 490, "", "", "" },
    { "Eau de toilette néroli 100 ml", 4, 5900, "", "", "" },
    { "Sérum visage acide hyaluronique", 4, 3290, "", "", "" },
    { "Baume à lèvres au miel", 4, 790, "", "", "" },
    { "Huile sèche corps & cheveux", 4, 2650, "", "", "" },
    { "Coffret thés du monde", 5, 3200, "", "", "" },
    { "Miel de lavande 250 g", 5, 1100, "", "", "" },
    { "Confiture abricot-romarin", 5, 690, "", "", "" },
    { "Café en grains Éthiopie 1 kg", 5, 2890, "", "", "" },
    { "Chocolat noir 70 % Madagascar", 5, 590, "", "", "" },
    { "Huile d'olive vierge extra 50 cl", 5, 1590, "", "", "" },
    { "Calissons d'Aix (boîte de 12)", 5, 1490, "", "", "" },
    { "Body coton bio (lot de 3)", 6, 2990, "", "", "" },
    { "Peluche lapin", 6, 2490, "", "", "" },
    { "Pyjama étoiles", 6, 2790, "", "", "" },
    { "Jeu de construction en bois", 6, 3990, "", "", "" },
    { "Gigoteuse hiver 2,5 TOG", 6, 4490, "", "", "" },
};
#define NPROD ((int)NELEM(products))
static char cat_slug[NELEM(categories)][32];

static const char *const search_terms[] = {
    "pull", "robe lin", "baskets blanches", "bougie", "cadeau fête des mères",
    "miel", "écharpe", "sac", "pyjama enfant", "chemise", "café",
};

static const char *const blog_slugs[] = {
    "comment-entretenir-le-lin", "idees-cadeaux-noel", "notre-atelier-a-lyon",
    "guide-des-tailles", "recette-madeleines-au-miel",
};
static const char *const blog_titles[] = {
    "Comment entretenir le lin", "Nos idées cadeaux pour Noël",
    "Dans notre atelier à Lyon", "Le guide des tailles",
    "La recette des madeleines au miel",
};

static const char *const help_slugs[] = { "livraison", "retours", "paiement" };
static const char *const help_titles[] = {
    "Livraison et délais", "Retours et remboursements", "Paiement sécurisé",
};

typedef struct {
    const char *name, *slug, *subject, *id;
} Campaign;

static const Campaign campaigns[] = {
    { "Soldes d'hiver", "soldes-hiver", "Les soldes commencent : jusqu'à -50 %", "cmp_2401" },
    { "Nouvelle collection printemps", "collection-printemps", "Découvrez la collection printemps", "cmp_2402" },
    { "Newsletter hebdo", "newsletter-hebdo", "Les nouveautés de la semaine", "cmp_2403" },
    { "Panier abandonné", "panier-abandonne", "Vous avez oublié quelque chose ?", "cmp_2404" },
    { "Black Friday", "black-friday", "Black Friday : -30 % sur tout le site", "cmp_2405" },
    { "Fête des mères", "fete-des-meres", "Idées cadeaux pour la fête des mères", "cmp_2406" },
};

typedef struct {
    const char *url;
    uint16_t weight;
} Referrer;

static const Referrer referrers[] = {
    { "https://www.google.com/", 40 }, { "https://www.google.fr/", 15 },
    { "", 20 }, { "https://www.instagram.com/", 6 },
    { "https://www.facebook.com/", 6 }, { "https://www.bing.com/", 4 },
    { "https://duckduckgo.com/", 3 }, { "https://www.pinterest.fr/", 3 },
    { "https://www.qwant.com/", 3 },
};
static uint16_t referrer_w[NELEM(referrers)];

static const char *const plans[] = { "free", "premium", "vip" };
static const char *const payment_methods[] = {
    "credit_card", "paypal", "apple_pay", "google_pay", "bank_transfer", "gift_card",
};
static const uint16_t payment_w[] = { 55, 22, 10, 5, 4, 4 };

typedef struct {
    const char *name, *industry;
    int employees;
} Company;

static const Company companies[] = {
    { "Boulangerie Martin", "Food & Beverage", 8 },
    { "Atelier Dubois SARL", "Manufacturing", 14 },
    { "Cabinet Leroy & Associés", "Legal Services", 23 },
    { "Café des Arts", "Hospitality", 6 },
    { "Fleurs de Provence SAS", "Retail", 11 },
    { "Hôtel du Port", "Hospitality", 31 },
    { "Pharmacie Centrale", "Healthcare", 9 },
};

#define SITE "https://maison-orme.example"
#define SHOP_NAME "Maison Orme"

/* ------------------------------------------------------------------ */
/* People                                                             */

typedef struct {
    uint64_t anon_hi, anon_lo;
    uint32_t ip;
    int32_t skew; /* client clock skew, ms */
    uint8_t agent;
    uint8_t identified;
} Device;

enum {
    P_NONE, P_PRODUCT_VIEWED, P_EMAIL_CLICK, P_LANDING, P_LOGIN, P_IDENTIFY, P_GROUP,
    P_CHECKOUT, P_ORDER, P_CONFIRM,
};

typedef struct {
    /* identity, the same for every output format */
    char local[48];
    uint32_t uid;
    uint32_t phone;  /* national significant number, 9 digits */
    uint32_t postal;
    int64_t created; /* account / CRM record creation, ms */
    float weight;    /* share of the events */
    uint16_t first, last, city;
    uint8_t domain, country, has_phone, ndev, plan, optin, anon_only;
    uint8_t in_crm, crm_dup, company;
    Device dev[4];

    /* simulation state */
    int64_t t, t_end;
    uint32_t budget;
    uint32_t last_order, order_no;
    int32_t last_total;
    uint16_t nsess;
    int16_t sess_left, last_prod;
    uint8_t in_session, cur_dev, ncart, npend;
    uint8_t pend[6];
    uint8_t cart[3], qty[3];
    uint8_t prev_kind, prev_arg, campaign, coupon;
    uint8_t ever_identified, group_sent, newsletter_done;
    uint32_t sess_ip;
} Person;

static Person *people;
static uint32_t npeople;

typedef struct {
    uint64_t *slot;
    size_t mask;
} HSet;

static void hset_init(HSet *h, size_t want)
{
    size_t n = 64;
    while (n < want * 2)
        n <<= 1;
    h->slot = calloc(n, sizeof(uint64_t));
    if (!h->slot) {
        fprintf(stderr, "cdp-gen: out of memory\n");
        exit(1);
    }
    h->mask = n - 1;
}

/* 1 if key was added, 0 if it was there already. key must be non-zero. */
static int hset_add(HSet *h, uint64_t key)
{
    size_t i = (size_t)key & h->mask;
    while (h->slot[i]) {
        if (h->slot[i] == key)
            return 0;
        i = (i + 1) & h->mask;
    }
    h->slot[i] = key;
    return 1;
}

static int pick_city(Rng *r, int country)
{
    uint32_t total = 0;
    for (size_t i = 0; i < NELEM(cities); i++)
        if (cities[i].country == country)
            total += cities[i].weight;
    uint32_t x = rng_below(r, total);
    for (size_t i = 0; i < NELEM(cities); i++) {
        if (cities[i].country != country)
            continue;
        if (x < cities[i].weight)
            return (int)i;
        x -= cities[i].weight;
    }
    return 0;
}

static uint32_t random_ip(Rng *r, int mobile)
{
    uint32_t a = mobile ? isp_mobile[rng_below(r, NELEM(isp_mobile))]
                        : isp_fixed[rng_below(r, NELEM(isp_fixed))];
    return (a << 24) | (rng_below(r, 256) << 16) | (rng_below(r, 256) << 8) |
           (1 + rng_below(r, 254));
}

static void make_local(char *dst, size_t cap, const char *fa, const char *la,
                       int pattern, unsigned num)
{
    switch (pattern) {
    case 0: snprintf(dst, cap, "%s.%s", fa, la); break;
    case 1: snprintf(dst, cap, "%s%s", fa, la); break;
    case 2: snprintf(dst, cap, "%c.%s", fa[0], la); break;
    case 3: snprintf(dst, cap, "%s.%s%02u", fa, la, num % 100); break;
    case 4: snprintf(dst, cap, "%s_%s", fa, la); break;
    case 5: snprintf(dst, cap, "%s.%s", la, fa); break;
    case 6: snprintf(dst, cap, "%s%s%u", fa, la, num); break;
    default: snprintf(dst, cap, "%c%s", fa[0], la); break;
    }
}

static void gen_people(uint64_t seed)
{
    static const uint16_t pattern_w[] = { 40, 10, 10, 15, 5, 8, 7, 5 };
    static const uint16_t country_w[] = { 95, 3, 2 };
    HSet emails, phones;
    hset_init(&emails, npeople);
    hset_init(&phones, npeople);
    uint64_t dev_key = mix64(seed ^ 0xd1ce5eedULL);
    uint32_t uid_key = (uint32_t)mix64(seed ^ 0x0b5e55edULL);

    for (uint32_t i = 0; i < npeople; i++) {
        Person *p = &people[i];
        Rng r;
        rng_seed(&r, mix64(seed) ^ mix64(((uint64_t)i << 1) | 1));
        memset(p, 0, sizeof *p);

        p->first = (uint16_t)rng_below(&r, NELEM(first_names));
        p->last = (uint16_t)rng_below(&r, NELEM(last_names));
        p->country = (uint8_t)rng_pick(&r, country_w, 3);
        p->city = (uint16_t)pick_city(&r, p->country);
        const City *c = &cities[p->city];
        p->postal = (uint32_t)(c->postal + (int)rng_below(&r, (uint32_t)c->nposts));
        p->uid = mix32((uint32_t)i ^ uid_key);

        char fa[18], la[18];
        fold_ascii(fa, sizeof fa, first_names[p->first], '-');
        fold_ascii(la, sizeof la, last_names[p->last], 0);
        p->domain = (uint8_t)rng_pick(&r, domain_w, NELEM(domain_w));
        int pattern = rng_pick(&r, pattern_w, NELEM(pattern_w));
        unsigned num = 50 + rng_below(&r, 55); /* birth year */
        if (pattern == 6)
            num = 1950 + rng_below(&r, 58);
        for (int attempt = 0;; attempt++) {
            char full[96];
            make_local(p->local, sizeof p->local, fa, la, pattern, num);
            snprintf(full, sizeof full, "%s@%s", p->local, domains[p->domain]);
            if (hset_add(&emails, hash_str(full)))
                break;
            pattern = attempt < 3 ? 3 : 6;
            num = attempt < 3 ? rng_below(&r, 100) : 1 + rng_below(&r, 9999);
        }

        p->has_phone = rng_chance(&r, 0.85);
        for (;;) {
            uint32_t n;
            if (p->country == C_FR)
                n = (rng_chance(&r, 0.7) ? 600000000u : 700000000u) +
                    rng_below(&r, 100000000u);
            else if (p->country == C_BE)
                n = 460000000u + rng_below(&r, 40000000u);
            else
                n = 760000000u + rng_below(&r, 40000000u);
            if (hset_add(&phones, ((uint64_t)(p->country + 1) << 40) | n)) {
                p->phone = n;
                break;
            }
        }

        p->anon_only = rng_chance(&r, 0.25);
        p->optin = rng_chance(&r, 0.6);
        p->plan = (uint8_t)(rng_chance(&r, 0.72) ? 0 : rng_chance(&r, 0.7) ? 1 : 2);
        p->in_crm = rng_chance(&r, 0.9);
        p->crm_dup = p->in_crm && rng_chance(&r, 0.02);
        p->company = rng_chance(&r, 0.03) ? (uint8_t)(1 + rng_below(&r, NELEM(companies))) : 0;
        p->weight = rng_chance(&r, 0.08) ? 0.0f : (float)exp(1.1 * rng_gauss(&r));

        static const uint16_t ndev_w[] = { 45, 35, 15, 5 };
        p->ndev = (uint8_t)(1 + rng_pick(&r, ndev_w, 4));
        for (int j = 0; j < p->ndev; j++) {
            Device *d = &p->dev[j];
            int kind;
            if (j == 0)
                kind = rng_chance(&r, 0.55) ? K_DESKTOP : rng_chance(&r, 0.9) ? K_MOBILE : K_APP;
            else
                kind = rng_chance(&r, 0.4) ? K_DESKTOP : rng_chance(&r, 0.75) ? K_MOBILE : K_APP;
            if (kind == K_DESKTOP)
                d->agent = (uint8_t)rng_below(&r, N_DESKTOP);
            else if (kind == K_MOBILE)
                d->agent = (uint8_t)(FIRST_MOBILE + rng_below(&r, N_MOBILE));
            else
                d->agent = (uint8_t)(FIRST_APP + rng_below(&r, 2));
            d->ip = random_ip(&r, kind != K_DESKTOP);
            d->skew = rng_chance(&r, 0.7) ? (int32_t)rng_range(&r, -900, 900)
                                          : (int32_t)rng_range(&r, -120000, 120000);
            d->anon_hi = mix64(dev_key ^ ((uint64_t)i * 4 + (uint64_t)j));
            d->anon_lo = rng_next(&r);
        }
    }
    free(emails.slot);
    free(phones.slot);
}

/* Created dates need the time range: drawn from a stream of their own. */
static void gen_created(uint64_t seed, int64_t start, int64_t end)
{
    for (uint32_t i = 0; i < npeople; i++) {
        Rng r;
        rng_seed(&r, mix64(seed ^ 0xc7ea7edULL) ^ mix64(i));
        int64_t from = start - 4 * 365 * MS_PER_DAY;
        people[i].created = from + (int64_t)(rng_unit(&r) * (double)(end - from));
    }
}

/* ------------------------------------------------------------------ */
/* Noisy renderings of e-mails and phones                             */

/* Writes the e-mail of p into w in one of several noisy spellings. */
static char *put_email_variant(char *w, const Person *p, int v)
{
    const char *dom = domains[p->domain];
    char *start;
    switch (v) {
    case 1: /* Jane.Doe@gmail.com */
    case 5: /* Jane.Doe@Gmail.com */
    case 6: /* "Jane.Doe@gmail.com " */
        start = w;
        w = put_s(w, p->local);
        for (char *q = start; q < w; q++)
            if ((q == start || q[-1] == '.' || q[-1] == '_' || q[-1] == '-') &&
                *q >= 'a' && *q <= 'z')
                *q = (char)(*q - 32);
        *w++ = '@';
        start = w;
        w = put_s(w, dom);
        if (v == 5 && *start >= 'a' && *start <= 'z')
            *start = (char)(*start - 32);
        if (v == 6)
            *w++ = ' ';
        return w;
    case 2: /* jane.doe@Gmail.com */
        w = put_s(w, p->local);
        *w++ = '@';
        start = w;
        w = put_s(w, dom);
        *start = (char)(*start - 32);
        return w;
    case 3: /* JANE.DOE@GMAIL.COM */
        w = put_upper(w, p->local);
        *w++ = '@';
        return put_upper(w, dom);
    case 4: /* surrounding spaces */
        *w++ = ' ';
        w = put_s(w, p->local);
        *w++ = '@';
        w = put_s(w, dom);
        *w++ = ' ';
        return w;
    default:
        w = put_s(w, p->local);
        *w++ = '@';
        return put_s(w, dom);
    }
}

static int email_noise(Rng *r)
{
    static const uint16_t w[] = { 55, 15, 5, 5, 10, 5, 5 };
    return rng_pick(r, w, NELEM(w));
}

static char *put_pairs(char *w, const char *digits, int n, char sep)
{
    for (int i = 0; i < n; i += 2) {
        if (i)
            *w++ = sep;
        *w++ = digits[i];
        *w++ = digits[i + 1];
    }
    return w;
}

/* A phone number in one of the formats people actually type. */
static char *put_phone(char *w, const Person *p, int v)
{
    char dg[10];
    put_uz(dg, p->phone, 9);
    if (p->country == C_FR) {
        switch (v) {
        case 0: *w++ = '0'; *w++ = dg[0]; *w++ = ' '; return put_pairs(w, dg + 1, 8, ' ');
        case 1: PL(w, "+33 "); *w++ = dg[0]; *w++ = ' '; return put_pairs(w, dg + 1, 8, ' ');
        case 2: PL(w, "0033"); memcpy(w, dg, 9); return w + 9;
        case 3: *w++ = '0'; *w++ = dg[0]; *w++ = '.'; return put_pairs(w, dg + 1, 8, '.');
        case 4: *w++ = '0'; memcpy(w, dg, 9); return w + 9;
        case 5: PL(w, "+33"); memcpy(w, dg, 9); return w + 9;
        case 6: *w++ = '0'; *w++ = dg[0]; *w++ = '-'; return put_pairs(w, dg + 1, 8, '-');
        default: PL(w, "+33 (0)"); *w++ = dg[0]; *w++ = ' '; return put_pairs(w, dg + 1, 8, ' ');
        }
    }
    if (p->country == C_BE) { /* 470 12 34 56 */
        switch (v % 4) {
        case 0: *w++ = '0'; memcpy(w, dg, 3); w += 3; *w++ = ' '; return put_pairs(w, dg + 3, 6, ' ');
        case 1: PL(w, "+32 "); memcpy(w, dg, 3); w += 3; *w++ = ' '; return put_pairs(w, dg + 3, 6, ' ');
        case 2: PL(w, "0032"); memcpy(w, dg, 9); return w + 9;
        default: PL(w, "+32"); memcpy(w, dg, 9); return w + 9;
        }
    }
    switch (v % 4) { /* 79 123 45 67 */
    case 0: *w++ = '0'; memcpy(w, dg, 2); w += 2; *w++ = ' '; memcpy(w, dg + 2, 3); w += 3; *w++ = ' '; return put_pairs(w, dg + 5, 4, ' ');
    case 1: PL(w, "+41 "); memcpy(w, dg, 2); w += 2; *w++ = ' '; memcpy(w, dg + 2, 3); w += 3; *w++ = ' '; return put_pairs(w, dg + 5, 4, ' ');
    case 2: PL(w, "0041"); memcpy(w, dg, 9); return w + 9;
    default: PL(w, "+41"); memcpy(w, dg, 9); return w + 9;
    }
}

static int phone_noise(Rng *r)
{
    static const uint16_t w[] = { 30, 15, 8, 12, 20, 10, 3, 2 };
    return rng_pick(r, w, NELEM(w));
}

static char *put_postal(char *w, const Person *p)
{
    return put_uz(w, p->postal, p->country == C_FR ? 5 : 4);
}

/* ------------------------------------------------------------------ */
/* Simulation globals                                                 */

enum { FMT_NDJSON, FMT_CRM, FMT_ORDERS, FMT_PURCHASES, FMT_PEOPLE };

static int g_format = FMT_NDJSON;
static Rng sim;  /* drives the events: consumed identically in every mode */
static Rng shop; /* rendering choices of the shop export only */
static uint64_t k_msg;
static uint64_t g_seq;
static uint32_t g_order_seq = 1040000;
static char line[65536];

/* Late arrivals wait in a min-heap keyed by release time. */
typedef struct {
    int64_t release;
    uint64_t seq;
    char *data;
    size_t len;
} Held;

static Held *held;
static size_t nheld, capheld;

static int held_less(const Held *a, const Held *b)
{
    return a->release < b->release || (a->release == b->release && a->seq < b->seq);
}

static void held_push(int64_t release, const char *data, size_t len)
{
    if (nheld == capheld) {
        capheld = capheld ? capheld * 2 : 256;
        held = realloc(held, capheld * sizeof *held);
        if (!held) {
            fprintf(stderr, "cdp-gen: out of memory\n");
            exit(1);
        }
    }
    Held h = { release, g_seq, malloc(len), len };
    if (!h.data) {
        fprintf(stderr, "cdp-gen: out of memory\n");
        exit(1);
    }
    memcpy(h.data, data, len);
    size_t i = nheld++;
    while (i && held_less(&h, &held[(i - 1) / 2])) {
        held[i] = held[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    held[i] = h;
}

static void held_pop_write(void)
{
    Held top = held[0];
    Held last = held[--nheld];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= nheld)
            break;
        if (c + 1 < nheld && held_less(&held[c + 1], &held[c]))
            c++;
        if (!held_less(&held[c], &last))
            break;
        held[i] = held[c];
        i = c;
    }
    if (nheld)
        held[i] = last;
    out_write(top.data, top.len);
    free(top.data);
}

static void held_release(int64_t now)
{
    while (nheld && held[0].release <= now)
        held_pop_write();
}

/* ------------------------------------------------------------------ */
/* Event rendering                                                    */

enum { ID_AUTO, ID_ANON, ID_BOTH, ID_USER };
enum {
    CX_SERVER = 1,       /* back-office action: office ip / browser */
    CX_MAIL = 2,         /* e-mail client opening a message */
    CX_TRAITS_EMAIL = 4, /* context.traits.email */
    CX_CAMPAIGN = 8,     /* context.campaign from utm parameters */
};

static inline Device *cur_dev(Person *p)
{
    return &p->dev[p->cur_dev];
}

static char *put_uid(char *w, const Person *p)
{
    PL(w, "usr_");
    return put_hex(w, p->uid, 8);
}

static char *put_ids(char *w, const Person *p, const Device *d, int mode)
{
    if (mode == ID_AUTO)
        mode = d->identified ? ID_BOTH : ID_ANON;
    if (mode != ID_ANON) {
        PL(w, ",\"userId\":\"");
        w = put_uid(w, p);
        *w++ = '"';
    }
    if (mode != ID_USER) {
        PL(w, ",\"anonymousId\":\"");
        w = put_uuid(w, d->anon_hi, d->anon_lo);
        *w++ = '"';
    }
    return w;
}

static const char *lib_version(int64_t t)
{
    /* the backend upgraded its library on 2025-05-12 and 2025-10-06 */
    if (t < 1747008000000LL)
        return "6.1.0";
    if (t < 1759708800000LL)
        return "6.2.0";
    return "6.2.1";
}

enum {
    PG_HOME, PG_CAT, PG_PROD, PG_CART, PG_CHECKOUT, PG_CONFIRM, PG_SEARCH,
    PG_ACCOUNT, PG_BLOG, PG_LOGIN, PG_HELP,
};
static const char *const page_names[] = {
    "Home", "Category", "Product", "Cart", "Checkout", "Order Confirmation",
    "Search", "Account", "Blog", "Login", "Help",
};
static const char *const screen_names[] = {
    "Home", "Category", "Product Detail", "Cart", "Checkout",
    "Order Confirmation", "Search", "Account", "Article", "Login", "Help",
};

typedef struct {
    uint8_t kind, arg;
    int8_t campaign;   /* utm parameters, -1 for none */
    int8_t ext_ref;    /* index in referrers[], -1 for an internal referrer */
    uint8_t ref_kind, ref_arg;
} PageRef;

/* URL-encoding of a search query (spaces as '+'). */
static char *put_query(char *w, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
            *w++ = (char)c;
        else if (c == ' ')
            *w++ = '+';
        else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    return w;
}

static char *put_path(char *w, int kind, int arg)
{
    switch (kind) {
    case PG_HOME: *w++ = '/'; return w;
    case PG_CAT: PL(w, "/c/"); return put_s(w, cat_slug[arg]);
    case PG_PROD: PL(w, "/p/"); return put_s(w, products[arg].slug);
    case PG_CART: PL(w, "/panier"); return w;
    case PG_CHECKOUT: PL(w, "/commande"); return w;
    case PG_CONFIRM: PL(w, "/commande/confirmation"); return w;
    case PG_SEARCH: PL(w, "/recherche"); return w;
    case PG_ACCOUNT: PL(w, "/mon-compte"); return w;
    case PG_BLOG: PL(w, "/journal/"); return put_s(w, blog_slugs[arg]);
    case PG_LOGIN: PL(w, "/connexion"); return w;
    default: PL(w, "/aide/"); return put_s(w, help_slugs[arg]);
    }
}

static char *put_search(char *w, int kind, int arg, int campaign)
{
    if (kind == PG_SEARCH) {
        PL(w, "?q=");
        return put_query(w, search_terms[arg]);
    }
    if (campaign >= 0) {
        PL(w, "?utm_source=newsletter&utm_medium=email&utm_campaign=");
        return put_s(w, campaigns[campaign].slug);
    }
    return w;
}

static char *put_title(char *w, int kind, int arg)
{
    switch (kind) {
    case PG_HOME: PL(w, SHOP_NAME " – Mode & art de vivre"); return w;
    case PG_CAT: w = put_jesc(w, categories[arg]); break;
    case PG_PROD: w = put_jesc(w, products[arg].name); break;
    case PG_CART: PL(w, "Mon panier"); break;
    case PG_CHECKOUT: PL(w, "Paiement sécurisé"); break;
    case PG_CONFIRM: PL(w, "Merci pour votre commande !"); break;
    case PG_SEARCH: PL(w, "Résultats pour « "); w = put_jesc(w, search_terms[arg]); PL(w, " »"); break;
    case PG_ACCOUNT: PL(w, "Mon compte"); break;
    case PG_BLOG: w = put_jesc(w, blog_titles[arg]); break;
    case PG_LOGIN: PL(w, "Connexion"); break;
    default: w = put_jesc(w, help_titles[arg]); break;
    }
    PL(w, " | " SHOP_NAME);
    return w;
}

static char *put_url(char *w, int kind, int arg, int campaign)
{
    PL(w, SITE);
    w = put_path(w, kind, arg);
    return put_search(w, kind, arg, campaign);
}

static char *put_search_field(char *w, const PageRef *pg)
{
    if (pg->kind == PG_SEARCH || pg->campaign >= 0) {
        PL(w, ",\"search\":\"");
        w = put_search(w, pg->kind, pg->arg, pg->campaign);
        *w++ = '"';
    }
    return w;
}

/* Page properties: "path", "url", "title" (and "search" when there is one). */
static char *put_page_props(char *w, const PageRef *pg)
{
    PL(w, "\"path\":\"");
    w = put_path(w, pg->kind, pg->arg);
    PL(w, "\",\"url\":\"");
    w = put_url(w, pg->kind, pg->arg, pg->campaign);
    PL(w, "\",\"title\":\"");
    w = put_title(w, pg->kind, pg->arg);
    *w++ = '"';
    return put_search_field(w, pg);
}

/* context.page: "path", "referrer", "url" (and "search"). */
static char *put_page_context(char *w, const PageRef *pg)
{
    PL(w, "\"path\":\"");
    w = put_path(w, pg->kind, pg->arg);
    PL(w, "\",\"referrer\":\"");
    if (pg->ext_ref >= 0)
        w = put_s(w, referrers[pg->ext_ref].url);
    else
        w = put_url(w, pg->ref_kind, pg->ref_arg, -1);
    PL(w, "\",\"url\":\"");
    w = put_url(w, pg->kind, pg->arg, pg->campaign);
    *w++ = '"';
    return put_search_field(w, pg);
}

static char *put_context(char *w, Person *p, int flags, const PageRef *pg, int email_v)
{
    Device *d = cur_dev(p);
    const Agent *ag = &agents[d->agent];
    PL(w, ",\"context\":{\"library\":{\"name\":\"analytics-node\",\"version\":\"");
    w = put_s(w, lib_version(p->t));
    PL(w, "\"},\"ip\":\"");
    if (flags & CX_SERVER) {
        PL(w, "185.42.118.7\",\"userAgent\":\"");
        w = put_s(w, agents[5].ua);
    } else if (flags & CX_MAIL) {
        if (p->domain == 0) { /* images fetched through the webmail proxy */
            PL(w, "66.249.84.");
            w = put_u(w, 1 + (p->uid & 127));
            PL(w, "\",\"userAgent\":\"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)");
        } else {
            w = put_ip(w, p->dev[0].ip);
            PL(w, "\",\"userAgent\":\"");
            w = put_s(w, agents[p->dev[0].agent].ua);
        }
    } else {
        w = put_ip(w, p->sess_ip);
        PL(w, "\",\"userAgent\":\"");
        w = put_s(w, ag->ua);
    }
    PL(w, "\",\"locale\":\"");
    w = put_s(w, country_locale[p->country]);
    *w++ = '"';
    if (ag->kind == K_APP && !(flags & (CX_SERVER | CX_MAIL))) {
        PL(w, ",\"app\":{\"name\":\"" SHOP_NAME "\",\"version\":\"");
        w = put_s(w, ag->dev_type[0] == 'i' ? "3.4.1\",\"build\":\"30401" : "3.4.0\",\"build\":\"30400");
        PL(w, "\"},\"device\":{\"type\":\"");
        w = put_s(w, ag->dev_type);
        PL(w, "\",\"manufacturer\":\"");
        w = put_s(w, ag->maker);
        PL(w, "\",\"model\":\"");
        w = put_s(w, ag->model);
        PL(w, "\"},\"os\":{\"name\":\"");
        w = put_s(w, ag->os);
        PL(w, "\",\"version\":\"");
        w = put_s(w, ag->os_version);
        PL(w, "\"}");
    }
    if (pg) {
        PL(w, ",\"page\":{");
        w = put_page_context(w, pg);
        *w++ = '}';
    }
    if ((flags & CX_CAMPAIGN) && p->campaign) {
        PL(w, ",\"campaign\":{\"name\":");
        w = put_js(w, campaigns[p->campaign - 1].name);
        PL(w, ",\"source\":\"newsletter\",\"medium\":\"email\"}");
    }
    if (flags & CX_TRAITS_EMAIL) {
        PL(w, ",\"traits\":{\"email\":\"");
        w = put_email_variant(w, p, email_v);
        PL(w, "\"}");
    }
    *w++ = '}';
    return w;
}

/* Closes the event at w: timestamps, messageId; then emits or holds it. */
static void ev_end(char *w, Person *p, int server)
{
    int64_t ts = p->t;
    int late = rng_chance(&sim, 0.02);
    int64_t delay = late ? (int64_t)(20000.0 * exp(rng_unit(&sim) * log(1440.0))) : 0;
    int extra = late || rng_chance(&sim, 0.15);
    PL(w, ",\"timestamp\":\"");
    w = put_ts(w, ts, 1);
    *w++ = '"';
    if (extra) {
        int64_t ot = ts + (server ? 0 : cur_dev(p)->skew);
        PL(w, ",\"originalTimestamp\":\"");
        w = put_ts(w, ot, 1);
        PL(w, "\",\"sentAt\":\"");
        w = put_ts(w, ot + (late ? delay : rng_range(&sim, 15, 4000)), 1);
        *w++ = '"';
    }
    PL(w, ",\"messageId\":\"");
    w = put_uuid(w, mix64(g_seq ^ k_msg), rng_next(&sim));
    PL(w, "\"}\n");
    size_t n = (size_t)(w - line);
    if (g_format == FMT_NDJSON) {
        if (late)
            held_push(ts + delay, line, n);
        else
            out_write(line, n);
    }
    g_seq++;
    p->budget--;
    p->sess_left--;
}

static char *track_begin(const char *event, Person *p, int idmode)
{
    char *w = line;
    PL(w, "{\"type\":\"track\",\"event\":\"");
    w = put_s(w, event);
    *w++ = '"';
    w = put_ids(w, p, cur_dev(p), idmode);
    PL(w, ",\"properties\":{");
    return w;
}

static char *put_product_obj(char *w, int pi, int qty)
{
    const Product *pr = &products[pi];
    PL(w, "{\"product_id\":\"");
    w = put_s(w, pr->pid);
    PL(w, "\",\"sku\":\"");
    w = put_s(w, pr->sku);
    PL(w, "\",\"name\":");
    w = put_js(w, pr->name);
    PL(w, ",\"price\":");
    w = put_money(w, pr->price);
    PL(w, ",\"quantity\":");
    w = put_u(w, (uint64_t)qty);
    PL(w, ",\"category\":");
    w = put_js(w, categories[pr->cat]);
    *w++ = '}';
    return w;
}

/* Track events from a logged-in device sometimes repeat the e-mail. */
static int track_flags(Person *p)
{
    if (cur_dev(p)->identified && rng_chance(&sim, 0.3))
        return CX_TRAITS_EMAIL;
    return 0;
}

static int is_app(Person *p)
{
    return agents[cur_dev(p)->agent].kind == K_APP;
}

static void emit_view(Person *p, int kind, int arg, int ext_ref, int campaign)
{
    PageRef pg = { (uint8_t)kind, (uint8_t)arg, (int8_t)campaign, (int8_t)ext_ref,
                   p->prev_kind, p->prev_arg };
    char *w = line;
    int flags = campaign >= 0 ? CX_CAMPAIGN : 0;
    if (is_app(p)) {
        PL(w, "{\"type\":\"screen\",\"name\":\"");
        w = put_s(w, screen_names[kind]);
        *w++ = '"';
        w = put_ids(w, p, cur_dev(p), ID_AUTO);
        PL(w, ",\"properties\":{\"name\":\"");
        w = put_s(w, screen_names[kind]);
        *w++ = '"';
        if (kind == PG_PROD) {
            PL(w, ",\"product_id\":\"");
            w = put_s(w, products[arg].pid);
            *w++ = '"';
        } else if (kind == PG_CAT) {
            PL(w, ",\"category\":");
            w = put_js(w, categories[arg]);
        } else if (kind == PG_SEARCH) {
            PL(w, ",\"query\":");
            w = put_js(w, search_terms[arg]);
        }
        *w++ = '}';
        w = put_context(w, p, flags, NULL, 0);
    } else {
        PL(w, "{\"type\":\"page\",\"name\":\"");
        w = put_s(w, page_names[kind]);
        *w++ = '"';
        w = put_ids(w, p, cur_dev(p), ID_AUTO);
        PL(w, ",\"properties\":{");
        w = put_page_props(w, &pg);
        *w++ = '}';
        w = put_context(w, p, flags, &pg, 0);
    }
    ev_end(w, p, 0);
    p->prev_kind = (uint8_t)kind;
    p->prev_arg = (uint8_t)arg;
}

static void emit_identify(Person *p, int newsletter)
{
    char *w = line;
    PL(w, "{\"type\":\"identify\"");
    w = put_ids(w, p, cur_dev(p), newsletter ? ID_ANON : ID_BOTH);
    PL(w, ",\"traits\":{\"email\":\"");
    w = put_email_variant(w, p, email_noise(&sim));
    *w++ = '"';
    if (newsletter) {
        PL(w, ",\"newsletter\":true");
    } else if (rng_chance(&sim, 0.7)) {
        if (p->has_phone && rng_chance(&sim, 0.8)) {
            PL(w, ",\"phone\":\"");
            w = put_phone(w, p, phone_noise(&sim));
            *w++ = '"';
        }
        PL(w, ",\"firstName\":\"");
        w = rng_chance(&sim, 0.05) ? put_lower(w, first_names[p->first])
                                   : put_jesc(w, first_names[p->first]);
        PL(w, "\",\"lastName\":\"");
        w = rng_chance(&sim, 0.1) ? put_upper(w, last_names[p->last])
                                  : put_jesc(w, last_names[p->last]);
        PL(w, "\",\"address\":{\"city\":\"");
        w = put_jesc(w, cities[p->city].name);
        PL(w, "\",\"postalCode\":\"");
        w = put_postal(w, p);
        PL(w, "\",\"country\":\"");
        w = put_s(w, country_code[p->country]);
        PL(w, "\"},\"plan\":\"");
        w = put_s(w, plans[p->plan]);
        *w++ = '"';
        if (p->created <= p->t) { /* otherwise the CRM record came later */
            PL(w, ",\"createdAt\":\"");
            w = put_ts(w, p->created, 1);
            *w++ = '"';
        }
    } else {
        PL(w, ",\"plan\":\"");
        w = put_s(w, plans[p->plan]);
        *w++ = '"';
    }
    *w++ = '}';
    w = put_context(w, p, 0, NULL, 0);
    ev_end(w, p, 0);
    if (!newsletter) {
        cur_dev(p)->identified = 1;
        p->ever_identified = 1;
    }
}

static void emit_alias(Person *p)
{
    char *w = line;
    PL(w, "{\"type\":\"alias\",\"previousId\":\"");
    w = put_uuid(w, cur_dev(p)->anon_hi, cur_dev(p)->anon_lo);
    PL(w, "\",\"userId\":\"");
    w = put_uid(w, p);
    *w++ = '"';
    w = put_context(w, p, 0, NULL, 0);
    ev_end(w, p, 0);
}

static void emit_group(Person *p)
{
    const Company *c = &companies[p->company - 1];
    char *w = line;
    PL(w, "{\"type\":\"group\",\"groupId\":\"grp_");
    w = put_hex(w, mix32((uint32_t)p->company * 7919u) & 0xffffff, 6);
    *w++ = '"';
    w = put_ids(w, p, cur_dev(p), ID_BOTH);
    PL(w, ",\"traits\":{\"name\":");
    w = put_js(w, c->name);
    PL(w, ",\"industry\":");
    w = put_js(w, c->industry);
    PL(w, ",\"employees\":");
    w = put_u(w, (uint64_t)c->employees);
    PL(w, "}");
    w = put_context(w, p, 0, NULL, 0);
    ev_end(w, p, 0);
    p->group_sent = 1;
}

static void emit_product_viewed(Person *p)
{
    const Product *pr = &products[p->last_prod];
    char *w = track_begin("Product Viewed", p, ID_AUTO);
    PL(w, "\"product_id\":\"");
    w = put_s(w, pr->pid);
    PL(w, "\",\"sku\":\"");
    w = put_s(w, pr->sku);
    PL(w, "\",\"category\":");
    w = put_js(w, categories[pr->cat]);
    PL(w, ",\"name\":");
    w = put_js(w, pr->name);
    PL(w, ",\"price\":");
    w = put_money(w, pr->price);
    PL(w, ",\"currency\":\"EUR\",\"url\":\"" SITE "/p/");
    w = put_s(w, pr->slug);
    PL(w, "\"}");
    w = put_context(w, p, track_flags(p), NULL, email_noise(&sim));
    ev_end(w, p, 0);
}

static void emit_product_added(Person *p)
{
    int pi = p->last_prod;
    int q = rng_chance(&sim, 0.1) ? (rng_chance(&sim, 0.25) ? 3 : 2) : 1;
    int slot = -1;
    for (int i = 0; i < p->ncart; i++)
        if (p->cart[i] == pi)
            slot = i;
    if (slot >= 0) {
        if (p->qty[slot] + q < 10)
            p->qty[slot] = (uint8_t)(p->qty[slot] + q);
    } else if (p->ncart < 3) {
        p->cart[p->ncart] = (uint8_t)pi;
        p->qty[p->ncart++] = (uint8_t)q;
    } else {
        p->cart[2] = (uint8_t)pi;
        p->qty[2] = (uint8_t)q;
    }
    char *w = track_begin("Product Added", p, ID_AUTO);
    PL(w, "\"cart_id\":\"");
    w = put_hex(w, mix64(((uint64_t)p->uid << 16) ^ p->nsess ^ k_msg), 16);
    PL(w, "\",");
    const Product *pr = &products[pi];
    PL(w, "\"product_id\":\"");
    w = put_s(w, pr->pid);
    PL(w, "\",\"sku\":\"");
    w = put_s(w, pr->sku);
    PL(w, "\",\"category\":");
    w = put_js(w, categories[pr->cat]);
    PL(w, ",\"name\":");
    w = put_js(w, pr->name);
    PL(w, ",\"price\":");
    w = put_money(w, pr->price);
    PL(w, ",\"quantity\":");
    w = put_u(w, (uint64_t)q);
    PL(w, ",\"currency\":\"EUR\"}");
    w = put_context(w, p, track_flags(p), NULL, email_noise(&sim));
    ev_end(w, p, 0);
}

typedef struct {
    int32_t sub, disc, ship, total, tax;
    int top_cat;
} Totals;

static Totals cart_totals(const Person *p)
{
    Totals t = { 0, 0, 0, 0, 0, 0 };
    int best = -1;
    for (int i = 0; i < p->ncart; i++) {
        int price = products[p->cart[i]].price;
        t.sub += price * p->qty[i];
        if (price > best) {
            best = price;
            t.top_cat = products[p->cart[i]].cat;
        }
    }
    if (p->coupon)
        t.disc = (t.sub * (p->coupon == 1 ? 10 : 15) + 50) / 100;
    t.ship = t.sub - t.disc < 6000 ? 490 : 0;
    t.total = t.sub - t.disc + t.ship;
    t.tax = t.total - (int32_t)((t.total * 10 + 6) / 12);
    return t;
}

static char *put_order_amounts(char *w, const Person *p, const Totals *t, const char *key)
{
    PL(w, "\"order_id\":\"CMD-");
    w = put_uz(w, p->order_no, 8);
    PL(w, "\",\"");
    w = put_s(w, key);
    PL(w, "\":");
    w = put_money(w, t->total);
    PL(w, ",\"revenue\":");
    w = put_money(w, t->sub - t->disc);
    PL(w, ",\"shipping\":");
    w = put_money(w, t->ship);
    PL(w, ",\"tax\":");
    w = put_money(w, t->tax);
    PL(w, ",\"discount\":");
    w = put_money(w, t->disc);
    if (p->coupon) {
        PL(w, ",\"coupon\":\"");
        w = put_s(w, p->coupon == 1 ? "BIENVENUE10" : "ORME15");
        *w++ = '"';
    }
    PL(w, ",\"currency\":\"EUR\"");
    return w;
}

static char *put_products(char *w, const Person *p)
{
    PL(w, ",\"products\":[");
    for (int i = 0; i < p->ncart; i++) {
        if (i)
            *w++ = ',';
        w = put_product_obj(w, p->cart[i], p->qty[i]);
    }
    *w++ = ']';
    return w;
}

static int checkout_flags(Person *p)
{
    /* guests type their e-mail at checkout */
    return cur_dev(p)->identified ? track_flags(p) : CX_TRAITS_EMAIL;
}

static void emit_checkout_started(Person *p)
{
    p->order_no = ++g_order_seq;
    p->coupon = rng_chance(&sim, 0.12) ? (uint8_t)(1 + rng_below(&sim, 2)) : 0;
    Totals t = cart_totals(p);
    char *w = track_begin("Checkout Started", p, ID_AUTO);
    w = put_order_amounts(w, p, &t, "value");
    w = put_products(w, p);
    *w++ = '}';
    w = put_context(w, p, checkout_flags(p), NULL, email_noise(&sim));
    ev_end(w, p, 0);
}

/* The shop's own record of an order (orders-csv). */
static void shop_record(const Person *p, const Totals *t, int pay)
{
    char buf[256], *w = buf;
    PL(w, "CMD-");
    w = put_uz(w, p->order_no, 8);
    *w++ = ',';
    if (rng_chance(&shop, 0.93)) {
        w = put_s(w, p->local);
        *w++ = '@';
        w = put_s(w, domains[p->domain]);
    } else {
        char f[128];
        char *e = put_email_variant(f, p, email_noise(&shop));
        w = put_csv(w, f, (size_t)(e - f), ',');
    }
    *w++ = ',';
    w = put_ts(w, p->t + rng_range(&shop, 200, 4000), 0);
    *w++ = ',';
    w = put_money(w, t->total);
    PL(w, ",EUR,");
    w = put_s(w, payment_methods[pay]);
    *w++ = ',';
    w = put_s(w, categories[t->top_cat]);
    *w++ = '\n';
    if (g_format == FMT_ORDERS)
        out_write(buf, (size_t)(w - buf));
}

/* Returns 1 if an event was emitted. */
static int complete_order(Person *p)
{
    Totals t = cart_totals(p);
    int pay = rng_pick(&sim, payment_w, NELEM(payment_w));
    int lost = rng_chance(&sim, 0.06);
    int test = !lost && rng_chance(&sim, 0.01);
    if (!test)
        shop_record(p, &t, pay);
    p->last_order = p->order_no;
    p->last_total = t.total;
    if (lost) {
        p->ncart = 0;
        return 0;
    }
    char *w = track_begin("Order Completed", p, ID_AUTO);
    w = put_order_amounts(w, p, &t, "total");
    PL(w, ",\"payment_method\":\"");
    w = put_s(w, payment_methods[pay]);
    *w++ = '"';
    w = put_products(w, p);
    *w++ = '}';
    w = put_context(w, p, checkout_flags(p), NULL, email_noise(&sim));
    ev_end(w, p, 0);
    p->ncart = 0;
    return 1;
}

static void emit_refund(Person *p)
{
    int saved = p->cur_dev;
    p->cur_dev = 0;
    char *w = track_begin("Order Refunded", p, p->ever_identified ? ID_USER : ID_ANON);
    PL(w, "\"order_id\":\"CMD-");
    w = put_uz(w, p->last_order, 8);
    PL(w, "\",\"total\":");
    w = put_money(w, p->last_total);
    PL(w, ",\"currency\":\"EUR\",\"reason\":\"");
    static const char *const reasons[] = { "size", "damaged", "changed_mind", "late_delivery" };
    w = put_s(w, reasons[rng_below(&sim, NELEM(reasons))]);
    PL(w, "\"}");
    w = put_context(w, p, CX_SERVER, NULL, 0);
    ev_end(w, p, 1);
    p->cur_dev = (uint8_t)saved;
    p->last_order = 0;
}

static void emit_email_event(Person *p, int clicked)
{
    const Campaign *c = &campaigns[p->campaign - 1];
    char *w = track_begin(clicked ? "Email Link Clicked" : "Email Opened", p, ID_USER);
    PL(w, "\"email_id\":\"");
    w = put_hex(w, mix64(((uint64_t)p->uid << 20) ^ p->nsess ^ 0x3a11ULL), 16);
    PL(w, "\",\"email_subject\":");
    w = put_js(w, c->subject);
    PL(w, ",\"campaign_id\":\"");
    w = put_s(w, c->id);
    PL(w, "\",\"campaign_name\":");
    w = put_js(w, c->name);
    if (clicked) {
        PL(w, ",\"link_url\":\"" SITE "/?utm_source=newsletter&utm_medium=email&utm_campaign=");
        w = put_s(w, c->slug);
        *w++ = '"';
    }
    *w++ = '}';
    w = put_context(w, p, CX_MAIL | CX_TRAITS_EMAIL, NULL, email_noise(&sim));
    ev_end(w, p, 1);
}

/* ------------------------------------------------------------------ */
/* Behaviour                                                          */

static int64_t g_start, g_end;

static void push_pending(Person *p, int what)
{
    if (p->npend < sizeof p->pend)
        p->pend[p->npend++] = (uint8_t)what;
}

static int pop_pending(Person *p)
{
    int what = p->pend[0];
    memmove(p->pend, p->pend + 1, --p->npend);
    return what;
}

static void push_front(Person *p, int what)
{
    if (p->npend == sizeof p->pend)
        p->npend--;
    memmove(p->pend + 1, p->pend, p->npend++);
    p->pend[0] = (uint8_t)what;
}

/* Delay before the next event in a session. */
static int64_t page_gap(void)
{
    double g = 4000.0 + rng_exp(&sim, 70000.0);
    return (int64_t)(g > 1500000.0 ? 1500000.0 : g);
}

/* Nights are quiet: early-morning starts slide to the day (Paris time). */
static int64_t daytime(int64_t t)
{
    int hour = (int)(floor_div(t, 3600000) % 24 + 1) % 24;
    if (hour < 7 && rng_chance(&sim, 0.85))
        t += (int64_t)(8 - hour) * 3600000 + rng_range(&sim, 0, 14 * 3600000);
    return t;
}

static int64_t next_session_time(Person *p)
{
    double left = (double)p->budget / 6.5;
    if (left < 1.0)
        left = 1.0;
    double room = (double)(p->t_end - p->t);
    double gap;
    if (room <= 3600000.0) {
        gap = 1800000.0 + rng_exp(&sim, 7200000.0);
    } else {
        gap = room / (left + 1.0) * (0.3 + 1.4 * rng_unit(&sim));
        if (gap < 1200000.0)
            gap = 1200000.0 + rng_unit(&sim) * 1200000.0;
        if (gap > room)
            gap = room * rng_unit(&sim);
    }
    return daytime(p->t + (int64_t)gap);
}

static int pick_product(Person *p)
{
    if (p->last_prod >= 0 && rng_chance(&sim, 0.6)) {
        int cat = products[p->last_prod].cat;
        for (int tries = 0; tries < 8; tries++) {
            int pi = (int)rng_below(&sim, NPROD);
            if (products[pi].cat == cat)
                return pi;
        }
    }
    return (int)rng_below(&sim, NPROD);
}

/* Landing page of a session; returns the delay before the next step. */
static int64_t land(Person *p, int ext_ref, int campaign)
{
    double r = rng_unit(&sim);
    if (r < (campaign >= 0 ? 0.5 : 0.35)) {
        p->last_prod = (int16_t)pick_product(p);
        emit_view(p, PG_PROD, p->last_prod, ext_ref, campaign);
        push_pending(p, P_PRODUCT_VIEWED);
        return rng_range(&sim, 200, 1800);
    } else if (r < 0.6) {
        emit_view(p, PG_HOME, 0, ext_ref, campaign);
    } else if (r < 0.88 || campaign >= 0) {
        emit_view(p, PG_CAT, (int)rng_below(&sim, NELEM(categories)), ext_ref, campaign);
    } else {
        emit_view(p, PG_BLOG, (int)rng_below(&sim, NELEM(blog_slugs)), ext_ref, campaign);
    }
    return page_gap();
}

static void start_session(Person *p)
{
    static const uint16_t dev_w[] = { 55, 20, 15, 10 };
    p->in_session = 1;
    p->nsess++;
    p->cur_dev = (uint8_t)(p->ndev == 1 ? 0 : rng_pick(&sim, dev_w, p->ndev));
    Device *d = cur_dev(p);
    int kind = agents[d->agent].kind;
    p->sess_ip = (kind != K_DESKTOP && rng_chance(&sim, 0.6)) ? random_ip(&sim, 1) : d->ip;
    int len = 1 + (int)rng_exp(&sim, 5.5);
    p->sess_left = (int16_t)(len > 40 ? 40 : len);
    p->npend = 0;
    p->campaign = 0;
    p->last_prod = -1;
    p->prev_kind = PG_HOME;
    p->prev_arg = 0;
    if (rng_chance(&sim, 0.6))
        p->ncart = 0;

    double r = rng_unit(&sim);
    if (!p->anon_only && p->optin && r < 0.12) {
        p->campaign = (uint8_t)(1 + rng_below(&sim, NELEM(campaigns)));
        emit_email_event(p, 0);
        if (rng_chance(&sim, 0.45)) {
            push_pending(p, P_EMAIL_CLICK);
            p->t += 5000 + (int64_t)rng_exp(&sim, 900000.0);
        } else {
            p->sess_left = 0;
        }
        return;
    }
    if (p->last_order && r > 0.985) {
        emit_refund(p);
        p->sess_left = 0;
        return;
    }
    p->t += land(p, rng_pick(&sim, referrer_w, NELEM(referrers)), -1);
}

static int needs_login(Person *p)
{
    return !p->anon_only && !cur_dev(p)->identified;
}

static void login(Person *p)
{
    if (!p->ever_identified && rng_chance(&sim, 0.15)) {
        emit_alias(p);
        push_front(p, P_IDENTIFY);
        return;
    }
    emit_identify(p, 0);
    if (p->company && !p->group_sent)
        push_front(p, P_GROUP);
}

/* One step of the person's behaviour; emits zero or one event and moves
 * p->t to the time of the next step. */
static void step(Person *p)
{
    if (!p->in_session) {
        start_session(p);
    } else if (p->npend) {
        int what = pop_pending(p);
        switch (what) {
        case P_PRODUCT_VIEWED:
            emit_product_viewed(p);
            p->t += page_gap();
            break;
        case P_EMAIL_CLICK:
            emit_email_event(p, 1);
            push_pending(p, P_LANDING);
            p->t += rng_range(&sim, 300, 3000);
            break;
        case P_LANDING:
            p->t += land(p, 2, p->campaign - 1);
            break;
        case P_LOGIN:
            login(p);
            p->t += rng_range(&sim, 50, 600);
            break;
        case P_IDENTIFY:
            emit_identify(p, 0);
            if (p->company && !p->group_sent)
                push_front(p, P_GROUP);
            p->t += rng_range(&sim, 50, 600);
            break;
        case P_GROUP:
            emit_group(p);
            p->t += rng_range(&sim, 100, 900);
            break;
        case P_CHECKOUT:
            if (p->ncart == 0)
                break;
            if (needs_login(p)) {
                emit_view(p, PG_LOGIN, 0, -1, -1);
                push_front(p, P_CHECKOUT);
                push_front(p, P_LOGIN);
                p->t += rng_range(&sim, 8000, 40000);
                break;
            }
            emit_checkout_started(p);
            if (rng_chance(&sim, 0.62)) {
                push_pending(p, P_ORDER);
                p->t += 40000 + (int64_t)rng_exp(&sim, 150000.0);
            } else {
                p->t += page_gap();
            }
            break;
        case P_ORDER:
            if (complete_order(p)) {
                push_pending(p, P_CONFIRM);
                p->t += rng_range(&sim, 400, 2500);
            } else {
                p->t += page_gap();
            }
            break;
        case P_CONFIRM:
            emit_view(p, PG_CONFIRM, 0, -1, -1);
            p->t += page_gap();
            break;
        }
    } else if (needs_login(p) && rng_chance(&sim, 0.15)) {
        emit_view(p, PG_LOGIN, 0, -1, -1);
        push_pending(p, P_LOGIN);
        p->t += rng_range(&sim, 8000, 40000);
    } else if (p->anon_only && p->optin && !p->newsletter_done && rng_chance(&sim, 0.03)) {
        emit_identify(p, 1);
        p->newsletter_done = 1;
        p->t += page_gap();
    } else {
        double r = rng_unit(&sim);
        if (p->ncart && r < 0.16) {
            emit_view(p, PG_CART, 0, -1, -1);
            if (rng_chance(&sim, 0.55))
                push_pending(p, P_CHECKOUT);
        } else if (r < 0.52) {
            p->last_prod = (int16_t)pick_product(p);
            emit_view(p, PG_PROD, p->last_prod, -1, -1);
            push_pending(p, P_PRODUCT_VIEWED);
            p->t += rng_range(&sim, 200, 1800);
            goto pending_scheduled;
        } else if (r < 0.68 && p->last_prod >= 0) {
            emit_product_added(p);
        } else if (r < 0.82) {
            emit_view(p, PG_CAT, (int)rng_below(&sim, NELEM(categories)), -1, -1);
        } else if (r < 0.88) {
            emit_view(p, PG_SEARCH, (int)rng_below(&sim, NELEM(search_terms)), -1, -1);
        } else if (r < 0.93) {
            emit_view(p, PG_HOME, 0, -1, -1);
        } else if (r < 0.97) {
            emit_view(p, PG_BLOG, (int)rng_below(&sim, NELEM(blog_slugs)), -1, -1);
        } else if (cur_dev(p)->identified) {
            emit_view(p, PG_ACCOUNT, 0, -1, -1);
        } else {
            emit_view(p, PG_HELP, (int)rng_below(&sim, NELEM(help_slugs)), -1, -1);
        }
        p->t += page_gap();
    }
pending_scheduled:
    if (p->in_session && p->sess_left <= 0 && p->npend == 0) {
        p->in_session = 0;
        p->t = next_session_time(p);
    }
}

/* ------------------------------------------------------------------ */
/* The whole simulation: people in a min-heap on their next step time  */

static uint32_t *heap;
static uint32_t nheap;

static int before(uint32_t a, uint32_t b)
{
    return people[a].t < people[b].t || (people[a].t == people[b].t && a < b);
}

static void heap_down(uint32_t i)
{
    uint32_t x = heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= nheap)
            break;
        if (c + 1 < nheap && before(heap[c + 1], heap[c]))
            c++;
        if (!before(heap[c], x))
            break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = x;
}

static void assign_budgets(uint64_t events)
{
    double total = 0;
    for (uint32_t i = 0; i < npeople; i++)
        total += people[i].weight;
    if (total <= 0) {
        people[0].weight = 1;
        total = 1;
    }
    uint64_t given = 0;
    for (uint32_t i = 0; i < npeople; i++) {
        people[i].budget = (uint32_t)floor((double)events * people[i].weight / total);
        given += people[i].budget;
    }
    for (uint32_t i = 0; given < events; i = (i + 1) % npeople) {
        if (people[i].weight > 0) {
            people[i].budget++;
            given++;
        }
    }
}

static void simulate(uint64_t seed, uint64_t events)
{
    rng_seed(&sim, mix64(seed ^ 0x51b0a7ULL));
    rng_seed(&shop, mix64(seed ^ 0x5b0b5ULL));
    k_msg = mix64(seed ^ 0x6d657373ULL) ^ mix64(events + 0x51ULL);
    assign_budgets(events);

    double span = (double)(g_end - g_start);
    heap = malloc((size_t)npeople * sizeof *heap);
    if (!heap) {
        fprintf(stderr, "cdp-gen: out of memory\n");
        exit(1);
    }
    for (uint32_t i = 0; i < npeople; i++) {
        Person *p = &people[i];
        if (!p->budget)
            continue;
        /* Active window: short for occasional visitors, most of the range
         * for heavy users. Its centre may fall a little outside the range
         * (by 0.132 of its length, then clipped) so that the clipped
         * windows near the ends make up for the lower coverage there and
         * the overall traffic stays level through the range. */
        double base = 1.0 - exp(-(double)p->budget / 60.0);
        double len = 0.03 + 0.97 * base * (0.5 + 0.5 * rng_unit(&sim));
        double over = 0.132 * len;
        double mid = rng_unit(&sim) * (1.0 + 2.0 * over) - over;
        double from = mid - len / 2, to = mid + len / 2;
        from = from < 0 ? 0 : from;
        to = to > 1 ? 1 : to;
        /* first session somewhere within the first inter-session gap */
        double first = rng_unit(&sim) * (to - from) / ((double)p->budget / 6.5 + 1.0);
        p->t = daytime(g_start + (int64_t)((from + first) * span));
        p->t_end = g_start + (int64_t)(to * span);
        p->last_prod = -1;
        heap[nheap++] = i;
    }
    for (uint32_t i = nheap / 2; i-- > 0;)
        heap_down(i);

    while (nheap) {
        Person *p = &people[heap[0]];
        if (g_format == FMT_NDJSON)
            held_release(p->t);
        step(p);
        if (p->budget == 0)
            heap[0] = heap[--nheap];
        if (nheap)
            heap_down(0);
    }
    if (g_format == FMT_NDJSON)
        while (nheld)
            held_pop_write();
    free(heap);
}

/* ------------------------------------------------------------------ */
/* CRM export                                                         */

static void crm_row(Rng *r, const Person *p, uint32_t id, int dup)
{
    char buf[512], f[160], *w = buf, *e;
    *w++ = 'C';
    w = put_uz(w, id, 7);
    *w++ = ';';

    static const uint16_t ev_w[] = { 80, 8, 2, 4, 3, 1, 2 };
    int v = rng_pick(r, ev_w, NELEM(ev_w));
    if (dup && v == 0)
        v = 1 + (int)rng_below(r, 3);
    e = put_email_variant(f, p, v);
    w = put_csv(w, f, (size_t)(e - f), ';');
    *w++ = ';';

    if (!rng_chance(r, 0.02))
        w = put_csv(w, first_names[p->first], strlen(first_names[p->first]), ';');
    *w++ = ';';
    e = rng_chance(r, 0.3) ? put_upper(f, last_names[p->last]) : put_s(f, last_names[p->last]);
    w = put_csv(w, f, (size_t)(e - f), ';');
    *w++ = ';';

    if (p->has_phone && !(dup && rng_chance(r, 0.5))) {
        e = put_phone(f, p, phone_noise(r));
        w = put_csv(w, f, (size_t)(e - f), ';');
    }
    *w++ = ';';
    const char *city = cities[p->city].name;
    e = rng_chance(r, 0.1) ? put_upper(f, city) : put_s(f, city);
    w = put_csv(w, f, (size_t)(e - f), ';');
    *w++ = ';';
    if (!rng_chance(r, 0.01)) {
        /* spreadsheets eat the leading zero of some postal codes */
        if (p->country == C_FR && p->postal < 10000 && rng_chance(r, 0.3))
            w = put_u(w, p->postal);
        else
            w = put_postal(w, p);
    }
    *w++ = ';';
    int64_t created = p->created;
    if (dup)
        created += rng_range(r, MS_PER_DAY, 400 * MS_PER_DAY);
    w = put_date_fr(w, created);
    *w++ = ';';
    w = put_s(w, p->optin ? "oui" : "non");
    *w++ = '\n';
    out_write(buf, (size_t)(w - buf));
}

static void write_crm(uint64_t seed)
{
    Rng r;
    rng_seed(&r, mix64(seed ^ 0xc3e0ULL));
    static const char header[] =
        "ID client;E-mail;Prénom;Nom;Téléphone;Ville;Code postal;Date de création;Optin e-mail\n";
    out_write(header, sizeof header - 1);
    for (uint32_t i = 0; i < npeople; i++)
        if (people[i].in_crm)
            crm_row(&r, &people[i], i + 1, 0);
    uint32_t next = npeople + 1;
    for (uint32_t i = 0; i < npeople; i++)
        if (people[i].crm_dup)
            crm_row(&r, &people[i], next++, 1);
}

/* ------------------------------------------------------------------ */
/* Setup and command line                                             */

static void init_catalog(void)
{
    for (size_t c = 0; c < NELEM(categories); c++)
        fold_ascii(cat_slug[c], sizeof cat_slug[c], categories[c], '-');
    for (int i = 0; i < NPROD; i++) {
        Product *pr = &products[i];
        fold_ascii(pr->slug, sizeof pr->slug, pr->name, '-');
        uint64_t h = mix64(0x9d0d0c7ULL + (uint64_t)i);
        char *w = put_hex(pr->pid, 0x6650000ULL + (h >> 40), 8);
        w = put_hex(w, mix64(h), 16);
        *w = 0;
        snprintf(pr->sku, sizeof pr->sku, "%s-%04d", cat_code[pr->cat], 1001 + i * 7);
    }
    for (size_t i = 0; i < NELEM(referrers); i++)
        referrer_w[i] = referrers[i].weight;
}

static void usage(FILE *f)
{
    fputs("usage: cdp-gen [--events N] [--people N] [--seed S]\n"
          "               [--format ndjson|crm-csv|orders-csv|purchases-csv|people-csv]\n"
          "               [--start YYYY-MM-DD[THH:MM:SS]] [--days D]\n", f);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') {
        fprintf(stderr, "cdp-gen: %s: not a non-negative integer: %s\n", opt, s);
        exit(2);
    }
    return v;
}

static int64_t parse_start(const char *s)
{
    int y, m, d, hh = 0, mm = 0, ss = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        goto bad;
    s += n;
    if (*s == 'T' || *s == ' ') {
        if (sscanf(s + 1, "%2d:%2d:%2d%n", &hh, &mm, &ss, &n) != 3)
            goto bad;
        s += 1 + n;
        if (*s == 'Z')
            s++;
    }
    if (*s || hh > 23 || mm > 59 || ss > 60)
        goto bad;
    return (days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * 1000LL;
bad:
    fprintf(stderr, "cdp-gen: --start: expected YYYY-MM-DD\n");
    exit(2);
}

/* people-csv: see "People" at the top. */
static const char *const street_names[] = {
    "rue de la Paix", "avenue Victor Hugo", "rue Jean Jaurès", "chemin des Lilas",
    "rue du Moulin", "boulevard Pasteur", "rue de la Gare", "place des Écoles",
    "rue Voltaire", "avenue Gambetta", "allée des Châtaigniers", "rue Émile Zola",
    "impasse du Château", "quai de Saône", "route de Lyon", "rue des Tanneurs",
};

typedef struct {
    char given[64], surname[64], number[8], address[64], city[48], postcode[8], dob[12],
        phone[16];
} PersonRecord;

/* One typo in an ASCII stretch of s: a letter changed, dropped, doubled or swapped. */
static void typo(Rng *r, char *s)
{
    size_t n = strlen(s);
    if (n < 2)
        return;
    for (int tries = 0; tries < 8; tries++) {
        size_t i = rng_below(r, (uint32_t)(n - 1));
        if ((unsigned char)s[i] >= 0x80 || (unsigned char)s[i + 1] >= 0x80)
            continue;
        switch (rng_below(r, 4)) {
        case 0:
            s[i] = (char)('a' + rng_below(r, 26));
            break;
        case 1:
            memmove(s + i, s + i + 1, n - i);
            break;
        case 2:
            if (n + 2 < 64) {
                memmove(s + i + 1, s + i, n - i + 1);
            }
            break;
        default: {
            char c = s[i];
            s[i] = s[i + 1];
            s[i + 1] = c;
        }
        }
        return;
    }
}

static void corrupt(Rng *r, PersonRecord *p)
{
    char tmp[64];
    switch (rng_below(r, 12)) {
    case 0:
        typo(r, p->given);
        break;
    case 1:
        typo(r, p->surname);
        break;
    case 2:
        *(put_upper(tmp, p->surname)) = 0;
        snprintf(p->surname, sizeof p->surname, "%s", tmp);
        break;
    case 3:
        fold_ascii(tmp, sizeof tmp, p->given, ' ');
        snprintf(p->given, sizeof p->given, "%s", tmp);
        break;
    case 4:
        p->given[0] = 0;
        break;
    case 5: { /* a birth date digit changed or two swapped */
        size_t i = rng_below(r, 7);
        if (i == 4)
            i = 5; /* not the '-' */
        if (p->dob[i] == '-' || p->dob[i + 1] == '-' || rng_chance(r, 0.5)) {
            if (p->dob[i] != '-')
                p->dob[i] = (char)('0' + rng_below(r, 10));
        } else {
            char c = p->dob[i];
            p->dob[i] = p->dob[i + 1];
            p->dob[i + 1] = c;
        }
        break;
    }
    case 6:
        p->dob[0] = 0;
        break;
    case 7:
        p->postcode[3 + rng_below(r, 2)] = (char)('0' + rng_below(r, 10));
        break;
    case 8:
        snprintf(p->number, sizeof p->number, "%u", 1 + rng_below(r, 300));
        break;
    case 9:
        p->phone[0] = 0;
        break;
    case 10:
        typo(r, p->address);
        break;
    default:
        p->city[0] = 0;
        break;
    }
}

static void put_person(const char *id_prefix, uint32_t e, int dup, const PersonRecord *p)
{
    char line[512], *w = line;
    w = put_s(w, id_prefix);
    w = put_u(w, e);
    if (dup) {
        w = put_s(w, "-dup-");
        w = put_u(w, (uint64_t)dup - 1);
    } else {
        w = put_s(w, "-org");
    }
    const char *cells[] = {p->given, p->surname, p->number, p->address,
                           p->city,  p->postcode, p->dob,   p->phone};
    for (size_t c = 0; c < NELEM(cells); c++) {
        *w++ = ',';
        w = put_csv(w, cells[c], strlen(cells[c]), ',');
    }
    *w++ = '\n';
    out_write(line, (size_t)(w - line));
}

static void write_people(uint64_t seed)
{
    static const char header[] =
        "rec_id,given_name,surname,street_number,address,city,postcode,date_of_birth,phone\n";
    out_write(header, sizeof header - 1);
    /* A random order of the persons, so that copies do not follow their original. */
    uint32_t *order = malloc(npeople * sizeof *order);
    if (!order) {
        fprintf(stderr, "cdp-gen: out of memory\n");
        exit(1);
    }
    for (uint32_t i = 0; i < npeople; i++)
        order[i] = i;
    Rng shuffle;
    rng_seed(&shuffle, mix64(seed ^ 0x70656f706c65ULL));
    for (uint32_t i = npeople; i > 1; i--) {
        uint32_t j = rng_below(&shuffle, i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (uint32_t k = 0; k < npeople; k++) {
        uint32_t e = order[k];
        Rng r;
        rng_seed(&r, mix64(seed * 0x9E3779B97F4A7C15ULL ^ (0x7065ULL << 48 | e)));
        PersonRecord p;
        snprintf(p.given, sizeof p.given, "%s", first_names[rng_below(&r, NELEM(first_names))]);
        if (rng_chance(&r, 0.1)) { /* the top hundred names of a country: a tenth of people */
            snprintf(p.surname, sizeof p.surname, "%s",
                     last_names[rng_below(&r, NELEM(last_names))]);
        } else { /* two or three syllables: some 70,000 rarer surnames */
            static const char *const syl[] = {
                "ber", "ca", "dou", "fon", "gar", "la", "mar", "nier", "pel", "ro", "san", "tel",
                "vi", "bou", "chan", "del", "four", "gi", "jou", "le", "mou", "pa", "quet", "ri",
                "sau", "tis", "val", "bro", "clé", "dé", "fa", "gué", "lan", "mé", "no", "ran",
                "sé", "thé", "ver", "zi"};
            char *w = p.surname;
            int k = 2 + rng_below(&r, 2);
            for (int i = 0; i < k; i++)
                w = put_s(w, syl[rng_below(&r, NELEM(syl))]);
            *w = 0;
            p.surname[0] = (char)(p.surname[0] - 32);
        }
        snprintf(p.number, sizeof p.number, "%u", 1 + rng_below(&r, 300));
        snprintf(p.address, sizeof p.address, "%s",
                 street_names[rng_below(&r, NELEM(street_names))]);
        const City *c = &cities[rng_below(&r, NELEM(cities))];
        snprintf(p.city, sizeof p.city, "%s", c->name);
        /* The city's own code, or one of the towns of its department. */
        snprintf(p.postcode, sizeof p.postcode, "%05d",
                 rng_chance(&r, 0.05) ? c->postal + (int)rng_below(&r, (uint32_t)c->nposts)
                                     : c->postal - c->postal % 1000 + (int)rng_below(&r, 1000));
        int y, mo, d;
        civil_from_days(days_from_civil(1940, 1, 1) + rng_below(&r, 65 * 365), &y, &mo, &d);
        snprintf(p.dob, sizeof p.dob, "%04d-%02d-%02d", y, mo, d);
        snprintf(p.phone, sizeof p.phone, "0%u%08u", 6 + rng_below(&r, 2),
                 rng_below(&r, 100000000));
        put_person("rec-", e, 0, &p);
        if (!rng_chance(&r, 0.25))
            continue;
        uint32_t copies = 1 + rng_below(&r, 3);
        for (uint32_t k2 = 0; k2 < copies; k2++) {
            PersonRecord q = p;
            uint32_t n = 1 + rng_below(&r, 3);
            for (uint32_t c2 = 0; c2 < n; c2++)
                corrupt(&r, &q);
            put_person("rec-", e, (int)k2 + 1, &q);
        }
    }
    free(order);
}

/* purchases-csv: see "Purchases" at the top. */
static void write_purchases(uint64_t seed)
{
    static const char header[] = "customer,date,amount\n";
    out_write(header, sizeof header - 1);
    int64_t days = (g_end - g_start) / MS_PER_DAY;
    for (uint32_t i = 0; i < npeople; i++) {
        Rng r;
        rng_seed(&r, mix64(seed * 0x9E3779B97F4A7C15ULL ^ (0x70757263ULL << 32 | i)));
        double lambda = rng_gamma(&r, 0.25) / 10;
        double ga = rng_gamma(&r, 0.8), gb = rng_gamma(&r, 2.5);
        double drop = ga / (ga + gb);
        double nu = rng_gamma(&r, 3.75) / 15;
        double t = rng_unit(&r) * (double)days / 2;
        for (int repeat = 0;; repeat = 1) {
            char line[64], *w = line;
            w = put_s(w, "c");
            w = put_uz(w, i, 8);
            *w++ = ',';
            w = put_ts(w, g_start + (int64_t)t * MS_PER_DAY, 0);
            w -= 10; /* keep the date: YYYY-MM-DD */
            *w++ = ',';
            w = put_money(w, (int64_t)llround(rng_gamma(&r, 6) / nu * 100));
            *w++ = '\n';
            out_write(line, (size_t)(w - line));
            /* Only a repeat purchase can be the last: the model's customer is
               alive until the first one after the initial purchase. */
            if ((repeat && rng_chance(&r, drop)) || lambda <= 0)
                break;
            t += rng_exp(&r, 1 / lambda);
            if (t >= (double)days)
                break;
        }
    }
}

int main(int argc, char **argv)
{
    uint64_t events = 10000, seed = 1, days = 365, npeople_arg = 0;
    int64_t start = parse_start("2025-01-01");

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        const char *v = NULL;
        const char *eq = strchr(a, '=');
        char name[32];
        if (eq && a[0] == '-' && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            v = eq + 1;
            a = name;
        } else if (i + 1 < argc) {
            v = argv[++i];
        }
        if (!v) {
            fprintf(stderr, "cdp-gen: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--events"))
            events = parse_u64(a, v);
        else if (!strcmp(a, "--people"))
            npeople_arg = parse_u64(a, v);
        else if (!strcmp(a, "--seed"))
            seed = parse_u64(a, v);
        else if (!strcmp(a, "--days"))
            days = parse_u64(a, v);
        else if (!strcmp(a, "--start"))
            start = parse_start(v);
        else if (!strcmp(a, "--format")) {
            if (!strcmp(v, "ndjson"))
                g_format = FMT_NDJSON;
            else if (!strcmp(v, "crm-csv"))
                g_format = FMT_CRM;
            else if (!strcmp(v, "orders-csv"))
                g_format = FMT_ORDERS;
            else if (!strcmp(v, "purchases-csv"))
                g_format = FMT_PURCHASES;
            else if (!strcmp(v, "people-csv"))
                g_format = FMT_PEOPLE;
            else {
                fprintf(stderr, "cdp-gen: unknown format: %s\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "cdp-gen: unknown option: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (days == 0 || days > 36500) {
        fprintf(stderr, "cdp-gen: --days must be between 1 and 36500\n");
        return 2;
    }
    uint64_t np = npeople_arg ? npeople_arg : events / 20;
    if (np == 0)
        np = 1;
    if (np > 100000000ULL || events > 4000000000ULL) {
        fprintf(stderr, "cdp-gen: too many people or events\n");
        return 2;
    }
    npeople = (uint32_t)np;

    out_buf = malloc(OUT_CAP);
    people = calloc(npeople, sizeof *people);
    if (!out_buf || !people) {
        fprintf(stderr, "cdp-gen: out of memory\n");
        return 1;
    }
    g_start = start;
    g_end = start + (int64_t)days * MS_PER_DAY;

    init_catalog();
    gen_people(seed);
    gen_created(seed, g_start, g_end);

    if (g_format == FMT_PEOPLE) {
        write_people(seed);
    } else if (g_format == FMT_PURCHASES) {
        write_purchases(seed);
    } else if (g_format == FMT_CRM) {
        write_crm(seed);
    } else {
        if (g_format == FMT_ORDERS) {
            static const char header[] =
                "order_id,email,order_date,total,currency,payment_method,category\n";
            out_write(header, sizeof header - 1);
        }
        simulate(seed, events);
    }
    out_flush();
    if (fflush(stdout) != 0) {
        perror("cdp-gen: write");
        return 1;
    }
    free(people);
    free(out_buf);
    free(held);
    return 0;
}
