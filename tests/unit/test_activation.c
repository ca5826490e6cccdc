/*
 * test_activation.c - unit tests for lib/activation.c: the audience formats
 * of cdp-export, their normal forms, hashes and CSV cells.
 *
 * Every expected SHA-256 below was computed outside this program, with
 * `printf '%s' VALUE | sha256sum`, and pasted as a literal: the tests never
 * hash with the library they check.
 */
#include "activation.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* SHA-256 hex of values, from sha256sum. */
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ADSAPI "49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d"
#define SHA_TEST_GMAIL "87924606b4131a8aceeeae8868531fbb9712aaa07a5d3a756b26ce0f5d6ca674"
#define SHA_JEANDUPONT_GMAIL "a58df53d782ec0e3ed0e64226ae34b2519457e405954edc29c8cfa515de1eb02"
#define SHA_JEAN_DUPONT_PROMO "bf13bbc906233cd1994aab89f1558812861122a7908972cbc402a98c6143da1f"
#define SHA_PLUS33 "42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"
#define SHA_33 "8a3e7886c9335e82e02299fa3e87b46e2de3b0c63d56003e30a5029394a47661"
#define SHA_ELOISE_ACCENTS "da88a25ab9c8697c7cefed8f98868c8f36eb7dbbb547232099dcc638428ab0ab"
#define SHA_DANGSTROM_ACCENTS "85fe9018ff23333e31871eb868162715af0f6598db40c62251c2386eb7003bda"
#define SHA_ELOISE "b2f9f0bc0d02aa14fc9ad4c1578aae4d6d17bd600de847213589aea3711dda63"
#define SHA_DANGSTROM "824e1230c9f643abbabfe90474a0ac00c7d1163e0a8dbf226a3a2fb9ef75bcc8"
#define SHA_SAINTETIENNE "a8f6ec111511a342604a5f59281164c4edd7fe001da9d3380e4f58ac41e8994a"
#define SHA_ILEDEFRANCE "e7a0efad69ad8cd77fcd8218439ad69182b24d819222f038eb166fa4139ef159"
#define SHA_42000 "c18d4cbad6a778b727bac4c7572a747cf105ad959e684f3d3c123d3e4071a5ca"
#define SHA_FR "67ad8f41a7bb0a18c45f3efd8f6a32bdcd832bcf8f3f2eb44006c03d53076e18"
#define SHA_19900517 "7eaa6e2f3dca12acc11ad21625299f660e38a7510de1e12cf2013dd5274d2926"
#define SHA_19900507 "0a8833d6bf16ab77b210aea3ffa27104838fe3fc51219b871f869cf4b3194049"
#define SHA_19840229 "3636fdbcdc0f67c099c399cefe7b7816f5dd9a03ea53f954bed8b78018108d09"
#define SHA_F "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111"
#define SHA_M "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a"
#define SHA_PAUL "30e6eebb170988262e8c7d6b7a2e4a912ea780f09ea68fb97679fad3c3ee355b"
#define SHA_PLUS1 "cb6880e416769253645cb9c6b8989154bf66a56a77fc14c81fb1019663cbb928"
#define SHA_1 "758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0"
#define SHA_94303 "dbc44237b6c2015598a867bb304d3740130e32bde3b7f55bdabf61874a1659a9"
#define SHA_US "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
#define SHA_JOHN "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a"
#define SHA_SMITH "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd"
#define SHA_MARY_ANN "343b97011010c3549fe7fcd6c226ed9431ea37b0b77ed78f6300a0098925faf1"
#define SHA_FRANCOIS_ACCENT "6f15f31e41b3cffbd18babc9a86f66965c2683be529f976e566053129180e09e"
#define SHA_FRANCOIS "eac7ccb170414fd1990186409a7c9d58b4652db8fe37cb0aabed24583417e515"
#define SHA_ANGSTROM_ACCENTS "d792fdbd024c6c8239fbb1d588beab4a614f12fb166e006c32cb85bceb2881ac"
#define SHA_HYPERLINKHTTPX "d748fb15068d014843747f99a38e9cc245d9b820286a9b6b19e8a13dfb0c9d43"
#define SHA_MARTIN_JR "8764a7eb183131ab1c1b1d2c219775a24931fcd9c0613a79c200d1833e0ad3f3"
#define SHA_02134 "1f75e2dac5b82521f112e293235aaeeb5dad684c5ede8469c1ec015b22bba44c"
#define SHA_SW1A1AA "830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614"
#define SHA_CA "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126"
#define SHA_PARIS "1670f2e42fefa5044d59a65349e47c566009488fc57d7b4376dd5787b59e3c57"
#define SHA_19900101 "d6165fc8037886424321260c0f9c2a76f7d8d545a02f95c70da9952a13299f33"
#define SHA_NOBODY "6382b3cc881412b77bfcaeed026001c00d9e3025e66c20f6e7e92f079851462a"
#define SHA_X_EXAMPLE "106ab2de3ae32f0e429961a20307e3a5e05d7b4dd6f25e8c2e5282de58208f00"
#define SHA_ANGSTROM "b35727cee9bfa4223fd39fd5333c59931ea840f3ea5fc32061a40b366ce350d0"
#define SHA_A_EXAMPLE "08168cd80dfd534ab0f10af10f1303fe00af2d43ab5c1432360d137f8197e17a"
#define SHA_B_EXAMPLE "e8f39b3e1382367d6d41ab34dc270d4e7533f978c9e9a775dfe2185b2f96b96c"

static struct cdp_buf out = CDP_BUF_INIT;

/* The text of out, "" when nothing was ever appended. */
static const char *
text(void)
{
    return out.data ? out.data : "";
}

