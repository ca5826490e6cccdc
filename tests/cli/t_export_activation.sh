#!/bin/sh
# cdp-export's activation side, end to end, on stores built here: the
# header and rows of every audience format (mailchimp, brevo, klaviyo,
# google-customer-match, meta-custom-audience) for people with accents,
# spaces, capitals, gmail dots and "+suffix", French phone numbers in
# several spellings and missing fields; every hashed cell checked against
# sha256sum of the normal form computed here; consent enforcement and its
# summary line; formula escaping; atomic -o (and /dev/null left a device);
# --stdin; --segment --changes --target --removals across runs; usage errors.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
umask 022

# Every run takes the same "now", so that no answer depends on the day the
# test runs.
NOW=2025-06-30T00:00:00Z

# ex ARGS...: cdp-export at the fixed now (through run: $out, $err, $status).
ex() {
    run cdp-export --now "$NOW" "$@"
}

# sha TEXT: the lower-case hex SHA-256 of TEXT, computed without cdp.
sha() {
    printf '%s' "$1" | sha256sum | cut -d ' ' -f 1
}

# head_of FILE: its first line without the CR.
head_of() {
    head -n 1 "$1" | tr -d '\r'
}

# rows_of FILE: its lines after the header, without CR, sorted.
rows_of() {
    tail -n +2 "$1" | tr -d '\r' | sort
}

# sorted LINE...: the lines given, sorted.
sorted() {
    printf '%s\n' "$@" | sort
}

# True when every line of FILE ends with CR LF (RFC 4180).
crlf() {
    test -s "$1" && awk '!/\r$/ { bad = 1 } END { exit bad }' "$1"
}

# True when the last run wrote nothing on stdout.
no_output() {
    test ! -s "$out"
}

# summary W L NR D WD EX M: the summary line cdp-export ends with.
summary() {
    echo "cdp-export: $1 written, $2 left out ($3 no consent record, $4 denied, $5 withdrawn, $6 expired, $7 missing what the format needs)"
}

# last_audit FILTER [DB]: a jq filter over the store's last audit line.
last_audit() {
    "$CDP_BIN/cdp-consent" --now "$NOW" -d "${2:-$CDP_DB}" --audit 2>/dev/null | tail -n 1 | jq -c "$1"
}

# no_tmp DIR: true when no temporary file of an atomic output is left in DIR.
no_tmp() {
    test -z "$(find "$1" -maxdepth 1 -name '*.tmp.*' -print)"
}

# ---------------------------------------------------------------------------
# The people.  Ingested without --country: the national phone numbers stay
# traits that only cdp-export --country FR can read.
#   eloise    accents, spaces and capitals in the e-mail, "06 12 34 56 78",
#             zip, birthday, gender
#   francois  a last name holding ';', "+33 6 12 34 56 79", a city
#   jdoe      a gmail address with dots and +suffix, "0033612345680",
#             a first name with spaces, a user id in capitals
#   ann       a non-gmail +suffix (kept everywhere), no last name, no phone,
#             country "be"
#   paul      no e-mail ("06 11 22 33 44")
#   kim       a last name holding ',', tags
#   eve       names that look like formulas, a country that is not a code
#   sam       nothing recorded about consent
#   dash      an e-mail and names starting with - and +
#   zed       neither e-mail nor phone
cat >people.ndjson <<'X'
{"type":"identify","userId":"eloise","traits":{"email":"  Eloise.Martin@Example.FR ","firstName":"Éloïse","lastName":"Martin","phone":"06 12 34 56 78","postalCode":"75011","birthday":"1990-05-17","gender":"Femme","note":"=1+1"},"timestamp":"2025-01-01T09:00:00Z","messageId":"p1"}
{"type":"identify","userId":"francois","traits":{"email":"francois@example.com","firstName":"François","lastName":"Dupont;Moreau","phone":"+33 6 12 34 56 79","city":"Saint-Étienne","note":"+cmd"},"timestamp":"2025-01-02T09:00:00Z","messageId":"p2"}
{"type":"identify","userId":"JDoe-42","traits":{"email":"J.Doe+News@GMail.com","firstName":"  Jean   Luc ","lastName":"O'Brien","phone":"0033612345680","note":"-2"},"timestamp":"2025-01-03T09:00:00Z","messageId":"p3"}
{"type":"identify","userId":"ann","traits":{"email":"Ann+Promo@Example.ORG","firstName":"Ann","country":"be","note":"@SUM(A1)"},"timestamp":"2025-01-04T09:00:00Z","messageId":"p4"}
{"type":"identify","userId":"paul","traits":{"firstName":"Paul","lastName":"Petit","phone":"06 11 22 33 44","note":"\tx"},"timestamp":"2025-01-05T09:00:00Z","messageId":"p5"}
{"type":"identify","userId":"kim","traits":{"email":"kim@example.com","firstName":"Kim","lastName":"Doe, Jr","tags":["vip","=cmd"],"note":"=SUM(A1,B1)"},"timestamp":"2025-01-06T09:00:00Z","messageId":"p6"}
{"type":"identify","userId":"eve","traits":{"email":"eve@example.com","firstName":"=1+1","lastName":"@SUM(A1)","country":"France","note":"a=b"},"timestamp":"2025-01-07T09:00:00Z","messageId":"p7"}
{"type":"identify","userId":"sam","traits":{"email":"sam@example.com","firstName":"Sam"},"timestamp":"2025-01-08T09:00:00Z","messageId":"p8"}
{"type":"identify","userId":"dash","traits":{"email":"-dash@example.com","firstName":"+cmd","lastName":"-2","phone":"+33 6 99 88 77 66"},"timestamp":"2025-01-09T09:00:00Z","messageId":"p9"}
{"type":"identify","userId":"zed","traits":{"firstName":"Zed"},"timestamp":"2025-01-10T09:00:00Z","messageId":"p10"}
X
run cdp-ingest --now "$NOW" people.ndjson
check "people: exit 0" test "$status" -eq 0
check "people: the national numbers are not identifiers without a country" \
    err_line "cdp-ingest: 10 read, 10 landed, 0 duplicates, 0 rejected, 2 warnings, 10 profiles created, 0 merges (0 refused)"

