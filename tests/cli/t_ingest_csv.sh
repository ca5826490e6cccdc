#!/bin/sh
# cdp-ingest on CSV: French headers, byte order mark, ';' delimiter, quoting,
# header guessing, --map, --id, --type track orders, --date-format, rejected
# rows, empty cells, re-imports and phone numbers.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

# The value of a jq filter over the profile holding identifier $2 in store $1.
field_in() {
    "$CDP_BIN/cdp-export" --db "$1" --lookup "$2" 2>/dev/null | jq -r "$3"
}
profiles_in() {
    "$CDP_BIN/cdp-export" --db "$1" 2>/dev/null | wc -l | tr -d ' '
}

# ---------------------------------------------------------------------------
# A French export: BOM, CRLF, ';', accented headers, quoted ';', '""' and
# line breaks in fields; row 4 (lines 5-6) has one field too many.
cp "$DATA/csv_fr_contacts.csv" contacts.csv
run cdp-ingest --delimiter ';' --country FR --now 2025-04-01T00:00:00Z --rejects rejects.ndjson contacts.csv
check "French CSV: one row rejected, exit 3" test "$status" -eq 3
check "French CSV: summary" err_starts "cdp-ingest: 4 read, 3 landed, 0 duplicates, 1 rejected"
check_eq "rejected row: its first line and the reason" \
    "$(jq -r '"\(.file):\(.line): \(.reason)"' rejects.ndjson)" "contacts.csv:5: 7 fields where the header has 6"
check_eq "three profiles" "$(profiles_in "$T/db")" 3
check_eq "BOM and accented headers mapped (E-mail, Prénom, Nom, Téléphone, Ville)" \
    "$(profile_field email:jane@example.com '.traits|[.email,.firstName,.phone,.city]|join(" ")')" \
    "jane@example.com Jane +33612345678 Paris"
check_eq "quoted field with the delimiter inside" "$(profile_field email:jane@example.com .traits.lastName)" "Doe;Smith"
check_eq "quoted field with doubled quotes; unmapped column kept under its header" \
    "$(profile_field email:jane@example.com '.traits["Note client"]')" 'says "hi"'
check_eq "quoted field with a line break" \
    "$(profile_field email:bob@example.org '.traits["Note client"]')" "first
second"
check_eq "the row after a multi-line row is read" "$(profile_field email:bob@example.org .traits.city)" "Lyon"
check_eq "phone 06 12 34 56 78 with --country FR" \
    "$(profile_field email:jane@example.com '.identifiers|join(" ")')" "email:jane@example.com phone:+33612345678"
check_eq "lookup by the phone number" "$(profile_field phone:+33612345678 .traits.firstName)" "Jane"
check_eq "empty cells set no trait" "$(profile_field email:carl@example.org '.traits|keys|join(" ")')" \
    "email firstName lastName"
check_eq "empty phone cell: no phone identifier" \
    "$(profile_field email:bob@example.org '.identifiers|join(" ")')" "email:bob@example.org"
check_eq "the rejected row did not land" "$(profile_field email:xavier@example.org .id)" ""
check_eq "rows without a time take --now" "$(profile_field email:carl@example.org .first_seen)" \
    "2025-04-01T00:00:00.000Z"

run cdp-ingest --delimiter ';' --country FR contacts.csv
check "French CSV: the row number in the message is where the row starts" \
    err_line "cdp-ingest: contacts.csv:5: 7 fields where the header has 6"

# The same file again, another day: rows without messageId are named by their
# content, so nothing is added.
"$CDP_BIN/cdp-export" >before
run cdp-ingest --delimiter ';' --country FR --now 2025-05-01T00:00:00Z contacts.csv
check "re-import: all duplicates" err_starts "cdp-ingest: 4 read, 0 landed, 3 duplicates, 1 rejected"
"$CDP_BIN/cdp-export" >after
check "re-import changes nothing" cmp -s before after