static const char *
google_email(const char *in)
{
    cdp_buf_reset(&out);
    cdp_activation_google_email(in, &out);
    return text();
}

static const char *
phone(const char *in, const char *country)
{
    cdp_buf_reset(&out);
    return cdp_activation_phone_e164(in, country, &out) ? text() : NULL;
}

static const char *
name(const char *in)
{
    cdp_buf_reset(&out);
    cdp_activation_name(in, &out);
    return text();
}

static const char *
meta_name(const char *in)
{
    cdp_buf_reset(&out);
    cdp_activation_meta_name(in, &out);
    return text();
}

static const char *
sha(const char *in)
{
    static char hex[65];
    cdp_activation_sha256_hex(in, strlen(in), hex);
    return hex;
}

/* The SHA-256 of a normal form, as the row functions chain them. */
static const char *
sha_of_out(void)
{
    return sha(text());
}

static const char *
cell(const char *in, char delimiter, bool escape)
{
    cdp_buf_reset(&out);
    cdp_activation_csv_cell(&out, in, delimiter, escape);
    return text();
}

/* A new profile with no identifiers and no traits. */
static void
profile_new(struct cdp_profile *p)
{
    struct cdp_id id = cdp_hash_string("test");
    cdp_profile_init(p, &id);
}

/* Sets a trait later than every value set before, so it wins; takes value. */
static void
set_json(struct cdp_profile *p, const char *trait, json_t *value)
{
    static int64_t time = 1000;
    cdp_profile_set_trait(p, trait, value, ++time, "test", NULL);
    json_decref(value);
}

static void
set_string(struct cdp_profile *p, const char *trait, const char *value)
{
    set_json(p, trait, json_string(value));
}

/* A row of format f for p with the default country, or NULL when skipped. */
static const char *
row(enum cdp_activation_format f, struct cdp_profile *p, const char *country)
{
    const char *why = NULL;
    cdp_buf_reset(&out);
    return cdp_activation_row(f, p, country, &out, &why) ? text() : NULL;
}

/* Cell n (0-based) of a Meta row of a profile, which has no quoted cells. */
static const char *
meta_cell(struct cdp_profile *p, const char *country, int n)
{
    static char value[128];
    const char *r = row(CDP_ACT_META, p, country);
    if (r == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        r = strchr(r, ',');
        if (r == NULL)
            return NULL;
        r++;
    }
    size_t len = strcspn(r, ",\r");
    snprintf(value, sizeof value, "%.*s", (int)len, r);
    return value;
}

static void
test_formats(void)
{
    enum cdp_activation_format f = CDP_ACT_META;

    CHECK(cdp_activation_format_from_name("mailchimp", &f) && f == CDP_ACT_MAILCHIMP);
    CHECK(cdp_activation_format_from_name("brevo", &f) && f == CDP_ACT_BREVO);
    CHECK(cdp_activation_format_from_name("klaviyo", &f) && f == CDP_ACT_KLAVIYO);
    CHECK(cdp_activation_format_from_name("google-customer-match", &f) && f == CDP_ACT_GOOGLE);
    CHECK(cdp_activation_format_from_name("meta-custom-audience", &f) && f == CDP_ACT_META);
    f = CDP_ACT_BREVO;
    CHECK(!cdp_activation_format_from_name("Mailchimp", &f));
    CHECK(!cdp_activation_format_from_name("google", &f));
    CHECK(!cdp_activation_format_from_name("meta", &f));
    CHECK(!cdp_activation_format_from_name("", &f));
    CHECK(!cdp_activation_format_from_name(NULL, &f));
    CHECK(f == CDP_ACT_BREVO); /* untouched by the failures */

    CHECK_INT(cdp_activation_delimiter(CDP_ACT_BREVO), ';');
    CHECK_INT(cdp_activation_delimiter(CDP_ACT_MAILCHIMP), ',');
    CHECK_INT(cdp_activation_delimiter(CDP_ACT_KLAVIYO), ',');
    CHECK_INT(cdp_activation_delimiter(CDP_ACT_GOOGLE), ',');
    CHECK_INT(cdp_activation_delimiter(CDP_ACT_META), ',');
}

static const char *
header(enum cdp_activation_format f)
{
    cdp_buf_reset(&out);
    cdp_activation_header(f, &out);
    return text();
}

static void
test_headers(void)
{
    CHECK_STR(header(CDP_ACT_MAILCHIMP), "Email Address,First Name,Last Name,Tags\r\n");
    CHECK_STR(header(CDP_ACT_BREVO), "EMAIL;FIRSTNAME;LASTNAME;SMS\r\n");
    CHECK_STR(header(CDP_ACT_KLAVIYO), "Email,Phone Number,First Name,Last Name\r\n");
    CHECK_STR(header(CDP_ACT_GOOGLE), "Email,Phone,First Name,Last Name,Country,Zip\r\n");
    CHECK_STR(header(CDP_ACT_META), "email,phone,fn,ln,ct,st,zip,country,dob,gen,external_id\r\n");

    /* The header appends. */
    cdp_buf_reset(&out);
    cdp_buf_puts(&out, "x");
    cdp_activation_header(CDP_ACT_BREVO, &out);
    CHECK_STR(text(), "xEMAIL;FIRSTNAME;LASTNAME;SMS\r\n");
}

