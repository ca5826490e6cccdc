/*
 * test_normalize.c - unit tests for lib/normalize.c.
 */
#include "normalize.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static char buf[512];

/* Normalizes a NUL-terminated e-mail into buf; returns buf or NULL. */
static const char *
email(const char *in)
{
    return cdp_normalize_email(in, strlen(in), buf, sizeof buf) ? buf : NULL;
}

static const char *
phone(const char *in, const char *country)
{
    return cdp_normalize_phone(in, strlen(in), country, buf, sizeof buf) ? buf : NULL;
}

static const char *
trim(const char *in)
{
    return cdp_normalize_trim(in, strlen(in), buf, sizeof buf) ? buf : NULL;
}

static bool
utf8(const char *s)
{
    return cdp_normalize_utf8_valid(s, strlen(s));
}

static void
test_trim(void)
{
    CHECK_STR(trim("  hello  "), "hello");
    CHECK_STR(trim("\t\r\n hello world \v\f"), "hello world");
    CHECK_STR(trim("\xC2\xA0hello\xC2\xA0"), "hello");
    CHECK_STR(trim(" \xC2\xA0 \xC2\xA0x y\xC2\xA0 \xC2\xA0 "), "x y");
    CHECK_STR(trim("a\xC2\xA0"
                   "b"),
              "a\xC2\xA0"
              "b");
    CHECK_STR(trim("x"), "x");
    CHECK(trim("") == NULL);
    CHECK(trim("   ") == NULL);
    CHECK(trim("\xC2\xA0\xC2\xA0") == NULL);
    /* A lone C2 is not a no-break space. */
    CHECK_STR(trim(" \xC2"), "\xC2");
    /* Only the trimmed part of a range is read. */
    CHECK(cdp_normalize_trim("  abc  def", 6, buf, sizeof buf));
    CHECK_STR(buf, "abc");

    /* Fits exactly, then one byte short. */
    char small[4];
    CHECK(cdp_normalize_trim(" abc ", 5, small, sizeof small));
    CHECK_STR(small, "abc");
    CHECK(!cdp_normalize_trim(" abcd ", 6, small, sizeof small));
    CHECK_STR(small, "");
    CHECK(!cdp_normalize_trim(NULL, 0, small, sizeof small));
    CHECK_STR(small, "");
}