# ---------------------------------------------------------------------------
# Header guessing in English and French, lower and upper case.
cat >guess.csv <<'X'
first_name,E-Mail,Phone,last name,Ville,Code Postal,Date,Loyalty Tier
Anna,anna@example.com,+33 6 11 22 33 44,Smith,Paris,75001,2025-01-01,gold
Annie,ANNA@example.com,,,,,2025-02-01,
X
run cdp-ingest --db "$T/dbg" guess.csv
check "guessed headers: exit 0" test "$status" -eq 0
check_eq "guessed headers: first_name, E-Mail, Phone, last name, Ville, Code Postal" \
    "$(field_in "$T/dbg" email:anna@example.com '.traits|[.firstName,.email,.phone,.lastName,.city,.postalCode]|join(" ")')" \
    "Annie anna@example.com +33611223344 Smith Paris 75001"
check_eq "guessed header Date is the time" \
    "$(field_in "$T/dbg" email:anna@example.com '[.first_seen,.last_seen]|join(" ")')" \
    "2025-01-01T00:00:00.000Z 2025-02-01T00:00:00.000Z"
check_eq "an unmapped column is a trait under its header" \
    "$(field_in "$T/dbg" email:anna@example.com '.traits["Loyalty Tier"]')" "gold"
check_eq "a later row's empty cells erase nothing" \
    "$(field_in "$T/dbg" email:anna@example.com '.traits|[.city,.lastName,.postalCode]|join(" ")')" "Paris Smith 75001"

printf 'Courriel,prénom,téléphone,NOM\nlea@example.fr,Léa,0612345670,Martin\n' >guess2.csv
run cdp-ingest --db "$T/dbg2" --country FR guess2.csv
check_eq "guessed headers: Courriel, prénom, téléphone, NOM" \
    "$(field_in "$T/dbg2" email:lea@example.fr '[.traits.firstName,.traits.lastName,(.identifiers|join(" "))]|join(" ")')" \
    "Léa Martin email:lea@example.fr phone:+33612345670"

# ---------------------------------------------------------------------------
# --map overrides the guesses, whatever the column order; --id.
printf 'Contact,Courriel,Prénom,Given,Niveau,ID client\nann2@example.com,ann@example.com,Wrong,Ann,silver,C-001\n' >map.csv
run cdp-ingest --db "$T/dbm" --map firstName=Given,email=Contact,traits.tier=Niveau --id 'crm=ID client' map.csv
check "--map: exit 0" test "$status" -eq 0
check_eq "--map firstName=Given wins over the guessed Prénom" \
    "$(field_in "$T/dbm" crm:C-001 .traits.firstName)" "Ann"
check_eq "--map email=Contact wins over the guessed Courriel after it" \
    "$(field_in "$T/dbm" crm:C-001 .traits.email)" "ann2@example.com"
check_eq "--map email=Contact: the mapped column is the e-mail identifier" \
    "$(field_in "$T/dbm" email:ann2@example.com .traits.firstName)" "Ann"
check_eq "--map traits.tier=Niveau" "$(field_in "$T/dbm" crm:C-001 .traits.tier)" "silver"
check_eq "--id crm='ID client' makes identifier crm:VALUE" \
    "$(field_in "$T/dbm" crm:C-001 '[.identifiers[]|select(startswith("crm:"))]|join(" ")')" "crm:C-001"

run cdp-ingest --db "$T/dbm2" --map firstName=Nope map.csv
check "--map to a column that is not there: exit 1" test "$status" -eq 1
check "--map to a column that is not there: says which" \
    err_starts "cdp-ingest: map.csv:1: --map firstName=Nope: no column 'Nope' in the header"
check_eq "--map to a column that is not there: said once" "$(grep -c "no column 'Nope'" "$err")" 1
check_eq "--map to a column that is not there: nothing lands" "$(profiles_in "$T/dbm2")" 0
run cdp-ingest --db "$T/dbm2" --id 'crm=Nope' map.csv
check "--id to a column that is not there: exit 1" test "$status" -eq 1
check "--id to a column that is not there: says which" err_starts "cdp-ingest: map.csv:1: --id crm=Nope: no column 'Nope'"
run cdp-ingest --db "$T/dbm2" --map firstName map.csv
check "--map without '=': usage error" test "$status" -eq 2
check "--map without '=': message" err_line "cdp-ingest: --map wants field=Column,..., not 'firstName'"