static void
test_google_email(void)
{
    CHECK_STR(google_email("test@gmail.com"), "test@gmail.com");
    CHECK_STR(google_email("  John.Doe+News@GMail.com \t"), "johndoe@gmail.com");
    CHECK_STR(google_email("j.o.h.n+a+b@googlemail.com"), "john@googlemail.com");
    CHECK_STR(google_email("J.Doe@GOOGLEMAIL.COM"), "jdoe@googlemail.com");
    /* Other domains keep their dots and "+suffix". */
    CHECK_STR(google_email("John.Doe+News@Example.com"), "john.doe+news@example.com");
    CHECK_STR(google_email("john.doe+x@gmail.co.uk"), "john.doe+x@gmail.co.uk");
    CHECK_STR(google_email("john.doe@mail.gmail.com"), "john.doe@mail.gmail.com");
    CHECK_STR(google_email("john.doe@notgmail.com"), "john.doe@notgmail.com");
    /* Only the local part loses its dots. */
    CHECK_STR(google_email("a.b@gmail.com"), "ab@gmail.com");
    CHECK_STR(google_email("\xc2\xa0"
                           "A.B@gmail.com"
                           "\xc2\xa0"),
              "ab@gmail.com");
    CHECK_STR(google_email("no-at-sign.here"), "no-at-sign.here");
    CHECK_STR(google_email(""), "");
    CHECK_STR(google_email("   "), "");
    CHECK_STR(google_email(NULL), "");

    /* It appends. */
    cdp_buf_reset(&out);
    cdp_buf_puts(&out, "<");
    cdp_activation_google_email("X.Y@gmail.com", &out);
    CHECK_STR(text(), "<xy@gmail.com");
}

static void
test_phone(void)
{
    CHECK_STR(phone("06 12 34 56 78", "FR"), "+33612345678");
    CHECK_STR(phone("06 12 34 56 78", "fr"), "+33612345678");
    CHECK_STR(phone("06.12.34.56.78", "FR"), "+33612345678");
    CHECK_STR(phone("+33 (0)6 12 34 56 78", NULL), "+33612345678");
    CHECK_STR(phone("+33 (0)6 12 34 56 78", "US"), "+33612345678");
    CHECK_STR(phone("0033612345678", NULL), "+33612345678");
    CHECK_STR(phone("+33612345678", NULL), "+33612345678");
    CHECK_STR(phone("(415) 555-2671", "US"), "+14155552671");
    CHECK(phone("06 12 34 56 78", NULL) == NULL); /* national, no country */
    CHECK(phone("06 12 34 56 78", "ZZ") == NULL);
    CHECK(phone("call me", "FR") == NULL);
    CHECK(phone("", "FR") == NULL);
    CHECK(phone(NULL, "FR") == NULL);
    CHECK_STR(text(), ""); /* a failure appends nothing */
}

static void
test_google_name(void)
{
    CHECK_STR(name("Éloïse"), "éloïse");
    CHECK_STR(name("  François  "), "françois");
    CHECK_STR(name("FRANÇOIS"), "françois");
    CHECK_STR(name("ÅNGSTRÖM"), "ångström");
    CHECK_STR(name("Ångström"), "ångström");
    CHECK_STR(name("John"), "john");
    CHECK_STR(name("O'Brien"), "obrien");
    CHECK_STR(name("O\u2019Brien"), "obrien");   /* typographic apostrophe */
    CHECK_STR(name("D\u02bcAngelo"), "dangelo"); /* modifier letter apostrophe */
    CHECK_STR(name("Jean-Luc"), "jeanluc");
    CHECK_STR(name("Dr. Smith"), "dr smith");
    CHECK_STR(name("  Mary \t  Ann  "), "mary ann");
    CHECK_STR(name("Mary\xc2\xa0"
                   "Ann"),
              "mary ann"); /* no-break space */
    CHECK_STR(name("ÉMILIE ZOLA!"), "émilie zola");
    CHECK_STR(name("Straße"), "straße");
    CHECK_STR(name("İlker"), "ilker");
    CHECK_STR(name("ŁUKASZ ŻÓŁW"), "łukasz żółw");
    CHECK_STR(name("NGUYỄN"), "nguyễn");
    CHECK_STR(name("ИВАН"), "иван");
    CHECK_STR(name("ΑΘΗΝΆ"), "αθηνά");
    CHECK_STR(name("Zoë 😀"), "zoë");
    CHECK_STR(name("bad\xff"
                   "byte"),
              "badbyte");
    CHECK_STR(name("E\xcc\x81milie"), "e\xcc\x81milie"); /* combining accent kept */
    CHECK_STR(name("..."), "");
    CHECK_STR(name(""), "");
    CHECK_STR(name(NULL), "");

    /* The hashes of the normal forms. */
    name("Éloïse");
    CHECK_STR(sha_of_out(), SHA_ELOISE_ACCENTS);
    name(" FRANÇOIS ");
    CHECK_STR(sha_of_out(), SHA_FRANCOIS_ACCENT);
    name("ÅNGSTRÖM");
    CHECK_STR(sha_of_out(), SHA_ANGSTROM_ACCENTS);
    name("Mary  Ann");
    CHECK_STR(sha_of_out(), SHA_MARY_ANN);
    name("John");
    CHECK_STR(sha_of_out(), SHA_JOHN);
}