# Consent: eloise, jdoe and paul and zed grant e-mail, ads and data sharing;
# francois e-mail and ads only; ann refused e-mail; kim withdrew it; eve's
# grant expired; sam has no record; dash granted e-mail.
cat >consent.ndjson <<'X'
{"email":"eloise.martin@example.fr","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"eloise.martin@example.fr","purpose":"ads_personalization","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"eloise.martin@example.fr","purpose":"data_sharing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"francois@example.com","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"francois@example.com","purpose":"ads_personalization","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"j.doe+news@gmail.com","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"j.doe+news@gmail.com","purpose":"ads_personalization","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"j.doe+news@gmail.com","purpose":"data_sharing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"ann+promo@example.org","purpose":"email_marketing","status":"denied","time":"2025-02-01T00:00:00Z"}
{"userId":"paul","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"paul","purpose":"ads_personalization","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"paul","purpose":"data_sharing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"kim@example.com","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"email":"kim@example.com","purpose":"email_marketing","status":"withdrawn","time":"2025-03-01T00:00:00Z"}
{"email":"eve@example.com","purpose":"email_marketing","status":"granted","time":"2024-01-01T00:00:00Z","expires":"2025-01-01T00:00:00Z"}
{"email":"-dash@example.com","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"zed","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"zed","purpose":"ads_personalization","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"zed","purpose":"data_sharing","status":"granted","time":"2025-02-01T00:00:00Z"}
X
run cdp-consent --now "$NOW" --import consent.ndjson
check_eq "consent: every record lands" "$(cat "$err")" \
    "cdp-consent: 19 read, 19 records, 0 duplicates, 0 dropped as erased, 0 rejected, 0 warnings"

# ---------------------------------------------------------------------------
# Every format, everyone (--no-consent-check), French numbers read with FR.
MC_ELOISE="eloise.martin@example.fr,Éloïse,Martin,"
MC_FRANCOIS="francois@example.com,François,Dupont;Moreau,"
MC_JDOE="j.doe+news@gmail.com,Jean   Luc,O'Brien,"
MC_ANN="ann+promo@example.org,Ann,,"
MC_KIM='kim@example.com,Kim,"Doe, Jr","vip,=cmd"'
MC_EVE="eve@example.com,'=1+1,'@SUM(A1),"
MC_SAM="sam@example.com,Sam,,"
MC_DASH="-dash@example.com,'+cmd,'-2,"
ex -f mailchimp --no-consent-check --country FR
check "mailchimp: exit 0" test "$status" -eq 0
check "mailchimp: CRLF line ends" crlf "$out"
check_eq "mailchimp: header" "$(head_of "$out")" "Email Address,First Name,Last Name,Tags"
check_eq "mailchimp: rows (gmail dots and +suffix kept, names escaped, ',' quoted)" "$(rows_of "$out")" \
    "$(sorted "$MC_ELOISE" "$MC_FRANCOIS" "$MC_JDOE" "$MC_ANN" "$MC_KIM" "$MC_EVE" "$MC_SAM" "$MC_DASH")"
check "mailchimp: summary (paul and zed have no e-mail)" err_line "$(summary 8 2 0 0 0 0 2)"

ex -f brevo --no-consent-check --country FR
check "brevo: exit 0" test "$status" -eq 0
check "brevo: CRLF line ends" crlf "$out"
check_eq "brevo: header" "$(head_of "$out")" "EMAIL;FIRSTNAME;LASTNAME;SMS"
check_eq "brevo: rows (';' delimited, a value holding ';' quoted, E.164 with +)" "$(rows_of "$out")" \
    "$(sorted "eloise.martin@example.fr;Éloïse;Martin;+33612345678" \
        'francois@example.com;François;"Dupont;Moreau";+33612345679' \
        "j.doe+news@gmail.com;Jean   Luc;O'Brien;+33612345680" \
        "ann+promo@example.org;Ann;;" \
        "kim@example.com;Kim;Doe, Jr;" \
        "eve@example.com;'=1+1;'@SUM(A1);" \
        "sam@example.com;Sam;;" \
        "-dash@example.com;'+cmd;'-2;+33699887766")"
check "brevo: summary" err_line "$(summary 8 2 0 0 0 0 2)"

ex -f klaviyo --no-consent-check --country FR
check "klaviyo: exit 0" test "$status" -eq 0
check "klaviyo: CRLF line ends" crlf "$out"
check_eq "klaviyo: header" "$(head_of "$out")" "Email,Phone Number,First Name,Last Name"
check_eq "klaviyo: rows (three phone spellings, one E.164 form)" "$(rows_of "$out")" \
    "$(sorted "eloise.martin@example.fr,+33612345678,Éloïse,Martin" \
        "francois@example.com,+33612345679,François,Dupont;Moreau" \
        "j.doe+news@gmail.com,+33612345680,Jean   Luc,O'Brien" \
        "ann+promo@example.org,,Ann," \
        'kim@example.com,,Kim,"Doe, Jr"' \
        "eve@example.com,,'=1+1,'@SUM(A1)" \
        "sam@example.com,,Sam," \
        "-dash@example.com,+33699887766,'+cmd,'-2")"
check "klaviyo: summary" err_line "$(summary 8 2 0 0 0 0 2)"
check "klaviyo: the e-mail and the phone starting with - and + are not escaped" \
    grep -q "^-dash@example.com,+33699887766,'+cmd,'-2"$(printf '\r')'$' "$out"
ex -f klaviyo --no-consent-check
check_eq "klaviyo without --country: a national number cannot be read" \
    "$(grep '^eloise' "$out" | tr -d '\r')" "eloise.martin@example.fr,,Éloïse,Martin"
check_eq "klaviyo without --country: international spellings still can" \
    "$(grep '^j.doe' "$out" | tr -d '\r')" "j.doe+news@gmail.com,+33612345680,Jean   Luc,O'Brien"

# Google: e-mail (gmail without dots and +suffix), phone (E.164 with +) and
# names (lower case, accents kept, punctuation gone) hashed; Country, Zip
# in clear.
G_ELOISE="$(sha eloise.martin@example.fr),$(sha +33612345678),$(sha 'éloïse'),$(sha martin),FR,75011"
G_FRANCOIS="$(sha francois@example.com),$(sha +33612345679),$(sha 'françois'),$(sha dupontmoreau),FR,"
G_JDOE="$(sha jdoe@gmail.com),$(sha +33612345680),$(sha 'jean luc'),$(sha obrien),FR,"
G_ANN="$(sha ann+promo@example.org),,$(sha ann),,BE,"
G_PAUL=",$(sha +33611223344),$(sha paul),$(sha petit),FR,"
G_KIM="$(sha kim@example.com),,$(sha kim),$(sha 'doe jr'),FR,"
G_EVE="$(sha eve@example.com),,$(sha 11),$(sha suma1),,"
G_SAM="$(sha sam@example.com),,$(sha sam),,FR,"
G_DASH="$(sha -dash@example.com),$(sha +33699887766),$(sha cmd),$(sha 2),FR,"
ex -f google-customer-match --no-consent-check --country FR
cp "$out" google.csv
check "google: exit 0" test "$status" -eq 0
check "google: CRLF line ends" crlf google.csv
check_eq "google: header" "$(head_of google.csv)" "Email,Phone,First Name,Last Name,Country,Zip"
check_eq "google: rows, each hash equal to sha256sum of the normal form" "$(rows_of google.csv)" \
    "$(sorted "$G_ELOISE" "$G_FRANCOIS" "$G_JDOE" "$G_ANN" "$G_PAUL" "$G_KIM" "$G_EVE" "$G_SAM" "$G_DASH")"
check "google: summary (zed has neither e-mail nor phone; paul's phone is enough)" \
    err_line "$(summary 9 1 0 0 0 0 1)"
check_eq "google: the gmail address hashed without dots and +suffix" \
    "$(rows_of google.csv | cut -d , -f 1 | grep -c -x "$(sha jdoe@gmail.com)")" 1
check_eq "google: the non-gmail +suffix kept" \
    "$(rows_of google.csv | cut -d , -f 1 | grep -c -x "$(sha ann+promo@example.org)")" 1
check_eq "google: Country and Zip in clear" "$(rows_of google.csv | grep "^$(sha eloise.martin@example.fr)," | cut -d , -f 5,6)" "FR,75011"
check_eq "google: every hashed cell is 64 lower-case hex digits or empty" \
    "$(rows_of google.csv | cut -d , -f 1-4 | tr ',' '\n' | grep -v -c -x -E '([0-9a-f]{64})?')" 0

M_ELOISE="$(sha eloise.martin@example.fr),$(sha 33612345678),$(sha eloise),$(sha martin),,,$(sha 75011),$(sha fr),$(sha 19900517),$(sha f),eloise"
M_FRANCOIS="$(sha francois@example.com),$(sha 33612345679),$(sha francois),$(sha dupontmoreau),$(sha saintetienne),,,$(sha fr),,,francois"
M_JDOE="$(sha j.doe+news@gmail.com),$(sha 33612345680),$(sha jeanluc),$(sha obrien),,,,$(sha fr),,,JDoe-42"
M_ANN="$(sha ann+promo@example.org),,$(sha ann),,,,,$(sha be),,,ann"
M_PAUL=",$(sha 33611223344),$(sha paul),$(sha petit),,,,$(sha fr),,,paul"
M_KIM="$(sha kim@example.com),,$(sha kim),$(sha doejr),,,,$(sha fr),,,kim"
M_EVE="$(sha eve@example.com),,,$(sha suma),,,,,,,eve"
M_SAM="$(sha sam@example.com),,$(sha sam),,,,,$(sha fr),,,sam"
M_DASH="$(sha -dash@example.com),$(sha 33699887766),$(sha cmd),,,,,$(sha fr),,,dash"
ex -f meta-custom-audience --no-consent-check --country FR
cp "$out" meta.csv
check "meta: exit 0" test "$status" -eq 0
check "meta: CRLF line ends" crlf meta.csv
check_eq "meta: header" "$(head_of meta.csv)" "email,phone,fn,ln,ct,st,zip,country,dob,gen,external_id"
check_eq "meta: rows, each hash equal to sha256sum of the normal form" "$(rows_of meta.csv)" \
    "$(sorted "$M_ELOISE" "$M_FRANCOIS" "$M_JDOE" "$M_ANN" "$M_PAUL" "$M_KIM" "$M_EVE" "$M_SAM" "$M_DASH")"
check "meta: summary" err_line "$(summary 9 1 0 0 0 0 1)"
check_eq "meta: the gmail address keeps its dots and +suffix" \
    "$(rows_of meta.csv | cut -d , -f 1 | grep -c -x "$(sha j.doe+news@gmail.com)")" 1
check_eq "meta: external_id in clear, as given" \
    "$(rows_of meta.csv | cut -d , -f 11 | sort | tr '\n' ' ')" "JDoe-42 ann dash eloise eve francois kim paul sam "
check_eq "meta: every other cell is 64 lower-case hex digits or empty" \
    "$(rows_of meta.csv | cut -d , -f 1-10 | tr ',' '\n' | grep -v -c -x -E '([0-9a-f]{64})?')" 0

# ---------------------------------------------------------------------------
# Consent enforcement.
ex -f mailchimp -o none.csv
check "no --purpose: exit 2" test "$status" -eq 2
check "no --purpose: message" err_line "cdp-export: format 'mailchimp' sends personal data to another company: give --purpose (e.g. --purpose email_marketing) so that only profiles that consented are written, or --no-consent-check, which the audit trail records"
check "no --purpose: try --help" err_line "Try 'cdp-export --help' for more information."
check "no --purpose: nothing on stdout" no_output
check "no --purpose: no -o file" test ! -e none.csv
ex -f google-customer-match
check "google, no --purpose: exit 2" test "$status" -eq 2
check "google, no --purpose: suggests ads_personalization" err_starts "cdp-export: format 'google-customer-match' sends personal data to another company: give --purpose (e.g. --purpose ads_personalization)"
ex -f mailchimp --purpose nope -o none.csv
check "unknown purpose: exit 2" test "$status" -eq 2
check "unknown purpose: message" err_line "cdp-export: unknown purpose 'nope' (see cdp-consent --purposes)"
check "unknown purpose: no -o file" test ! -e none.csv
ex -f mailchimp --purpose email_marketing,nope
check "an unknown purpose in a list: exit 2" test "$status" -eq 2
ex -f mailchimp --purpose email_marketing --no-consent-check
check "--purpose with --no-consent-check: exit 2" test "$status" -eq 2
check "--purpose with --no-consent-check: message" err_line "cdp-export: --purpose and --no-consent-check exclude each other"

ex -f mailchimp --purpose email_marketing --country FR
check "mailchimp --purpose: exit 0" test "$status" -eq 0
check_eq "mailchimp --purpose: only those who granted it" "$(rows_of "$out")" \
    "$(sorted "$MC_ELOISE" "$MC_FRANCOIS" "$MC_JDOE" "$MC_DASH")"
check_eq "mailchimp --purpose: the summary, by reason" "$(cat "$err")" "$(summary 4 6 1 1 1 1 2)"
check_eq "mailchimp --purpose: the audit line" "$(last_audit '[.purposes, .count, .consent_check]')" \
    '[["email_marketing"],4,null]'
ex -f brevo --purpose email_marketing --country FR
check_eq "brevo --purpose: the summary" "$(cat "$err")" "$(summary 4 6 1 1 1 1 2)"
check_eq "brevo --purpose: four rows" "$(rows_of "$out" | wc -l | tr -d ' ')" 4
ex -f csv --fields traits.email --purpose email_marketing
check_eq "csv --purpose: filters too, and needs no e-mail" "$(cat "$err")" "$(summary 6 4 1 1 1 1 0)"
check_eq "csv --purpose: the rows (paul and zed with an empty cell)" "$(rows_of "$out")" \
    "$(sorted "" "" "'-dash@example.com" eloise.martin@example.fr francois@example.com j.doe+news@gmail.com)"
ex -f mailchimp --no-consent-check --country FR
check_eq "--no-consent-check: the audit line says so" "$(last_audit '[.purposes, .count, .consent_check]')" \
    '[null,8,false]'

# Google asks for ads_personalization and data_sharing: francois granted
# only the first.
ex -f google-customer-match --purpose ads_personalization --country FR
check "google --purpose ads_personalization: exit 0" test "$status" -eq 0
check_eq "google --purpose ads_personalization: needs data_sharing too" "$(rows_of "$out")" \
    "$(sorted "$G_ELOISE" "$G_JDOE" "$G_PAUL")"
check_eq "google --purpose ads_personalization: summary" "$(cat "$err")" "$(summary 3 7 6 0 0 0 1)"
check_eq "google --purpose ads_personalization: the audit names both purposes" \
    "$(last_audit .purposes)" '["ads_personalization","data_sharing"]'
ex -f google-customer-match --purpose ads_personalization,data_sharing --country FR
check_eq "google --purpose ads_personalization,data_sharing: the same" "$(rows_of "$out")" \
    "$(sorted "$G_ELOISE" "$G_JDOE" "$G_PAUL")"
ex -f meta-custom-audience --purpose ads_personalization --country FR
check_eq "meta --purpose ads_personalization: francois is in" "$(rows_of "$out")" \
    "$(sorted "$M_ELOISE" "$M_FRANCOIS" "$M_JDOE" "$M_PAUL")"
check_eq "meta --purpose ads_personalization: summary" "$(cat "$err")" "$(summary 4 6 5 0 0 0 1)"
printf '%s\n' '{"email":"francois@example.com","purpose":"data_sharing","status":"granted","time":"2025-04-01T00:00:00Z"}' >francois.ndjson
"$CDP_BIN/cdp-consent" -q --now "$NOW" --import francois.ndjson
ex -f google-customer-match --purpose ads_personalization --country FR
check_eq "google: with both purposes granted, francois is written" "$(rows_of "$out")" \
    "$(sorted "$G_ELOISE" "$G_FRANCOIS" "$G_JDOE" "$G_PAUL")"
check_eq "google: with both, the summary" "$(cat "$err")" "$(summary 4 6 5 0 0 0 1)"

# ---------------------------------------------------------------------------
# Formula escaping.
TAB=$(printf '\t')
ex -f csv --fields traits.email,traits.note
check "csv: exit 0" test "$status" -eq 0
# (A plain number such as -2 is a number to a spreadsheet, not a formula: it stays.)
check_eq "csv: cells that look like formulas get a leading '" "$(rows_of "$out")" \
    "$(sorted "eloise.martin@example.fr,'=1+1" "francois@example.com,'+cmd" "j.doe+news@gmail.com,-2" \
        "ann+promo@example.org,'@SUM(A1)" ",'${TAB}x" "kim@example.com,\"'=SUM(A1,B1)\"" \
        "eve@example.com,a=b" "sam@example.com," "'-dash@example.com," ",")"