static void
test_email(void)
{
    CHECK_STR(email("  Jane.Doe@Example.COM "), "jane.doe@example.com");
    CHECK_STR(email("jane@example.com"), "jane@example.com");
    CHECK_STR(email("mailto:Jane@Example.com"), "jane@example.com");
    CHECK_STR(email("MAILTO:jane@example.com"), "jane@example.com");
    CHECK_STR(email("\xC2\xA0jane@example.com\xC2\xA0"), "jane@example.com");
    CHECK_STR(email("jane+news@sub.example.co.uk"), "jane+news@sub.example.co.uk");
    CHECK_STR(email("o'brien@example.ie"), "o'brien@example.ie");
    CHECK_STR(email("x_y-z@my-domain.fr"), "x_y-z@my-domain.fr");
    CHECK_STR(email("a@b.co"), "a@b.co");
    CHECK_STR(email("123@456.com"), "123@456.com");
    /* Non-ASCII bytes are kept unchanged (upper-case E acute stays). */
    CHECK_STR(email("J\xC3\x89r\xC3\xB4me@Caf\xC3\xA9.FR"), "j\xC3\x89r\xC3\xB4me@caf\xC3\xA9.fr");
    CHECK_STR(email("user@\xE4\xBE\x8B\xE3\x81\x88.jp"), "user@\xE4\xBE\x8B\xE3\x81\x88.jp");

    /* '@' count */
    CHECK(email("jane@@x.com") == NULL);
    CHECK(email("jane@x@y.com") == NULL);
    CHECK(email("jane.example.com") == NULL);
    CHECK(email("") == NULL);
    CHECK(email("   ") == NULL);
    CHECK(email("mailto:") == NULL);
    CHECK(email("@example.com") == NULL);
    CHECK(email("jane@") == NULL);

    /* Domain rules */
    CHECK(email("jane@localhost") == NULL);
    CHECK(email("a@b") == NULL);
    CHECK(email("jane@example.c") == NULL);
    CHECK(email("jane@example..com") == NULL);
    CHECK(email("jane@.example.com") == NULL);
    CHECK(email("jane@example.com.") == NULL);
    CHECK(email("jane@-example.com") == NULL);
    CHECK(email("jane@example-.com") == NULL);
    CHECK(email("jane@example.-com") == NULL);
    CHECK(email("jane@exa_mple.com") == NULL);
    CHECK(email("jane@exa mple.com") == NULL);
    CHECK(email("jane@example.123") == NULL);
    CHECK(email("jane@[192.168.0.1]") == NULL);
    CHECK(email("jane@exa\xC2\xA0mple.com") == NULL);
    CHECK_STR(email("jane@my--domain.com"), "jane@my--domain.com");

    /* Local part rules */
    CHECK(email(".jane@example.com") == NULL);
    CHECK(email("jane.@example.com") == NULL);
    CHECK(email("ja..ne@example.com") == NULL);
    CHECK(email("ja ne@example.com") == NULL);
    CHECK(email("ja\tne@example.com") == NULL);
    CHECK(email("ja\x01ne@example.com") == NULL);
    CHECK(email("ja\x7Fne@example.com") == NULL);
    CHECK(email("\"jane\"@example.com") == NULL);
    CHECK(email("Jane <jane@example.com>") == NULL);
    CHECK(email("jane,doe@example.com") == NULL);
    CHECK(!cdp_normalize_email("ja\0ne@example.com", 17, buf, sizeof buf));
    CHECK_STR(buf, "");

    /* Invalid UTF-8 */
    CHECK(email("j\xC3@example.com") == NULL);
    CHECK(email("jane@caf\xE9.fr") == NULL);

    /* Length limits: local part 64, domain 253, labels 63. */
    char addr[400];
    memset(addr, 'a', 64);
    strcpy(addr + 64, "@example.com");
    CHECK(email(addr) != NULL);
    memset(addr, 'a', 65);
    strcpy(addr + 65, "@example.com");
    CHECK(email(addr) == NULL);

    /* Domains of 253 and 254 bytes: three labels of 63, one filler, ".com". */
    for (size_t filler = 57; filler <= 58; filler++) {
        size_t pos = 0;
        addr[pos++] = 'x';
        addr[pos++] = '@';
        for (int label = 0; label < 3; label++) {
            memset(addr + pos, 'b', 63);
            pos += 63;
            addr[pos++] = '.';
        }
        memset(addr + pos, 'c', filler);
        pos += filler;
        strcpy(addr + pos, ".com");
        CHECK_INT(strlen(addr) - 2, 196 + filler);
        CHECK(filler == 57 ? email(addr) != NULL : email(addr) == NULL);
    }

    memset(addr, 0, sizeof addr);
    strcpy(addr, "x@");
    memset(addr + 2, 'd', 64);
    strcpy(addr + 66, ".com");
    CHECK(email(addr) == NULL);
    addr[3] = '.';
    CHECK(email(addr) != NULL);

    /* Output buffer too small */
    char small[10];
    CHECK(!cdp_normalize_email("jane@example.com", 16, small, sizeof small));
    CHECK_STR(small, "");
    char exact[17];
    CHECK(cdp_normalize_email("jane@example.com", 16, exact, sizeof exact));
    CHECK_STR(exact, "jane@example.com");
    CHECK(!cdp_normalize_email(NULL, 0, small, sizeof small));
}