static void
test_meta_name(void)
{
    CHECK_STR(meta_name("Éloïse"), "eloise");
    CHECK_STR(meta_name("François"), "francois");
    CHECK_STR(meta_name("Ångström"), "angstrom");
    CHECK_STR(meta_name("ÅNGSTRÖM"), "angstrom");
    CHECK_STR(meta_name("  Jean-Luc Picard "), "jeanlucpicard");
    CHECK_STR(meta_name("O'Brien"), "obrien");
    CHECK_STR(meta_name("Straße"), "strasse");
    CHECK_STR(meta_name("STRAẞE"), "strasse");
    CHECK_STR(meta_name("Œuvre"), "oeuvre");
    CHECK_STR(meta_name("Ærøskøbing"), "aeroskobing");
    CHECK_STR(meta_name("Þórr"), "thorr");
    CHECK_STR(meta_name("Łódź"), "lodz");
    CHECK_STR(meta_name("Dvořák"), "dvorak");
    CHECK_STR(meta_name("Ștefan Țurcanu"), "stefanturcanu");
    CHECK_STR(meta_name("Nguyễn"), "nguyen");
    CHECK_STR(meta_name("İstanbul"), "istanbul");
    CHECK_STR(meta_name("São Paulo"), "saopaulo");
    CHECK_STR(meta_name("Saint-Étienne"), "saintetienne");
    CHECK_STR(meta_name("Île-de-France"), "iledefrance");
    CHECK_STR(meta_name("E\xcc\x81lo\xc3\xaf"
                        "se"),
              "eloise"); /* decomposed accents */
    CHECK_STR(meta_name("Louis XIV 2nd"), "louisxivnd");
    CHECK_STR(meta_name("Иван"), ""); /* no Latin letters: nothing left */
    CHECK_STR(meta_name("bad\xff"
                        "byte"),
              "badbyte");
    CHECK_STR(meta_name(""), "");
    CHECK_STR(meta_name(NULL), "");

    meta_name("Éloïse");
    CHECK_STR(sha_of_out(), SHA_ELOISE);
    meta_name("François");
    CHECK_STR(sha_of_out(), SHA_FRANCOIS);
    meta_name("Ångström");
    CHECK_STR(sha_of_out(), SHA_ANGSTROM);
    meta_name(" SMITH ");
    CHECK_STR(sha_of_out(), SHA_SMITH);
}

static void
test_sha256(void)
{
    CHECK_STR(sha(""), SHA_EMPTY);
    CHECK_STR(sha("abc"), SHA_ABC); /* the FIPS 180-2 example */
    /* The example of X's Ads API documentation (Custom Audiences, user data). */
    CHECK_STR(sha("adsapi"), SHA_ADSAPI);
    CHECK_STR(sha("test@gmail.com"), SHA_TEST_GMAIL);
    CHECK_STR(sha("+33612345678"), SHA_PLUS33);

    char hex[65];
    cdp_activation_sha256_hex("abcdef", 3, hex); /* only len bytes count */
    CHECK_STR(hex, SHA_ABC);
    CHECK_INT(strlen(hex), 64);
}

static void
test_csv_cell(void)
{
    CHECK_STR(cell("plain", ',', true), "plain");
    CHECK_STR(cell("", ',', true), "");
    CHECK_STR(cell(NULL, ',', true), "");
    CHECK_STR(cell("a,b", ',', false), "\"a,b\"");
    CHECK_STR(cell("say \"hi\"", ',', false), "\"say \"\"hi\"\"\"");
    CHECK_STR(cell("two\nlines", ',', false), "\"two\nlines\"");
    CHECK_STR(cell("a-b", ',', true), "a-b");

    /* Formulas: escaped only when asked. */
    CHECK_STR(cell("=1+1", ',', true), "'=1+1");
    CHECK_STR(cell("=1+1", ',', false), "=1+1");
    CHECK_STR(cell("+33612345678", ',', true), "'+33612345678");
    CHECK_STR(cell("+33612345678", ',', false), "+33612345678");
    CHECK_STR(cell("-5", ',', true), "'-5");
    CHECK_STR(cell("-5", ',', false), "-5");
    CHECK_STR(cell("@SUM(A1:A9)", ',', true), "'@SUM(A1:A9)");
    CHECK_STR(cell("@SUM(A1:A9)", ',', false), "@SUM(A1:A9)");
    CHECK_STR(cell("\tcmd", ',', true), "'\tcmd");
    CHECK_STR(cell("\tcmd", ',', false), "\tcmd");
    CHECK_STR(cell("\rcmd", ',', true), "\"'\rcmd\"");
    CHECK_STR(cell("\rcmd", ',', false), "\"\rcmd\"");
    CHECK_STR(cell("=HYPERLINK(\"http://x\",\"y\")", ',', true),
              "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");

    /* Brevo's ';': it is quoted, and ',' is not. */
    CHECK_STR(cell("Dupont; Jean", ';', false), "\"Dupont; Jean\"");
    CHECK_STR(cell("Dupont, Jean", ';', false), "Dupont, Jean");
    CHECK_STR(cell("=A1;B1", ';', true), "\"'=A1;B1\"");

    /* It appends. */
    cdp_buf_reset(&out);
    cdp_buf_puts(&out, "x,");
    cdp_activation_csv_cell(&out, "a\"b", ',', true);
    CHECK_STR(text(), "x,\"a\"\"b\"");
}

/* The profile of most row tests: every field, with tricky values. */
static void
full_profile(struct cdp_profile *p)
{
    profile_new(p);
    cdp_profile_add_identifier(p, "user:u-42");
    cdp_profile_add_identifier(p, "phone:+33612345678");
    cdp_profile_add_identifier(p, "email:jean.dupont+promo@gmail.com");
    cdp_profile_add_identifier(p, "anon:a1b2");
    set_string(p, "first_name", "  Éloïse ");
    set_string(p, "lastName", "D'Ångström");
    set_string(p, "city", "Saint-Étienne");
    set_string(p, "region", "Île-de-France");
    set_string(p, "postal_code", "42 000");
    set_string(p, "country", "fr");
    set_string(p, "birthday", "1990-05-17");
    set_string(p, "gender", "Female");
    set_string(p, "email", "other@example.com"); /* the identifier wins */
    json_t *tags = json_pack("[s, s, i, s]", " vip ", "newsletter", 7, "");
    set_json(p, "tags", tags);
}