# ---------------------------------------------------------------------------
# Orders from CSV; the same order also seen in NDJSON counts once.
cp "$DATA/csv_orders.csv" orders.csv
printf '%s\n' '{"type":"track","event":"Order Completed","userId":"z","context":{"traits":{"email":"zoe@example.com"}},"properties":{"order_id":"A-1","total":10.5},"timestamp":"2025-03-01T10:00:00Z","messageId":"nd-A-1"}' >orders.ndjson
run cdp-ingest --db "$T/dbo" orders.ndjson
run cdp-ingest --db "$T/dbo" --type track --event "Order Completed" orders.csv
check "CSV orders: exit 0" test "$status" -eq 0
check "CSV orders: summary" err_starts "cdp-ingest: 2 read, 2 landed, 0 duplicates, 0 rejected"
check_eq "CSV orders: one profile" "$(profiles_in "$T/dbo")" 1
check_eq "CSV orders: order A-1 counted once, A-2 once" \
    "$(field_in "$T/dbo" email:zoe@example.com '.computed|[.orders_count,.revenue_total,.events_count,.preferred_payment_method]|@csv')" \
    '2,30.5,3,"card"'
check_eq "CSV orders: the rows are track events with their properties" \
    "$("$CDP_BIN/cdp-export" --db "$T/dbo" --lookup user:z --events | jq -r '[.events[]|select(.properties.order_id=="A-2")|.type,.event,.properties.total]|join(",")')" \
    "track,Order Completed,20"
run cdp-ingest --db "$T/dbo" --type track --event "Order Completed" orders.csv
check "CSV orders again: duplicates" err_starts "cdp-ingest: 2 read, 0 landed, 2 duplicates"
check_eq "CSV orders again: counts unchanged" \
    "$(field_in "$T/dbo" email:zoe@example.com '.computed|[.orders_count,.revenue_total]|@csv')" "2,30.5"
# The other order of arrival: CSV first, then NDJSON.
run cdp-ingest --db "$T/dbo2" --type track --event "Order Completed" orders.csv
run cdp-ingest --db "$T/dbo2" orders.ndjson
check_eq "CSV then NDJSON: order A-1 counted once" \
    "$(field_in "$T/dbo2" user:z '.computed|[.orders_count,.revenue_total]|@csv')" "2,30.5"
run cdp-ingest --db "$T/dbo3" --type track orders.csv
check "--type track without --event: usage error" test "$status" -eq 2

# ---------------------------------------------------------------------------
# --date-format.
printf 'email;date\nd@example.com;24/12/2025\n' >dates.csv
run cdp-ingest --db "$T/dbd" --delimiter ';' --date-format '%d/%m/%Y' dates.csv
check "--date-format: exit 0" test "$status" -eq 0
check_eq "--date-format %d/%m/%Y reads 24/12/2025" \
    "$(field_in "$T/dbd" email:d@example.com .first_seen)" "2025-12-24T00:00:00.000Z"
run cdp-ingest --db "$T/dbd2" --delimiter ';' dates.csv
check "without --date-format 24/12/2025 is rejected, not guessed" \
    err_line 'cdp-ingest: dates.csv:2: unparseable timestamp "24/12/2025"'

# A row with more fields than the header, in a plain comma file.
printf 'email,Ville\na@example.com,Paris\nb@example.com,Lyon,extra\nc@example.com,Nice\n' >extra.csv
run cdp-ingest --db "$T/dbx" extra.csv
check "extra field: exit 3" test "$status" -eq 3
check "extra field: message with line number" err_line "cdp-ingest: extra.csv:3: 3 fields where the header has 2"
check_eq "extra field: the other rows land" "$(profiles_in "$T/dbx")" 2
# Input that ends inside a quoted field: that row is rejected, the rows before it land.
printf 'email,Note\nok@example.com,fine\nbad@example.com,"never closed\nmore\n' >"$T/unclosed.csv"
run cdp-ingest --db "$T/dbq" -f csv "$T/unclosed.csv"
check "unclosed quote: exit 3" test "$status" -eq 3
check "unclosed quote: reported at the row's first line" \
    grep -q "unclosed.csv:3: unclosed quote at the end of the input" "$err"
check_eq "unclosed quote: the good row landed" \
    "$(CDP_DB=$T/dbq "$CDP_BIN/cdp-export" | jq -r '.identifiers[]')" "email:ok@example.com"

finish