static void
test_phone(void)
{
    /* The French examples */
    CHECK_STR(phone("06 12 34 56 78", "FR"), "+33612345678");
    CHECK_STR(phone("0033612345678", "FR"), "+33612345678");
    CHECK_STR(phone("+33 6 12 34 56 78", "FR"), "+33612345678");
    CHECK_STR(phone("+33 (0)6 12 34 56 78", "FR"), "+33612345678");
    CHECK_STR(phone("06.12.34.56.78", "FR"), "+33612345678");
    CHECK_STR(phone("06-12-34-56-78", "fr"), "+33612345678");
    CHECK_STR(phone("06/12/34/56/78", "Fr"), "+33612345678");
    CHECK_STR(phone("\xC2\xA0"
                    "06\xC2\xA0"
                    "12\xC2\xA0"
                    "34 56 78 ",
                    "FR"),
              "+33612345678");
    CHECK_STR(phone("(06) 12 34 56 78", "FR"), "+33612345678");
    CHECK_STR(phone("+33 06 12 34 56 78", "FR"), "+33612345678");
    CHECK_STR(phone("+33( 0 )612345678", NULL), "+33612345678");
    CHECK_STR(phone("+33612345678", NULL), "+33612345678");
    CHECK_STR(phone("01 23 45 67 89", "FR"), "+33123456789");

    /* FR national length: 10 digits with the 0 */
    CHECK(phone("06 12 34 56 7", "FR") == NULL);
    CHECK(phone("06 12 34 56 78 9", "FR") == NULL);
    CHECK(phone("6 12 34 56 78", "FR") == NULL);
    CHECK(phone("+33 6 12 34 56 7", "FR") == NULL);

    /* Junk-looking numbers */
    CHECK(phone("0000000000", "FR") == NULL);
    CHECK(phone("+33 000000000", NULL) == NULL);
    CHECK(phone("06 66 66 66 66", "FR") == NULL);
    CHECK(phone("+33 6 66 66 66 66", NULL) == NULL);
    CHECK_STR(phone("06 12 12 12 12", "FR"), "+33612121212");
    CHECK(phone("1111111111", "US") == NULL);
    CHECK(phone("12", "FR") == NULL);
    CHECK(phone("12", NULL) == NULL);
    CHECK(phone("", "FR") == NULL);
    CHECK(phone("   ", "FR") == NULL);
    CHECK(phone("+", "FR") == NULL);
    CHECK(phone("00", "FR") == NULL);
    CHECK(phone("+1", NULL) == NULL);

    /* No default country: national numbers cannot be resolved */
    CHECK(phone("06 12 34 56 78", NULL) == NULL);
    CHECK(phone("06 12 34 56 78", "ZZ") == NULL);
    CHECK(phone("06 12 34 56 78", "") == NULL);
    CHECK(phone("06 12 34 56 78", "FRA") == NULL);

    /* North America */
    CHECK_STR(phone("(555) 123-4567", "US"), "+15551234567");
    CHECK_STR(phone("+1 555 123 4567", NULL), "+15551234567");
    CHECK_STR(phone("1 (555) 123-4567", "US"), "+15551234567");
    CHECK_STR(phone("1-555-123-4567", "CA"), "+15551234567");
    CHECK_STR(phone("555.123.4567", "ca"), "+15551234567");
    CHECK_STR(phone("011 33 6 12 34 56 78", "US"), "+33612345678");
    CHECK_STR(phone("00 33 6 12 34 56 78", "US"), "+33612345678");
    CHECK(phone("011 33 6 12 34 56 78", "FR") == NULL);
    CHECK(phone("555 123 456", "US") == NULL);
    CHECK(phone("555 123 45678", "US") == NULL);
    CHECK(phone("+1 555 123 456", NULL) == NULL);

    /* Extensions */
    CHECK_STR(phone("(555) 123-4567 ext. 89", "US"), "+15551234567");
    CHECK_STR(phone("(555) 123-4567 EXT 89", "US"), "+15551234567");
    CHECK_STR(phone("(555) 123-4567 x89", "US"), "+15551234567");
    CHECK_STR(phone("(555) 123-4567 X 89", "US"), "+15551234567");
    CHECK_STR(phone("(555) 123-4567#89", "US"), "+15551234567");
    CHECK_STR(phone("+33 1 23 45 67 89 extension 12", NULL), "+33123456789");
    CHECK(phone("x1234", "US") == NULL);

    /* Letters and other symbols */
    CHECK(phone("06 12 34 56 7a", "FR") == NULL);
    CHECK(phone("tel 0612345678", "FR") == NULL);
    CHECK(phone("1-800-FLOWERS", "US") == NULL);
    CHECK(phone("06 12 34 56 78 abc", "FR") == NULL);
    CHECK(phone("06_12_34_56_78", "FR") == NULL);
    CHECK(phone("06*12345678", "FR") == NULL);
    CHECK(phone("\xC3\xA9"
                "0612345678",
                "FR") == NULL);
    CHECK(phone("++33612345678", NULL) == NULL);
    CHECK(phone("06+12345678", "FR") == NULL);
    CHECK(phone("+0033612345678", NULL) == NULL);

    /* "(0)" after the calling code */
    CHECK_STR(phone("+44 (0)20 7946 0958", NULL), "+442079460958");
    CHECK_STR(phone("0044 (0) 20 7946 0958", "FR"), "+442079460958");
    CHECK_STR(phone("+49 (0)30 123456", NULL), "+4930123456");
    CHECK_STR(phone("+380 (0)44 123 4567", NULL), "+380441234567");
    /* Italy keeps its leading 0 */
    CHECK_STR(phone("+39 (0)6 1234 5678", NULL), "+390612345678");

    /* Trunk prefixes per country */
    CHECK_STR(phone("020 7946 0958", "GB"), "+442079460958");
    CHECK_STR(phone("07911 123456", "gb"), "+447911123456");
    CHECK_STR(phone("030 123456", "DE"), "+4930123456");
    CHECK_STR(phone("0151 12345678", "DE"), "+4915112345678");
    CHECK_STR(phone("02 123 45 67", "BE"), "+3221234567");
    CHECK_STR(phone("0470 12 34 56", "BE"), "+32470123456");
    CHECK_STR(phone("020 123 4567", "NL"), "+31201234567");
    CHECK_STR(phone("044 668 18 00", "CH"), "+41446681800");
    CHECK_STR(phone("01 234 56 78", "AT"), "+4312345678");
    CHECK_STR(phone("08-123 456 78", "SE"), "+46812345678");
    CHECK_STR(phone("06 1234 5678", "IT"), "+390612345678");
    CHECK_STR(phone("333 123 4567", "IT"), "+393331234567");
    CHECK_STR(phone("912 345 678", "ES"), "+34912345678");
    CHECK(phone("0912 345 678", "ES") == NULL);
    CHECK_STR(phone("912 345 678", "PT"), "+351912345678");
    CHECK_STR(phone("210 123 4567", "GR"), "+302101234567");
    CHECK_STR(phone("32 12 34 56", "DK"), "+4532123456");
    CHECK_STR(phone("22 12 34 56", "NO"), "+4722123456");
    CHECK_STR(phone("06 30 123 4567", "HU"), "+36301234567");
    CHECK_STR(phone("8 912 345-67-89", "RU"), "+79123456789");
    CHECK_STR(phone("+7 912 345 67 89", NULL), "+79123456789");
    CHECK_STR(phone("0412 345 678", "AU"), "+61412345678");
    CHECK_STR(phone("090-1234-5678", "JP"), "+819012345678");
    CHECK_STR(phone("010-1234-5678", "KR"), "+821012345678");
    CHECK_STR(phone("098765 43210", "IN"), "+919876543210");
    CHECK_STR(phone("0612 345678", "MA"), "+212612345678");
    CHECK_STR(phone("77 123 45 67", "SN"), "+221771234567");
    CHECK_STR(phone("07 07 12 34 56", "CI"), "+2250707123456");
    CHECK_STR(phone("9123 4567", "SG"), "+6591234567");
    CHECK_STR(phone("9123 4567", "HK"), "+85291234567");
    CHECK_STR(phone("55 1234 5678", "MX"), "+525512345678");
    CHECK_STR(phone("(11) 91234-5678", "BR"), "+5511912345678");
    CHECK_STR(phone("1234567890", "US"), "+11234567890");
    CHECK_STR(phone("071 234 5678", "ZA"), "+27712345678");
    CHECK_STR(phone("0532 123 45 67", "TR"), "+905321234567");
    CHECK_STR(phone("050-123-4567", "IL"), "+972501234567");
    CHECK_STR(phone("050 123 4567", "AE"), "+971501234567");
    CHECK_STR(phone("138 0013 8000", "CN"), "+8613800138000");
    CHECK_STR(phone("0138 0013 8000", "CN"), "+8613800138000");
    CHECK_STR(phone("010 1234 5678", "CN"), "+861012345678");
    CHECK_STR(phone("0 11 91234-5678", "BR"), "+5511912345678");
    CHECK_STR(phone("021 123 4567", "NZ"), "+64211234567");
    CHECK_STR(phone("8 612 34567", "LT"), "+37061234567");
    CHECK_STR(phone("0 612 34567", "LT"), "+37061234567");

    /* Unknown calling codes: only the E.164 length applies */
    CHECK_STR(phone("+255 712 345 678", NULL), "+255712345678");
    CHECK(phone("+255 71", NULL) == NULL);
    CHECK(phone("+255 1234 5678 9012 34", NULL) == NULL);

    /* Total length: 8 to 15 digits */
    CHECK_STR(phone("+49 1234 56", NULL), "+49123456");
    CHECK(phone("+49 1234 5", NULL) == NULL);
    CHECK_STR(phone("+49 1234 5678 9012 3", NULL), "+491234567890123");
    CHECK(phone("+49 1234 5678 9012 34", NULL) == NULL);
    CHECK_STR(phone("+255 1234 5678 9012", NULL), "+255123456789012");
    CHECK(phone("+255 1234 5678 9012 3", NULL) == NULL);

    /* Output buffer */
    char small[12];
    CHECK(!cdp_normalize_phone("06 12 34 56 78", 14, "FR", small, sizeof small));
    CHECK_STR(small, "");
    char exact[13];
    CHECK(cdp_normalize_phone("06 12 34 56 78", 14, "FR", exact, sizeof exact));
    CHECK_STR(exact, "+33612345678");
    CHECK(!cdp_normalize_phone(NULL, 0, "FR", exact, sizeof exact));

    /* Very long digit strings are rejected, not overflowed. */
    char lots[200];
    memset(lots, '5', sizeof lots - 1);
    lots[sizeof lots - 1] = '\0';
    CHECK(phone(lots, "FR") == NULL);
    lots[0] = '+';
    CHECK(phone(lots, NULL) == NULL);
}