static void
test_rows_full(void)
{
    struct cdp_profile p;
    full_profile(&p);

    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, "US"),
              "jean.dupont+promo@gmail.com,Éloïse,D'Ångström,\"vip,newsletter,7\"\r\n");
    CHECK_STR(row(CDP_ACT_BREVO, &p, "US"),
              "jean.dupont+promo@gmail.com;Éloïse;D'Ångström;+33612345678\r\n");
    CHECK_STR(row(CDP_ACT_KLAVIYO, &p, "US"),
              "jean.dupont+promo@gmail.com,+33612345678,Éloïse,D'Ångström\r\n");
    CHECK_STR(row(CDP_ACT_GOOGLE, &p, "US"), SHA_JEANDUPONT_GMAIL
              "," SHA_PLUS33 "," SHA_ELOISE_ACCENTS "," SHA_DANGSTROM_ACCENTS ",FR,42 000\r\n");
    CHECK_STR(row(CDP_ACT_META, &p, "US"), SHA_JEAN_DUPONT_PROMO
              "," SHA_33 "," SHA_ELOISE "," SHA_DANGSTROM "," SHA_SAINTETIENNE "," SHA_ILEDEFRANCE
              "," SHA_42000 "," SHA_FR "," SHA_19900517 "," SHA_F ",u-42\r\n");

    /* A row appends to what the buffer holds. */
    cdp_buf_reset(&out);
    cdp_buf_puts(&out, "prev\r\n");
    const char *why = "unset";
    CHECK(cdp_activation_row(CDP_ACT_BREVO, &p, NULL, &out, &why));
    CHECK_STR(text(), "prev\r\njean.dupont+promo@gmail.com;Éloïse;D'Ångström;+33612345678\r\n");
    CHECK_STR(why, "unset");

    /* The same profile read back from its record: traits load on demand. */
    struct cdp_buf record = CDP_BUF_INIT;
    struct cdp_profile q;
    cdp_profile_encode(&p, &record);
    CHECK(cdp_profile_decode(&q, &p.id, record.data, record.len));
    CHECK(q.traits == NULL);
    CHECK_STR(row(CDP_ACT_KLAVIYO, &q, NULL),
              "jean.dupont+promo@gmail.com,+33612345678,Éloïse,D'Ångström\r\n");
    cdp_profile_free(&q);
    cdp_buf_free(&record);
    cdp_profile_free(&p);
}

/* A profile known from its traits only, with text a spreadsheet would run. */
static void
test_rows_traits(void)
{
    struct cdp_profile p;
    profile_new(&p);
    set_string(&p, "email", " Paul@Example.COM ");
    set_string(&p, "phone", "06 12 34 56 78");
    set_string(&p, "firstName", "=HYPERLINK(\"http://x\")");
    set_string(&p, "last_name", "-Martin; Jr");
    set_string(&p, "tags", " a, b ,,c ");

    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, "FR"),
              "paul@example.com,\"'=HYPERLINK(\"\"http://x\"\")\",'-Martin; Jr,\"a,b,c\"\r\n");
    CHECK_STR(
        row(CDP_ACT_BREVO, &p, "FR"),
        "paul@example.com;\"'=HYPERLINK(\"\"http://x\"\")\";\"'-Martin; Jr\";+33612345678\r\n");
    /* E.164 numbers are not escaped: the "+" is part of the value. */
    CHECK_STR(row(CDP_ACT_KLAVIYO, &p, "FR"),
              "paul@example.com,+33612345678,\"'=HYPERLINK(\"\"http://x\"\")\",'-Martin; Jr\r\n");
    /* Without a country the national number cannot be read. */
    CHECK_STR(row(CDP_ACT_KLAVIYO, &p, NULL),
              "paul@example.com,,\"'=HYPERLINK(\"\"http://x\"\")\",'-Martin; Jr\r\n");
    CHECK_STR(meta_cell(&p, "FR", 0), SHA_PAUL);
    CHECK_STR(meta_cell(&p, "FR", 1), SHA_33);
    CHECK_STR(meta_cell(&p, "FR", 7), SHA_FR); /* the default country */
    CHECK_STR(meta_cell(&p, NULL, 7), "");
    CHECK_STR(meta_cell(&p, "FR", 10), "");
    CHECK_STR(row(CDP_ACT_GOOGLE, &p, "fr"),
              SHA_PAUL "," SHA_PLUS33 "," SHA_HYPERLINKHTTPX "," SHA_MARTIN_JR ",FR,\r\n");
    cdp_profile_free(&p);
}

/* A US profile: the profile's country reads its phone, its zip keeps 5 digits. */
static void
test_rows_us(void)
{
    struct cdp_profile p;
    profile_new(&p);
    cdp_profile_add_identifier(&p, "email:test@gmail.com");
    set_string(&p, "phone", "(415) 555-2671");
    set_string(&p, "country", " US ");
    set_string(&p, "zipcode", "94303-5300");
    set_string(&p, "firstname", "JOHN");
    set_string(&p, "lastname", "Smith");
    set_string(&p, "birthdate", "1984-02-29T08:30:00Z");
    set_string(&p, "gender", "M");

    /* The default country (FR) does not override the profile's own. */
    CHECK_STR(row(CDP_ACT_GOOGLE, &p, "FR"),
              SHA_TEST_GMAIL "," SHA_PLUS1 "," SHA_JOHN "," SHA_SMITH ",US,94303-5300\r\n");
    CHECK_STR(row(CDP_ACT_META, &p, "FR"),
              SHA_TEST_GMAIL "," SHA_1 "," SHA_JOHN "," SHA_SMITH ",,," SHA_94303 "," SHA_US
                             "," SHA_19840229 "," SHA_M ",\r\n");
    CHECK_STR(row(CDP_ACT_BREVO, &p, "FR"), "test@gmail.com;JOHN;Smith;+14155552671\r\n");
    cdp_profile_free(&p);
}