ex -f csv --raw --fields traits.email,traits.note
check_eq "csv --raw: no escaping" "$(rows_of "$out")" \
    "$(sorted "eloise.martin@example.fr,=1+1" "francois@example.com,+cmd" "j.doe+news@gmail.com,-2" \
        "ann+promo@example.org,@SUM(A1)" ",${TAB}x" "kim@example.com,\"=SUM(A1,B1)\"" \
        "eve@example.com,a=b" "sam@example.com," "-dash@example.com," ",")"
ex -f csv --fields traits.note --delimiter ';'
check "csv ';': a formula holding ',' is not quoted, still escaped" grep -q -x "'=SUM(A1,B1)$(printf '\r')" "$out"
# (The activation rows above: names escaped, e-mails and E.164 numbers not.)
check_eq "activation: no e-mail or phone cell is escaped" \
    "$(cut -d , -f 1,2 google.csv meta.csv | grep -c "'")" 0

# ---------------------------------------------------------------------------
# Atomic -o.
ex -f csv --fields id,traits.email
cp "$out" all.csv
echo "old content" >out.csv
ln out.csv old.link
ex -f csv --fields id,traits.email -o out.csv
check "-o: exit 0" test "$status" -eq 0
check "-o: nothing on stdout" no_output
check "-o: the file holds the export" cmp -s all.csv out.csv
check "-o: replaced by rename (the old inode keeps the old content)" test "$(cat old.link)" = "old content"
check "-o: no temporary file left" no_tmp .
check_eq "-o: the new file's mode follows the umask" "$(ls -l out.csv | cut -c 1-10)" "-rw-r--r--"
cp out.csv out.before
ex -f csv --fields id --segment nosuch -o out.csv
check "-o, a run that fails once started: exit 1" test "$status" -eq 1
check "-o, a run that fails once started: message" \
    err_line "cdp-export: no saved segment 'nosuch' (see cdp-segment --list)"