static void
test_country_code(void)
{
    CHECK_INT(cdp_normalize_country_code("FR"), 33);
    CHECK_INT(cdp_normalize_country_code("fr"), 33);
    CHECK_INT(cdp_normalize_country_code("fR"), 33);
    CHECK_INT(cdp_normalize_country_code("US"), 1);
    CHECK_INT(cdp_normalize_country_code("CA"), 1);
    CHECK_INT(cdp_normalize_country_code("GB"), 44);
    CHECK_INT(cdp_normalize_country_code("DE"), 49);
    CHECK_INT(cdp_normalize_country_code("IT"), 39);
    CHECK_INT(cdp_normalize_country_code("RU"), 7);
    CHECK_INT(cdp_normalize_country_code("HK"), 852);
    CHECK_INT(cdp_normalize_country_code("CI"), 225);
    CHECK_INT(cdp_normalize_country_code("ZZ"), 0);
    CHECK_INT(cdp_normalize_country_code(""), 0);
    CHECK_INT(cdp_normalize_country_code("F"), 0);
    CHECK_INT(cdp_normalize_country_code("FRA"), 0);
    CHECK_INT(cdp_normalize_country_code(NULL), 0);

    /* Every country named in the table requirements is present. */
    static const char *const required[] = {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS",
        "LI", "NO", "GB", "CH", "US", "CA", "AU", "NZ", "JP", "CN", "IN", "BR", "MX", "MA",
        "DZ", "TN", "SN", "CI", "ZA", "RU", "TR", "IL", "AE", "SG", "HK", "KR"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (cdp_normalize_country_code(required[i]) == 0) {
            fprintf(stderr, "missing country %s\n", required[i]);
        }
        CHECK(cdp_normalize_country_code(required[i]) > 0);
    }
}