static void
test_skip(void)
{
    struct cdp_profile p;
    const char *why;
    profile_new(&p);
    cdp_profile_add_identifier(&p, "anon:only");
    set_string(&p, "firstName", "Nobody");

    static const enum cdp_activation_format all[] = {CDP_ACT_MAILCHIMP, CDP_ACT_BREVO,
                                                     CDP_ACT_KLAVIYO, CDP_ACT_GOOGLE, CDP_ACT_META};
    static const char *const reasons[] = {"no e-mail", "no e-mail", "no e-mail",
                                          "no e-mail or phone", "no e-mail or phone"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        cdp_buf_reset(&out);
        cdp_buf_puts(&out, "kept");
        why = NULL;
        CHECK(!cdp_activation_row(all[i], &p, "FR", &out, &why));
        CHECK_STR(why, reasons[i]);
        CHECK_STR(text(), "kept"); /* nothing appended */
    }
    CHECK(!cdp_activation_row(CDP_ACT_META, &p, "FR", &out, NULL)); /* why may be NULL */

    /* Junk and invalid e-mail traits count as no e-mail. */
    set_string(&p, "email", "test@test.com");
    CHECK(row(CDP_ACT_MAILCHIMP, &p, "FR") == NULL);
    set_string(&p, "email", "not an e-mail");
    CHECK(row(CDP_ACT_MAILCHIMP, &p, "FR") == NULL);
    /* So does an invalid phone for the ad platforms. */
    set_string(&p, "phone", "12");
    CHECK(row(CDP_ACT_GOOGLE, &p, "FR") == NULL);
    set_string(&p, "phone", "+33 000 000 000");
    CHECK(row(CDP_ACT_META, &p, "FR") == NULL);

    /* A phone is enough for the ad platforms, not for the e-mail tools. */
    set_string(&p, "phone", "+33 (0)6 12 34 56 78");
    why = NULL;
    cdp_buf_reset(&out);
    CHECK(!cdp_activation_row(CDP_ACT_KLAVIYO, &p, "FR", &out, &why));
    CHECK_STR(why, "no e-mail");
    CHECK_STR(row(CDP_ACT_GOOGLE, &p, NULL), "," SHA_PLUS33 "," SHA_NOBODY ",,,\r\n");
    CHECK_STR(row(CDP_ACT_META, &p, NULL), "," SHA_33 "," SHA_NOBODY ",,,,,,,,\r\n");
    cdp_profile_free(&p);
}

/* A profile with an e-mail and one trait, for the Meta cells one at a time. */
static void
one_trait(struct cdp_profile *p, const char *trait, const char *value)
{
    profile_new(p);
    cdp_profile_add_identifier(p, "email:x@example.com");
    if (value != NULL)
        set_string(p, trait, value);
}

/* Meta cell n of a profile with one trait; country is the default country. */
static const char *
meta_of(const char *trait, const char *value, const char *country, int n)
{
    static char value_copy[128];
    struct cdp_profile p;
    one_trait(&p, trait, value);
    const char *c = meta_cell(&p, country, n);
    snprintf(value_copy, sizeof value_copy, "%s", c ? c : "(skipped)");
    cdp_profile_free(&p);
    return value_copy;
}

enum {
    META_EMAIL,
    META_PHONE,
    META_FN,
    META_LN,
    META_CT,
    META_ST,
    META_ZIP,
    META_COUNTRY,
    META_DOB,
    META_GEN,
    META_EXTERNAL_ID
};