check "-o, a run that fails once started: the file is untouched" cmp -s out.before out.csv
check "-o, a run that fails once started: no temporary file left" no_tmp .
run cdp-segment --now "$NOW" --save everyone --count 'true'
ex -f mailchimp --purpose email_marketing --segment everyone --changes --target t0 -o out.csv --removals "$T/nowhere/rm.csv"
check "-o, --removals in a missing directory: exit 1" test "$status" -eq 1
check "-o, --removals in a missing directory: message" \
    err_line "cdp-export: $T/nowhere/rm.csv: No such file or directory"
check "-o, --removals in a missing directory: the file is untouched" cmp -s out.before out.csv
check "-o, --removals in a missing directory: no temporary file left" no_tmp .
ex -f csv --fields id -o "$T/nowhere/out.csv"
check "-o in a missing directory: exit 1" test "$status" -eq 1
check "-o in a missing directory: message" err_line "cdp-export: $T/nowhere/out.csv: No such file or directory"
ex -f csv --fields id -o /dev/full
check "-o /dev/full: exit 1" test "$status" -eq 1
check "-o /dev/full: write error" err_line "cdp-export: write error: No space left on device"
check "-o /dev/full: still a device" test -c /dev/full
ex -f klaviyo --no-consent-check -o /dev/null
check "-o /dev/null: exit 0" test "$status" -eq 0
check "-o /dev/null: summary" err_line "$(summary 8 2 0 0 0 0 2)"
check "-o /dev/null: /dev/null is still a character device" test -c /dev/null
check "-o /dev/null: no temporary file beside it" no_tmp /dev
ex -f mailchimp --purpose email_marketing --segment everyone --changes --target devnull -o /dev/null --removals /dev/null
check "-o /dev/null --removals /dev/null: exit 0" test "$status" -eq 0
check "-o /dev/null --removals /dev/null: /dev/null is still a character device" test -c /dev/null
check_eq "/dev/null is still empty" "$(wc -c </dev/null | tr -d ' ')" 0

