#!/bin/sh
# The main job on the bundled sample data: install what is missing, build,
# ingest a CRM export (French headers), web events and a shop's orders into
# a fresh store, and print the unified profiles.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
make -s all
db=$top/demo-out/cdp.db
rm -rf "$top/demo-out"
mkdir -p "$top/demo-out"
export CDP_DB="$db"
PATH=$top/cmd:$PATH

say() { printf '\n$ %s\n' "$*"; }

say cdp-ingest --source crm --format csv --delimiter "';'" --country FR \
    --date-format "'%d/%m/%Y'" --id "crm='ID client'" scripts/sample/crm.csv
cdp-ingest --source crm --format csv --delimiter ';' --country FR \
    --date-format '%d/%m/%Y' --id 'crm=ID client' scripts/sample/crm.csv

# The web events hold two bad lines on purpose: they are reported and
# skipped (exit status 3), and every good line lands.
say cdp-ingest --source web --country FR --rejects demo-out/rejects.ndjson scripts/sample/web.ndjson
cdp-ingest --source web --country FR --rejects demo-out/rejects.ndjson \
    scripts/sample/web.ndjson || [ $? -eq 3 ]
cat demo-out/rejects.ndjson

say cdp-ingest --source shop --format csv --type track --event "'Order Completed'" \
    --map timestamp=order_date scripts/sample/orders.csv
cdp-ingest --source shop --format csv --type track --event 'Order Completed' \
    --map timestamp=order_date scripts/sample/orders.csv

say cdp-export --format csv --fields id,traits.email,traits.firstName,traits.lastName,computed.orders_count,computed.revenue_total,identifiers
cdp-export --format csv --fields id,traits.email,traits.firstName,traits.lastName,computed.orders_count,computed.revenue_total,identifiers

say cdp-export --lookup email:ines.andre@example.fr
cdp-export --lookup email:ines.andre@example.fr | jq .

# Segments: customers who ordered twice, and people seen on the web who
# never ordered; the second is saved, so a later run reports only changes.
say cdp-segment --now 2026-01-01 -f csv --fields id,traits.email,computed.orders_count \
    "'computed.orders_count >= 2 and computed.last_order_at > now - 365d'"
cdp-segment --now 2026-01-01 -f csv --fields id,traits.email,computed.orders_count \
    'computed.orders_count >= 2 and computed.last_order_at > now - 365d'

say cdp-segment --save browsers --ids "'ever(type = \"page\") and not ever(event = \"Order Completed\")'"
cdp-segment --save browsers --ids 'ever(type = "page") and not ever(event = "Order Completed")'
say cdp-segment --changes browsers --count
cdp-segment --changes browsers --count
say cdp-segment --list
cdp-segment --list

# Consent: the CRM's opt-in column, then an audience for an e-mail tool
# that holds only the people who opted in.
say cdp-consent --import --source crm --delimiter "';'" --date-format "'%d/%m/%Y'" \
    --map "'consent.email_marketing=Optin e-mail,timestamp=Date'" scripts/sample/optin.csv
cdp-consent --import --source crm --delimiter ';' --date-format '%d/%m/%Y' \
    --map 'consent.email_marketing=Optin e-mail,timestamp=Date' scripts/sample/optin.csv
say cdp-segment --now 2026-01-01 "'computed.events_count >= 1'" '|' \
    cdp-export --stdin -f mailchimp --purpose email_marketing --now 2026-01-01
cdp-segment --now 2026-01-01 'computed.events_count >= 1' |
    cdp-export --stdin -f mailchimp --purpose email_marketing --now 2026-01-01

# Matching without identifiers: 2000 generated persons, a quarter with
# corrupted copies; the clusters against the truth, then why one pair
# was linked.
say cdp-gen --format people-csv --people 2000 '>' demo-out/people.csv
scripts/cdp-gen --format people-csv --people 2000 >demo-out/people.csv
say cdp-merge --dedupe --evaluate rec_id --truth-pattern "'^rec-[0-9]+'" '<' demo-out/people.csv
cdp-merge --dedupe --evaluate rec_id --truth-pattern '^rec-[0-9]+' <demo-out/people.csv | jq -c .
say cdp-merge --dedupe --explain '<' demo-out/people.csv '|' head -n 1
cdp-merge -q --dedupe --explain <demo-out/people.csv | head -n 1 | jq -c .

# Survivorship: names from the CRM win over the web's and the shop's,
# whatever came last.  Then a manual merge made by mistake, explained and
# undone (the two profiles come back as they were), and a rebuild of every
# profile from the stored events in time order.
say cdp-merge --rule firstName=source:crm,web,shop --rule lastName=source:crm,web,shop
cdp-merge --rule firstName=source:crm,web,shop --rule lastName=source:crm,web,shop | jq -c .
say cdp-merge --rules
cdp-merge --rules
say echo "'crm:C006 email:paul.martin@example.net'" '|' cdp-merge --pairs
echo 'crm:C006 email:paul.martin@example.net' | cdp-merge --pairs
say cdp-merge --why crm:C006 '|' jq -c "'[.seq, .action, .rule, .winner, .loser]'"
cdp-merge --why crm:C006 | jq -c '[.seq, .action, .rule, .winner, .loser]'
seq=$(cdp-merge -q --why crm:C006 | jq -r 'select(.action == "merge") | .seq' | tail -n 1)
say cdp-merge --undo "$seq"
cdp-merge --undo "$seq" | jq -c .
say cdp-merge --rebuild
cdp-merge --rebuild | jq -c .

# Predicted attributes: the CDNOW purchase log of the BG/NBD paper
# (tests/data/cdnow), fitted on its first 39 weeks, in weeks as the paper.
say "{ echo customer,date,amount; awk '{ print \$1 \",\" \$3 \",\" \$5 }' tests/data/cdnow/CDNOW_sample.txt; }" '|' \
    cdp-predict --transactions --as-of 1997-09-30 --unit weeks --horizon 39w '|' head -n 2
{ echo customer,date,amount; awk '{ print $1 "," $3 "," $5 }' tests/data/cdnow/CDNOW_sample.txt; } |
    cdp-predict --transactions --as-of 1997-09-30 --unit weeks --horizon 39w | head -n 2

say cdp-export '>' demo-out/profiles.ndjson
cdp-export >demo-out/profiles.ndjson
printf '%s profiles written to demo-out/profiles.ndjson (store: demo-out/cdp.db)\n' \
    "$(wc -l <demo-out/profiles.ndjson | tr -d ' ')"