static void
test_meta_fields(void)
{
    /* Birth dates. */
    CHECK_STR(meta_of("birthday", "1990-05-17", NULL, META_DOB), SHA_19900517);
    CHECK_STR(meta_of("dob", "19900517", NULL, META_DOB), SHA_19900517);
    CHECK_STR(meta_of("birthdate", "1990/5/7", NULL, META_DOB), SHA_19900507);
    CHECK_STR(meta_of("birthdate", "1990.05.07", NULL, META_DOB), SHA_19900507);
    CHECK_STR(meta_of("birthday", " 1990-01-01T00:00:00Z ", NULL, META_DOB), SHA_19900101);
    CHECK_STR(meta_of("birthday", "1984-02-29", NULL, META_DOB), SHA_19840229);
    CHECK_STR(meta_of("birthday", "1985-02-29", NULL, META_DOB), ""); /* not a leap year */
    CHECK_STR(meta_of("birthday", "1990-02-30", NULL, META_DOB), "");
    CHECK_STR(meta_of("birthday", "1990-13-01", NULL, META_DOB), "");
    CHECK_STR(meta_of("birthday", "17/05/1990", NULL, META_DOB), ""); /* day or month first? */
    CHECK_STR(meta_of("birthday", "1990-05", NULL, META_DOB), "");
    CHECK_STR(meta_of("birthday", "1990-05/17", NULL, META_DOB), "");
    CHECK_STR(meta_of("birthday", "199005170", NULL, META_DOB), "");
    CHECK_STR(meta_of("birthday", "soon", NULL, META_DOB), "");
    CHECK_STR(meta_of("birthday", NULL, NULL, META_DOB), "");
    {
        struct cdp_profile p;
        one_trait(&p, "dob", NULL);
        json_t *v = json_integer(19900517);
        set_json(&p, "dob", v);
        CHECK_STR(meta_cell(&p, NULL, META_DOB), SHA_19900517);
        cdp_profile_free(&p);
    }

    /* Genders. */
    CHECK_STR(meta_of("gender", "F", NULL, META_GEN), SHA_F);
    CHECK_STR(meta_of("gender", " female ", NULL, META_GEN), SHA_F);
    CHECK_STR(meta_of("gender", "Femme", NULL, META_GEN), SHA_F);
    CHECK_STR(meta_of("gender", "male", NULL, META_GEN), SHA_M);
    CHECK_STR(meta_of("gender", "HOMME", NULL, META_GEN), SHA_M);
    CHECK_STR(meta_of("gender", "x", NULL, META_GEN), "");
    CHECK_STR(meta_of("gender", "", NULL, META_GEN), "");

    /* Zip codes: lower case without spaces; 5 digits only in the US. */
    CHECK_STR(meta_of("zip", "SW1A 1AA", NULL, META_ZIP), SHA_SW1A1AA);
    CHECK_STR(meta_of("postalCode",
                      " 42\xc2\xa0"
                      "000 ",
                      "FR", META_ZIP),
              SHA_42000);
    CHECK_STR(meta_of("zip", "02134-1234", "us", META_ZIP), SHA_02134);
    CHECK_STR(meta_of("zip", "", "US", META_ZIP), "");

    /* Numbers: a zip or a date stored as a JSON number reads as its digits. */
    {
        struct cdp_profile p;
        one_trait(&p, "zip", NULL);
        set_json(&p, "zip", json_integer(42000));
        CHECK_STR(meta_cell(&p, NULL, META_ZIP), SHA_42000);
        CHECK_STR(row(CDP_ACT_GOOGLE, &p, "FR"), SHA_X_EXAMPLE ",,,,FR,42000\r\n");
        set_json(&p, "zip", json_real(42000.0));
        CHECK_STR(meta_cell(&p, NULL, META_ZIP), SHA_42000);
        set_json(&p, "zip", json_real(42000.5));
        CHECK_STR(meta_cell(&p, NULL, META_ZIP), "");
        set_json(&p, "zip", json_real(1e300));
        CHECK_STR(meta_cell(&p, NULL, META_ZIP), "");
        set_json(&p, "zip", json_true());
        CHECK_STR(meta_cell(&p, NULL, META_ZIP), "");
        cdp_profile_free(&p);
    }

    /* Countries: the trait when it is a code, else the default when absent. */
    CHECK_STR(meta_of("country", "FR", "US", META_COUNTRY), SHA_FR);
    CHECK_STR(meta_of("country", "ca", NULL, META_COUNTRY), SHA_CA);
    CHECK_STR(meta_of("country", NULL, "Fr", META_COUNTRY), SHA_FR);
    CHECK_STR(meta_of("country", "France", "FR", META_COUNTRY), ""); /* not guessed */
    CHECK_STR(meta_of("country", NULL, "FRA", META_COUNTRY), "");
    CHECK_STR(meta_of("country", NULL, NULL, META_COUNTRY), "");

    /* City and state: a-z only. */
    CHECK_STR(meta_of("city", " PARIS 15 ", NULL, META_CT), SHA_PARIS);
    CHECK_STR(meta_of("state", "Île-de-France", NULL, META_ST), SHA_ILEDEFRANCE);
    CHECK_STR(meta_of("city", "123", NULL, META_CT), ""); /* nothing left: empty, not sha("") */

    /* External id: the "user:" identifier, plain. */
    {
        struct cdp_profile p;
        one_trait(&p, "city", NULL);
        cdp_profile_add_identifier(&p, "user:=42,b");
        CHECK_STR(row(CDP_ACT_META, &p, NULL), SHA_X_EXAMPLE ",,,,,,,,,,\"=42,b\"\r\n");
        cdp_profile_free(&p);
    }
}

static void
test_mailchimp_fields(void)
{
    struct cdp_profile p;
    profile_new(&p);
    cdp_profile_add_identifier(&p, "email:x@example.com");
    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, NULL), "x@example.com,,,\r\n");
    CHECK_STR(row(CDP_ACT_BREVO, &p, NULL), "x@example.com;;;\r\n");
    CHECK_STR(row(CDP_ACT_KLAVIYO, &p, NULL), "x@example.com,,,\r\n");

    /* Tags: one tag, a tag that looks like a formula, tags of other types. */
    set_string(&p, "tags", "vip");
    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, NULL), "x@example.com,,,vip\r\n");
    set_string(&p, "tags", "-1,vip");
    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, NULL), "x@example.com,,,\"'-1,vip\"\r\n");
    set_string(&p, "tags", " , ");
    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, NULL), "x@example.com,,,\r\n");
    json_t *v = json_pack("{s:s}", "a", "b");
    set_json(&p, "tags", v);
    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, NULL), "x@example.com,,,\r\n");
    v = json_pack("[s, s]", "say \"hi\"", "b");
    set_json(&p, "tags", v);
    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, NULL), "x@example.com,,,\"say \"\"hi\"\",b\"\r\n");

    /* Names: the first trait of the list that has text wins. */
    set_string(&p, "firstName", "   ");
    set_string(&p, "first_name", "Ann");
    set_string(&p, "firstname", "Bob");
    set_string(&p, "last_name", "Lopez");
    CHECK_STR(row(CDP_ACT_MAILCHIMP, &p, NULL), "x@example.com,Ann,Lopez,\"say \"\"hi\"\",b\"\r\n");
    cdp_profile_free(&p);
}