# ---------------------------------------------------------------------------
# --stdin: profile ids or profile objects, as cdp-segment writes them.
EXPR="traits.firstName = 'Ann' or traits.lastName = 'Martin' or traits.firstName = 'Zed'"
"$CDP_BIN/cdp-segment" --now "$NOW" --ids "$EXPR" >ids.txt
"$CDP_BIN/cdp-segment" --now "$NOW" "$EXPR" >objects.ndjson
check_eq "--stdin: three profiles selected" "$(wc -l <ids.txt | tr -d ' ')" 3
run cdp-export --now "$NOW" --stdin -f csv --fields id,traits.email <ids.txt
cp "$out" from-ids.csv
check "--stdin from --ids: exit 0" test "$status" -eq 0
check "--stdin from --ids: summary" err_line "$(summary 3 0 0 0 0 0 0)"
id_ann=$(profile_field user:ann .id)
id_eloise=$(profile_field user:eloise .id)
id_zed=$(profile_field user:zed .id)
check_eq "--stdin from --ids: the rows" "$(rows_of from-ids.csv)" \
    "$(sorted "$id_ann,ann+promo@example.org" "$id_eloise,eloise.martin@example.fr" "$id_zed,")"
run cdp-export --now "$NOW" --stdin -f csv --fields id,traits.email <objects.ndjson
check "--stdin from profile objects: exit 0" test "$status" -eq 0
check "--stdin from profile objects: the same output" cmp -s from-ids.csv "$out"
run cdp-export --now "$NOW" --stdin -f mailchimp --purpose email_marketing <ids.txt
check_eq "--stdin with an activation format: consent still checked" "$(cat "$err")" "$(summary 1 2 0 1 0 0 1)"
check_eq "--stdin with an activation format: the row" "$(rows_of "$out")" "$MC_ELOISE"
{
    echo "$id_ann"
    echo "not an id"
    echo
    echo "{\"id\":\"$id_eloise\",\"traits\":{}}"
    echo "00000000000000000000000000000000"
    echo '{"id":"2149cf"}'
} >mixed.txt
run cdp-export --now "$NOW" --stdin -f csv --fields id <mixed.txt
check "--stdin with bad lines: exit 3" test "$status" -eq 3
check "--stdin: a bad line, with its number" err_line "cdp-export: <stdin>:2: not a profile object or a profile id"
check "--stdin: an unknown id, with its number" \
    err_line "cdp-export: <stdin>:5: no profile 00000000000000000000000000000000 in the store"