static void
test_junk(void)
{
    static const char *const junk[] = {"",
                                       "null",
                                       "nil",
                                       "none",
                                       "undefined",
                                       "nan",
                                       "n/a",
                                       "na",
                                       "-",
                                       "0",
                                       "unknown",
                                       "test",
                                       "test@test.com",
                                       "test@example.com",
                                       "noemail@noemail.com",
                                       "no@email.com",
                                       "none@none.com",
                                       "email@email.com",
                                       "0000000000",
                                       "1234567890",
                                       "00000000-0000-0000-0000-000000000000",
                                       "anonymous",
                                       "guest"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        CHECK(cdp_normalize_is_junk(junk[i]));
    }

    CHECK(cdp_normalize_is_junk("NULL"));
    CHECK(cdp_normalize_is_junk("  Null  "));
    CHECK(cdp_normalize_is_junk("N/A"));
    CHECK(cdp_normalize_is_junk("\xC2\xA0none\xC2\xA0"));
    CHECK(cdp_normalize_is_junk("Test@Test.COM"));
    CHECK(cdp_normalize_is_junk("   "));
    CHECK(cdp_normalize_is_junk("UNDEFINED"));
    CHECK(cdp_normalize_is_junk("Guest"));
    CHECK(cdp_normalize_is_junk(NULL));

    /* One repeated character, four or more times */
    CHECK(cdp_normalize_is_junk("aaaa"));
    CHECK(cdp_normalize_is_junk("AaAa"));
    CHECK(cdp_normalize_is_junk("9999999"));
    CHECK(cdp_normalize_is_junk("xxxxxxxxxxxxxxxx"));
    CHECK(cdp_normalize_is_junk("...."));
    CHECK(!cdp_normalize_is_junk("aaa"));
    CHECK(!cdp_normalize_is_junk("999"));
    CHECK(!cdp_normalize_is_junk("aaab"));

    /* E.164 numbers of zeros */
    CHECK(cdp_normalize_is_junk("+33000000000"));
    CHECK(cdp_normalize_is_junk("+10000000000"));
    CHECK(cdp_normalize_is_junk("+4400000000"));
    CHECK(cdp_normalize_is_junk("+352000000"));
    CHECK(!cdp_normalize_is_junk("+33612345678"));
    CHECK(!cdp_normalize_is_junk("+33600000000"));
    CHECK(!cdp_normalize_is_junk("+33"));

    /* Real values */
    CHECK(!cdp_normalize_is_junk("jane@example.com"));
    CHECK(!cdp_normalize_is_junk("Jane"));
    CHECK(!cdp_normalize_is_junk("nullable"));
    CHECK(!cdp_normalize_is_junk("testing"));
    CHECK(!cdp_normalize_is_junk("1234567891"));
    CHECK(!cdp_normalize_is_junk("00000000-0000-0000-0000-000000000001"));
    CHECK(!cdp_normalize_is_junk("n"));
    CHECK(!cdp_normalize_is_junk("00"));
}