/*
 * The row of format f for a record built here: identifiers ids[0..ids_len)
 * and the traits text given as it would be stored; NULL when skipped.
 */
static const char *
record_row(enum cdp_activation_format f, const char *ids, size_t ids_len, const char *traits,
           const char *country)
{
    struct cdp_profile_head head;
    struct cdp_buf rec = CDP_BUF_INIT;
    struct cdp_profile_record r;
    const char *why = NULL;
    uint32_t n;

    memset(&head, 0, sizeof head);
    head.magic = CDP_PROFILE_MAGIC;
    cdp_buf_append(&rec, &head, sizeof head);
    n = (uint32_t)ids_len;
    cdp_buf_append(&rec, &n, sizeof n);
    cdp_buf_append(&rec, ids, ids_len);
    n = (uint32_t)strlen(traits);
    cdp_buf_append(&rec, &n, sizeof n);
    cdp_buf_append(&rec, traits, n);
    n = 0;
    cdp_buf_append(&rec, &n, sizeof n);
    CHECK(cdp_profile_record_read(&r, rec.data, rec.len));
    cdp_buf_reset(&out);
    bool written = cdp_activation_record_row(f, &r, country, &out, &why);
    CHECK(written || why != NULL);
    cdp_buf_free(&rec);
    return written ? text() : NULL;
}

/* Rows read straight from records: the traits text as the store holds it. */
static void
test_record_rows(void)
{
    static const char email[] = "email:a@example.com";
    size_t email_len = sizeof email; /* with its NUL */

    /* Escapes in strings are read through the parser. */
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len,
                         "{\"firstName\":[\"Jean \\\"JJ\\\"\",1,\"t\"],"
                         "\"lastName\":[\"\\u00c9lo\\u00efse\",1,\"t\"]}",
                         NULL),
              "a@example.com,\"Jean \"\"JJ\"\"\",Éloïse,\r\n");
    /* Plain strings are trimmed where they lie, no-break spaces too. */
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len,
                         "{\"firstName\":[\" \xc2\xa0Marie \",1,\"t\"]}", NULL),
              "a@example.com,Marie,,\r\n");
    /* A null or empty value gives way to the next name. */
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len,
                         "{\"firstName\":[null,1,\"t\"],\"first_name\":[\"\",1,\"t\"],"
                         "\"firstname\":[\"Zo\xc3\xa9\",1,\"t\"]}",
                         NULL),
              "a@example.com,Zo\xc3\xa9,,\r\n");
    /* Numbers, and tags as an array. */
    CHECK_STR(record_row(CDP_ACT_GOOGLE, email, email_len,
                         "{\"postalCode\":[42000,1,\"t\"],\"country\":[\"fr\",1,\"t\"]}", NULL),
              SHA_A_EXAMPLE ",,,,FR,42000\r\n");
    CHECK_STR(record_row(CDP_ACT_GOOGLE, email, email_len, "{\"zip\":[42000.0,1,\"t\"]}", "FR"),
              SHA_A_EXAMPLE ",,,,FR,42000\r\n");
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len,
                         "{\"tags\":[[\" vip \",\"newsletter\",7,\"\"],1,\"t\"]}", NULL),
              "a@example.com,,,\"vip,newsletter,7\"\r\n");
    /* A key given twice: the last one, as a parser keeps. */
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len,
                         "{\"firstName\":[\"A\",1,\"t\"],\"firstName\":[\"B\",2,\"t\"]}", NULL),
              "a@example.com,B,,\r\n");
    /* Traits that are not an object are no traits. */
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len, "[]", NULL), "a@example.com,,,\r\n");
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len, "", NULL), "a@example.com,,,\r\n");

    /* More traits than the scanner lists at once. */
    struct cdp_buf many = CDP_BUF_INIT;
    cdp_buf_puts(&many, "{\"a\":[\"x\",1,\"t\"]");
    for (int i = 0; i < 100; i++)
        cdp_buf_printf(&many, ",\"custom_%d\":[%d,1,\"t\"]", i, i);
    cdp_buf_puts(&many, ",\"lastName\":[\"Last\",1,\"t\"]}");
    CHECK_STR(record_row(CDP_ACT_MAILCHIMP, email, email_len, many.data, NULL),
              "a@example.com,,Last,\r\n");
    cdp_buf_free(&many);

    /* Identifiers: the e-mail one is not read again; one cut short is ignored. */
    static const char ids[] = "email:b@example.com\0user:u-7";
    CHECK_STR(record_row(CDP_ACT_KLAVIYO, ids, sizeof ids, "{\"email\":[\"c@example.com\",1,\"t\"]}",
                         NULL),
              "b@example.com,,,\r\n");
    CHECK_STR(record_row(CDP_ACT_META, ids, sizeof ids - 1, "{}", NULL),
              SHA_B_EXAMPLE ",,,,,,,,,,\r\n");
    CHECK(record_row(CDP_ACT_GOOGLE, "anon:x", 7, "{\"firstName\":[\"Paul\",1,\"t\"]}", "FR") ==
          NULL);
}

int
main(void)
{
    test_formats();
    test_headers();
    test_google_email();
    test_phone();
    test_google_name();
    test_meta_name();
    test_sha256();
    test_csv_cell();
    test_rows_full();
    test_rows_traits();
    test_rows_us();
    test_skip();
    test_meta_fields();
    test_mailchimp_fields();
    test_record_rows();
    cdp_buf_free(&out);
    return check_summary("test_activation");
}