check "--stdin: an object without a whole id" err_line "cdp-export: <stdin>:6: not a profile object or a profile id"
check "--stdin with bad lines: the good ones are written" err_line "$(summary 2 0 0 0 0 0 0)"
check_eq "--stdin with bad lines: the rows" "$(rows_of "$out")" "$(sorted "$id_ann" "$id_eloise")"

# ---------------------------------------------------------------------------
# Only what changed, across runs, per target.
C=$T/changes
cat >c-people.ndjson <<'X'
{"type":"identify","userId":"ann","traits":{"email":"ann@example.com","firstName":"Ann","plan":"pro"},"timestamp":"2025-01-01T09:00:00Z","messageId":"c1"}
{"type":"identify","userId":"bob","traits":{"email":"bob@example.com","firstName":"Bob","plan":"pro"},"timestamp":"2025-01-02T09:00:00Z","messageId":"c2"}
{"type":"identify","userId":"cat","traits":{"email":"cat@example.com","firstName":"Cat","plan":"pro"},"timestamp":"2025-01-03T09:00:00Z","messageId":"c3"}
{"type":"identify","userId":"dan","traits":{"email":"dan@example.com","firstName":"Dan","plan":"pro"},"timestamp":"2025-01-04T09:00:00Z","messageId":"c4"}
{"type":"identify","userId":"eve","traits":{"email":"eve@example.com","firstName":"Eve","plan":"pro"},"timestamp":"2025-01-05T09:00:00Z","messageId":"c5"}
{"type":"identify","userId":"gus","traits":{"email":"gus@example.com","firstName":"Gus","plan":"free"},"timestamp":"2025-01-06T09:00:00Z","messageId":"c6"}
X
cat >c-consent.ndjson <<'X'
{"userId":"ann","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"bob","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"cat","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"dan","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
{"userId":"gus","purpose":"email_marketing","status":"granted","time":"2025-02-01T00:00:00Z"}
X
"$CDP_BIN/cdp-ingest" -q -d "$C" --now "$NOW" c-people.ndjson
"$CDP_BIN/cdp-consent" -q -d "$C" --now "$NOW" --import c-consent.ndjson
run cdp-segment -d "$C" --now "$NOW" --save pros --count "traits.plan = 'pro'"
check_eq "changes: the segment holds five" "$(cat "$out")" 5
MC_HEADER="Email Address,First Name,Last Name,Tags"
KL_HEADER="Email,Phone Number,First Name,Last Name"
# sync TARGET FORMAT ARGS...: one --changes export of segment pros.
sync() {
    tgt=$1 fmt=$2
    shift 2
    run cdp-export -d "$C" --now "$NOW" --segment pros --changes --target "$tgt" -f "$fmt" \
        --purpose email_marketing "$@"
}

sync mc mailchimp -o add.csv --removals rm.csv
check "run 1: exit 0" test "$status" -eq 0
check "run 1: nothing on stdout" no_output
check_eq "run 1: add.csv header" "$(head_of add.csv)" "$MC_HEADER"
check_eq "run 1: everyone consenting is added" "$(rows_of add.csv)" \
    "$(sorted "ann@example.com,Ann,," "bob@example.com,Bob,," "cat@example.com,Cat,," "dan@example.com,Dan,,")"
check_eq "run 1: rm.csv has only its header" "$(tr -d '\r' <rm.csv)" "$MC_HEADER"
check_eq "run 1: summary (eve has no consent record)" "$(cat "$err")" "$(summary 4 1 1 0 0 0 0)"
check_eq "run 1: the audit line" "$(last_audit '[.segment, .target, .count, .removed]' "$C")" '["pros","mc",4,0]'
sync kl klaviyo -o kl-add.csv --removals kl-rm.csv
check_eq "run 1 to a second target: everyone consenting too" "$(rows_of kl-add.csv)" \
    "$(sorted "ann@example.com,,Ann," "bob@example.com,,Bob," "cat@example.com,,Cat," "dan@example.com,,Dan,")"

sync mc mailchimp -o add.csv --removals rm.csv
check "run 2, nothing changed: exit 0" test "$status" -eq 0
check_eq "run 2: add.csv has only its header" "$(tr -d '\r' <add.csv)" "$MC_HEADER"
check_eq "run 2: rm.csv has only its header" "$(tr -d '\r' <rm.csv)" "$MC_HEADER"
check_eq "run 2: summary" "$(cat "$err")" "$(summary 0 1 1 0 0 0 0)"

# fay enters by a new event (and consents), bob withdraws, cat stops matching.
cat >c-more.ndjson <<'X'
{"type":"identify","userId":"fay","traits":{"email":"fay@example.com","firstName":"Fay","plan":"pro"},"timestamp":"2025-06-01T09:00:00Z","messageId":"c7"}
{"type":"identify","userId":"cat","traits":{"plan":"free"},"timestamp":"2025-06-02T09:00:00Z","messageId":"c8"}
X
cat >c-more-consent.ndjson <<'X'
{"userId":"fay","purpose":"email_marketing","status":"granted","time":"2025-06-01T00:00:00Z"}
{"userId":"bob","purpose":"email_marketing","status":"withdrawn","time":"2025-06-01T00:00:00Z"}
X
"$CDP_BIN/cdp-ingest" -q -d "$C" --now "$NOW" c-more.ndjson
"$CDP_BIN/cdp-consent" -q -d "$C" --now "$NOW" --import c-more-consent.ndjson

cp add.csv add.before
sync mc mailchimp -o add.csv --removals "$T/nowhere/rm.csv"
check "failed run (removals unwritable): exit 1" test "$status" -eq 1
check "failed run (removals unwritable): add.csv untouched" cmp -s add.before add.csv
sync mc mailchimp -o /dev/full --removals rm2.csv
check "failed run (output full once written): exit 1" test "$status" -eq 1
check "failed run (output full once written): write error" err_line "cdp-export: write error: No space left on device"
check "failed runs: no temporary file left" no_tmp .

sync mc mailchimp -o add.csv --removals rm.csv
check "run 3: exit 0" test "$status" -eq 0
check_eq "run 3: only the newcomer is added (the watermark did not move on failure)" \
    "$(rows_of add.csv)" "fay@example.com,Fay,,"
check_eq "run 3: the one who withdrew and the one who stopped matching are removed" \
    "$(rows_of rm.csv)" "$(sorted "bob@example.com,Bob,," "cat@example.com,Cat,,")"
check "run 3: CRLF in both files" crlf rm.csv
check_eq "run 3: summary" "$(cat "$err")" "$(summary 1 2 1 0 1 0 0)"
check_eq "run 3: the audit line counts the removals" "$(last_audit '[.target, .count, .removed]' "$C")" '["mc",1,2]'

sync mc mailchimp -o add.csv --removals rm.csv
check_eq "run 4, nothing changed: add.csv has only its header" "$(tr -d '\r' <add.csv)" "$MC_HEADER"
check_eq "run 4: rm.csv has only its header" "$(tr -d '\r' <rm.csv)" "$MC_HEADER"

sync kl klaviyo -o kl-add.csv --removals kl-rm.csv
check "the second target: exit 0" test "$status" -eq 0
check_eq "the second target keeps its own watermark: the same additions" "$(rows_of kl-add.csv)" \
    "fay@example.com,,Fay,"
check_eq "the second target: the same removals" "$(rows_of kl-rm.csv)" \
    "$(sorted "bob@example.com,,Bob," "cat@example.com,,Cat,")"
check_eq "the second target: its header" "$(head_of kl-rm.csv)" "$KL_HEADER"
sync new brevo -o new.csv
check_eq "a new target: everyone consenting now" "$(rows_of new.csv)" \
    "$(sorted "ann@example.com;Ann;;" "dan@example.com;Dan;;" "fay@example.com;Fay;;")"
sync mc mailchimp -o add.csv --removals rm.csv
check_eq "other targets' runs leave mc's watermark alone" "$(rows_of add.csv)$(rows_of rm.csv)" ""

# ---------------------------------------------------------------------------
# Usage errors.
ex --changes
check "--changes alone: exit 2" test "$status" -eq 2
check "--changes alone: message" err_line "cdp-export: --changes needs --segment NAME and --target NAME"
ex --changes --segment pros -f csv
check "--changes without --target: exit 2" test "$status" -eq 2
ex --changes --target mc -f csv
check "--changes without --segment: exit 2" test "$status" -eq 2
check "--changes without --segment: message" err_line "cdp-export: --changes needs --segment NAME and --target NAME"
ex --segment pros --target mc
check "--target without --changes: exit 2" test "$status" -eq 2
check "--target without --changes: message" err_line "cdp-export: --target and --removals go with --changes"
ex --segment pros --removals rm.csv
check "--removals without --changes: exit 2" test "$status" -eq 2
ex --segment pros --changes --target 'a@b'
check "--target with '@': exit 2" test "$status" -eq 2
ex --lookup user:ann -f mailchimp --purpose email_marketing
check "--lookup with an activation format: exit 2" test "$status" -eq 2
check "--lookup with an activation format: message" \
    err_line "cdp-export: activation formats write audiences, not one person"
check "--lookup with an activation format: nothing on stdout" no_output
ex --subject user:ann -f meta-custom-audience --no-consent-check
check "--subject with an activation format: exit 2" test "$status" -eq 2
ex --stdin --segment pros
check "--stdin with --segment: exit 2" test "$status" -eq 2
ex -f xlsx
check "an unknown format: exit 2" test "$status" -eq 2
check "an unknown format: names the formats" err_starts "cdp-export: unknown format 'xlsx' (ndjson, csv, mailchimp, brevo, klaviyo, google-customer-match, meta-custom-audience)"

finish