static void
test_utf8(void)
{
    CHECK(utf8(""));
    CHECK(cdp_normalize_utf8_valid(NULL, 0));
    CHECK(!cdp_normalize_utf8_valid(NULL, 1));
    CHECK(utf8("plain ascii"));
    CHECK(cdp_normalize_utf8_valid("a\0b", 3));

    /* Valid 2, 3 and 4 byte sequences, at their boundaries */
    CHECK(utf8("\xC2\x80"));         /* U+0080 */
    CHECK(utf8("\xC3\xA9"));         /* U+00E9 */
    CHECK(utf8("\xDF\xBF"));         /* U+07FF */
    CHECK(utf8("\xE0\xA0\x80"));     /* U+0800 */
    CHECK(utf8("\xE2\x82\xAC"));     /* U+20AC */
    CHECK(utf8("\xED\x9F\xBF"));     /* U+D7FF */
    CHECK(utf8("\xEE\x80\x80"));     /* U+E000 */
    CHECK(utf8("\xEF\xBF\xBF"));     /* U+FFFF */
    CHECK(utf8("\xF0\x90\x80\x80")); /* U+10000 */
    CHECK(utf8("\xF0\x9F\x98\x80")); /* U+1F600 */
    CHECK(utf8("\xF4\x8F\xBF\xBF")); /* U+10FFFF */
    CHECK(utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 end"));

    /* Overlong forms */
    CHECK(!utf8("\xC0\x80"));
    CHECK(!utf8("\xC1\xBF"));
    CHECK(!utf8("\xE0\x80\x80"));
    CHECK(!utf8("\xE0\x9F\xBF"));
    CHECK(!utf8("\xF0\x80\x80\x80"));
    CHECK(!utf8("\xF0\x8F\xBF\xBF"));

    /* Surrogates */
    CHECK(!utf8("\xED\xA0\x80"));
    CHECK(!utf8("\xED\xBF\xBF"));
    CHECK(!utf8("\xED\xA0\xBD\xED\xB8\x80"));

    /* Beyond U+10FFFF, and bytes that never appear */
    CHECK(!utf8("\xF4\x90\x80\x80"));
    CHECK(!utf8("\xF5\x80\x80\x80"));
    CHECK(!utf8("\xF8\x88\x80\x80\x80"));
    CHECK(!utf8("\xFE"));
    CHECK(!utf8("\xFF"));

    /* Stray continuation bytes and truncated sequences */
    CHECK(!utf8("\x80"));
    CHECK(!utf8("a\xBF"
                "b"));
    CHECK(!utf8("\xC3"));
    CHECK(!utf8("\xC3"
                "a"));
    CHECK(!utf8("\xE2\x82"));
    CHECK(!utf8("\xE2\x82"
                "a"));
    CHECK(!utf8("\xE2"
                "ab"));
    CHECK(!utf8("\xF0\x9F\x98"));
    CHECK(!utf8("\xF0\x9F\x98"
                "a"));
    CHECK(!utf8("\xF0\x9F"));
    CHECK(!utf8("\xF0"));
    /* A truncated sequence cut by the length, not by a NUL */
    CHECK(!cdp_normalize_utf8_valid("\xE2\x82\xAC", 2));
    CHECK(cdp_normalize_utf8_valid("\xE2\x82\xAC", 3));

    /* Long ASCII runs with one bad byte at every offset */
    char line[64];
    for (size_t off = 0; off <= 17; off++) {
        memset(line, 'a', 40);
        line[40] = '\0';
        CHECK(utf8(line));
        line[off] = (char)0x80;
        CHECK(!utf8(line));
        line[off] = (char)0xFF;
        CHECK(!utf8(line));
        /* A valid two-byte sequence at the same offset is fine. */
        line[off] = (char)0xC3;
        line[off + 1] = (char)0xA9;
        CHECK(utf8(line));
        /* ... but not when it is cut by the end of the range. */
        CHECK(!cdp_normalize_utf8_valid(line, off + 1));
        CHECK(cdp_normalize_utf8_valid(line, off + 2));
        CHECK(cdp_normalize_utf8_valid(line, off));
    }

    /* Bad byte at each offset of runs of every length up to 24 */
    for (size_t n = 1; n <= 24; n++) {
        for (size_t off = 0; off < n; off++) {
            char *p = malloc(n);
            memset(p, 'z', n);
            p[off] = (char)0xC0;
            CHECK(!cdp_normalize_utf8_valid(p, n));
            free(p);
        }
    }

    /* A large buffer: mostly ASCII, multibyte at the end */
    size_t big = 1 << 16;
    char *p = malloc(big + 4);
    memset(p, 'q', big);
    memcpy(p + big, "\xF0\x9F\x98\x80", 4);
    CHECK(cdp_normalize_utf8_valid(p, big + 4));
    p[big + 3] = 'x';
    CHECK(!cdp_normalize_utf8_valid(p, big + 4));
    free(p);
}

int
main(void)
{
    test_trim();
    test_email();
    test_phone();
    test_country_code();
    test_junk();
    test_utf8();
    return check_summary("normalize");
}
