#!/bin/sh
# cdp-merge on the store: fuzzy matching of profiles, the quarantine,
# manual pairs and the merge log.
#
# - A store of 300 people (identify events with userId, names, e-mail,
#   phone, birthday, address; every third with a track event, drawn with a
#   fixed seed) and planted records that exact identifiers do not catch:
#   an e-mail-only CRM record with a typo in the surname, an anonymous web
#   record with another e-mail, a phone-only record with another number and
#   a doubled letter, and two people under a second userId.  A record with
#   the same phone formatted differently is merged by ingest already; a
#   namesake (same names, other birthday and address) is another person;
#   two events refused by merge protection at ingest.
# - --fuzzy (a dry run): one NDJSON line per proposed merge, its members,
#   probability >= 0.95, weight = prior + the field weights, the planted
#   pairs exactly, the namesake apart; nothing in the store changes.
# - --fuzzy --apply: merges through the merge log (rule "fuzzy" with the
#   evidence), refusals by merge protection (two userIds) into the
#   quarantine, the summary; a second run merges nothing; the merged
#   profile's events, counters and identifiers, and the link event in its
#   history.
# - --quarantine, --approve SEQ (a forced merge; its "settled" entry takes
#   a seq), --reject SEQ, a SEQ not in the quarantine, bad SEQ text.
# - --pairs: identifiers (e-mail, national phone number, userId, anon) and
#   profile ids, the note in the evidence, lines already one profile, bad
#   lines reported with their line number (exit 3) while the good ones
#   merge, identifiers on no profile.
# - --why: oldest first; unknown identifier (exit 1), bad spec (exit 2).
# - Usage errors: two modes, --apply without --fuzzy.
# - The same events in reverse order give the same proposals.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

NOW1=2025-04-01T00:00:00.000Z
NOW2=2025-04-02T00:00:00.000Z
NOW3=2025-04-03T00:00:00.000Z

merge() {
    run cdp-merge "$@"
}

# ends STATUS LINE: the last run exited STATUS and wrote LINE on stderr.
ends() {
    test "$status" -eq "$1" && err_line "$2"
}

# profiles [DB]: the number of profiles of a store.
profiles() {
    "$CDP_BIN/cdp-export" -d "${1:-$CDP_DB}" 2>/dev/null | wc -l | tr -d ' '
}

# snapshot FILE: every profile of the store, sorted, into FILE.
snapshot() {
    "$CDP_BIN/cdp-export" 2>/dev/null | sort >"$1"
}

# id_of IDENT [DB]: the id of the profile holding IDENT.
id_of() {
    "$CDP_BIN/cdp-export" -d "${2:-$CDP_DB}" --lookup "$1" 2>/dev/null | jq -r .id
}

# together A B: true when identifiers A and B are on one profile.
together() {
    a=$(id_of "$1")
    test -n "$a" && test "$a" = "$(id_of "$2")"
}

# lines FILE: the number of lines of FILE.
lines() {
    wc -l <"$1" | tr -d ' '
}

# ---------------------------------------------------------------------------
# 1. The store.
#
# 300 people u-001..u-300, distinct first name + surname, drawn with a
# Park-Miller generator; every third has a track event too.
cat >gen.awk <<'X'
function rnd(n) { x = (x * 16807) % 2147483647; return x % n }
BEGIN {
    x = 19770412
    ng = split("Adrien Alice Antoine Aurore Bastien Benoit Camille Cedric Chloe Damien Denise Elodie Emile Fabrice Florence Gabriel Gilles Helene Isabelle Jacques Julie Karim Laure Lucien Manon Mathis Nadia Noel Oscar Pauline Quentin Regis Sabine Simon Solene Thierry Valerie Victor Yann Zoe", G, " ")
    ns = split("Arnaud Aubert Barbier Blanc Boyer Brun Carre Chevalier Clement Colin David Denis Dumas Durand Fabre Faure Fournier Francois Gautier Gerard Girard Guerin Henry Joly Lambert Laurent Legrand Lemaire Leroux Marchand Masson Mathieu Mercier Meunier Michel Morel Muller Noel Perrin Picard", S, " ")
    nr = split("Victor-Hugo Jean-Jaures Pasteur Voltaire Gambetta Foch Moliere Carnot Republique Liberte", R, " ")
    for (k = 1; k <= n; k++) {
        do { g = G[1 + rnd(ng)]; s = S[1 + rnd(ns)] } while ((g, s) in used)
        used[g, s] = 1
        dob = sprintf("%04d-%02d-%02d", 1940 + rnd(65), 1 + rnd(12), 1 + rnd(28))
        pc = sprintf("%02d%03d", 14 + 4 * rnd(20), 100 * rnd(3))
        st = sprintf("%d rue %s", 1 + rnd(120), R[1 + rnd(nr)])
        id = sprintf("%03d", k)
        ph = sprintf("06 %02d %02d %02d %02d", 10 + int(k / 100), k % 100, rnd(100), rnd(100))
        printf "{\"type\":\"identify\",\"userId\":\"u-%s\",\"traits\":{\"firstName\":\"%s\",\"lastName\":\"%s\",\"email\":\"%s.%s.%s@example.com\",\"phone\":\"%s\",\"birthday\":\"%s\",\"address\":{\"postalCode\":\"%s\",\"street\":\"%s\"}},\"timestamp\":\"2025-01-01T%02d:%02d:00Z\",\"messageId\":\"id-%s\"}\n", id, g, s, tolower(g), tolower(s), id, ph, dob, pc, st, int(k / 60), k % 60, id
        if (k % 3 == 0)
            printf "{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":\"u-%s\",\"timestamp\":\"2025-02-01T%02d:%02d:00Z\",\"messageId\":\"tr-%s\"}\n", id, int(k / 60), k % 60, id
    }
}
X
awk -v n=300 -f gen.awk >people.ndjson
check_eq "data: 300 identify and 100 track events" "$(lines people.ndjson)" 400
check_eq "data: the names are distinct" \
    "$(jq -r 'select(.type == "identify") | .traits | .firstName + " " + .lastName' people.ndjson | sort | uniq -d | wc -l | tr -d ' ')" 0
check_eq "data: the people of the planted records" \
    "$(jq -r 'select(.type == "identify" and (.userId | test("^u-0[1-8]0$"))) | [.userId, .traits.firstName, .traits.lastName, .traits.birthday, .traits.address.postalCode] | join(" ")' people.ndjson)" \
    "u-010 Solene Dumas 1981-07-21 74000
u-020 Fabrice Aubert 1959-06-25 54000
u-030 Julie Chevalier 2002-06-02 58000
u-040 Victor Francois 1949-01-28 46200
u-050 Fabrice Noel 1968-02-13 54200
u-060 Yann Laurent 1973-06-17 30200
u-070 Julie Picard 1961-10-03 54100
u-080 Laure Laurent 1956-06-24 18100"

# The planted records:
#  crm-1  Solene Dumas (u-010) as "Dumaz", another e-mail, no userId, no phone
#  web-1  Fabrice Aubert (u-020), anonymous, another e-mail
#  crm-2  Julie Chevalier (u-030) as "Chevallier", another phone number only
#  crm-3  Victor Francois (u-040) under a second userId crm-040
#  crm-4  Fabrice Noel (u-050) under a second userId crm-050
#  crm-5  Julie Picard (u-070): her phone in international format
#  crm-6  u-060's track event with u-061's e-mail: merge refused at ingest
#  crm-7  another Solene Dumas, born elsewhere and another year (u-900)
#  crm-8  a new userId u-301 with u-080's e-mail: refused at ingest, a
#         profile of its own
#  pr-1, pr-2, pr-3: an e-mail, a phone and an anonymous id alone, for --pairs
cat >planted.ndjson <<'X'
{"type":"identify","traits":{"firstName":"Solene","lastName":"Dumaz","email":"sol.dumas@mail.test","birthday":"1981-07-21","address":{"postalCode":"74000","street":"48 rue Pasteur"}},"timestamp":"2025-03-01T10:00:00Z","messageId":"crm-1"}
{"type":"identify","anonymousId":"web-20","traits":{"firstName":"Fabrice","lastName":"Aubert","email":"fab.aubert@mail.test","birthday":"1959-06-25","address":{"postalCode":"54000","street":"107 rue Foch"}},"timestamp":"2025-03-01T10:01:00Z","messageId":"web-1"}
{"type":"identify","traits":{"firstName":"Julie","lastName":"Chevallier","phone":"07 11 22 33 44","birthday":"2002-06-02","address":{"postalCode":"58000","street":"98 rue Victor-Hugo"}},"timestamp":"2025-03-01T10:02:00Z","messageId":"crm-2"}
{"type":"identify","userId":"crm-040","traits":{"firstName":"Victor","lastName":"Francois","email":"v.francois@mail.test","birthday":"1949-01-28","address":{"postalCode":"46200","street":"72 rue Foch"}},"timestamp":"2025-03-01T10:03:00Z","messageId":"crm-3"}
{"type":"identify","userId":"crm-050","traits":{"firstName":"Fabrice","lastName":"Noel","email":"fnoel@mail.test","birthday":"1968-02-13","address":{"postalCode":"54200","street":"104 rue Pasteur"}},"timestamp":"2025-03-01T10:04:00Z","messageId":"crm-4"}
{"type":"identify","traits":{"firstName":"Julie","lastName":"Picard","phone":"+33 6 10 70 44 43"},"timestamp":"2025-03-01T10:05:00Z","messageId":"crm-5"}
{"type":"track","event":"Clicked","userId":"u-060","context":{"traits":{"email":"valerie.laurent.061@example.com"}},"timestamp":"2025-03-01T10:06:00Z","messageId":"crm-6"}
{"type":"identify","userId":"u-900","traits":{"firstName":"Solene","lastName":"Dumas","email":"solene.dumas.900@example.com","birthday":"1990-02-14","address":{"postalCode":"13000","street":"3 rue Carnot"}},"timestamp":"2025-03-01T10:07:00Z","messageId":"crm-7"}
{"type":"identify","userId":"u-301","traits":{"email":"laure.laurent.080@example.com"},"timestamp":"2025-03-01T10:08:00Z","messageId":"crm-8"}
{"type":"identify","traits":{"email":"jo.perso@mail.test"},"timestamp":"2025-03-02T10:00:00Z","messageId":"pr-1"}
{"type":"identify","traits":{"phone":"07 00 00 01 01"},"timestamp":"2025-03-02T10:01:00Z","messageId":"pr-2"}
{"type":"page","anonymousId":"kiosk-7","timestamp":"2025-03-02T10:02:00Z","messageId":"pr-3"}
X
cat people.ndjson planted.ndjson >all.ndjson
run cdp-ingest -q --country FR --now 2025-03-31T00:00:00Z all.ndjson
check "ingest: exit 0" test "$status" -eq 0
check_eq "ingest: -q, only the two refusals on stderr" "$(cat "$err")" \
    "cdp-ingest: all.ndjson:407: warning: merge refused: would hold 2 user identifiers (limit 1)
cdp-ingest: all.ndjson:409: warning: merge refused: user:u-301 would be a second user identifier of profile"
check_eq "ingest: 300 people + 10 planted profiles (crm-5 went to u-070)" "$(profiles)" 310
check_eq "ingest: the phone in another format is on u-070's profile already" \
    "$("$CDP_BIN/cdp-export" --lookup user:u-070 | jq -c '[.identifiers, .computed.events_count]')" \
    '[["email:julie.picard.070@example.com","phone:+33610704443","user:u-070"],2]'
check_eq "ingest: u-301 has a profile of its own, without the e-mail" \
    "$("$CDP_BIN/cdp-export" --lookup user:u-301 | jq -c .identifiers)" '["user:u-301"]'

# ---------------------------------------------------------------------------
# 2. --fuzzy, a dry run.
snapshot before.ndjson
merge --fuzzy --now $NOW1
cp "$out" fuzzy.ndjson
check "fuzzy: exit 0" test "$status" -eq 0
check "fuzzy: the summary says it is a dry run" \
    ends 0 "cdp-merge: 310 profiles, 168 pairs compared, 5 above 0.95 (a dry run: nothing merged; --apply merges them)"
check_eq "fuzzy: one line per proposed merge" "$(lines fuzzy.ndjson)" 5
check_eq "fuzzy: the members of each line, in order" \
    "$(jq -c 'keys_unsorted' fuzzy.ndjson | sort -u)" \
    '["a","b","probability","weight","prior","fields","a_identifier","b_identifier"]'
check_eq "fuzzy: the fields compared, each with field, a, b, level, weight" \
    "$(jq -c '[.fields[] | (keys_unsorted | join(",")) + "=" + .field]' fuzzy.ndjson | sort -u)" \
    '["field,a,b,level,weight=firstName","field,a,b,level,weight=lastName","field,a,b,level,weight=email","field,a,b,level,weight=phone","field,a,b,level,weight=birthday","field,a,b,level,weight=address.postalCode","field,a,b,level,weight=address.street"]'
check_eq "fuzzy: every probability >= 0.95" "$(jq -c '.probability >= 0.95' fuzzy.ndjson | sort -u)" true
check_eq "fuzzy: weight = prior + the field weights (to 0.001)" \
    "$(jq -c '(.prior + ([.fields[].weight] | add) - .weight) | fabs < 0.001' fuzzy.ndjson | sort -u)" true
check_eq "fuzzy: one prior for all" "$(jq -c .prior fuzzy.ndjson | sort -u | wc -l | tr -d ' ')" 1
# The pairs by identifier, each pair's two identifiers sorted, the pairs sorted.
check_eq "fuzzy: exactly the planted pairs" \
    "$(jq -r '[.a_identifier, .b_identifier] | sort | join(" ")' fuzzy.ndjson | sort)" \
    "email:fab.aubert@mail.test user:u-020
email:sol.dumas@mail.test user:u-010
phone:+33711223344 user:u-030
user:crm-040 user:u-040
user:crm-050 user:u-050"
check_eq "fuzzy: a and b are the ids of the profiles of a_identifier and b_identifier" \
    "$(jq -r '[.a, .b, .a_identifier, .b_identifier] | join(" ")' fuzzy.ndjson | while read -r a b x y; do
        [ "$a $b" = "$(id_of "$x") $(id_of "$y")" ] && echo ok || echo "bad $x $y"
    done | sort -u)" ok
check_eq "fuzzy: the namesake (u-900) is in no pair" "$(grep -c 'u-900' fuzzy.ndjson)" 0
check_eq "fuzzy: Dumas / Dumaz: the evidence field by field" \
    "$(jq -r 'select(.b_identifier == "email:sol.dumas@mail.test") | .fields[] | [.field, .a, .b, .level] | join("|")' fuzzy.ndjson)" \
    "firstName|solene|solene|exact
lastName|dumas|dumaz|jaro_winkler>=0.92
email|solenedumas010examplecom|soldumasmailtest|else
phone|33610105769||null
birthday|1981-07-21|1981-07-21|exact
address.postalCode|74000|74000|exact
address.street|48 rue pasteur|48 rue pasteur|exact"
check_eq "fuzzy: a missing value weighs nothing" \
    "$(jq -c '[.fields[] | select(.level == "null") | .weight] | unique' fuzzy.ndjson | sort -u)" '[0]'
snapshot after.ndjson
check "fuzzy: a dry run changes no profile (export byte for byte)" cmp -s before.ndjson after.ndjson
merge --quarantine
check_eq "fuzzy: a dry run writes no refusal" "$(jq -c .seq "$out" | tr '\n' ' ')" "1 2 "
merge --why user:u-010
check "fuzzy: a dry run writes no merge" test "$status" -eq 0 -a ! -s "$out"
merge --fuzzy --dry-run --threads 1 -q
check "fuzzy --dry-run on one thread: the same lines" cmp -s "$out" fuzzy.ndjson
merge --fuzzy --threshold 0.9999999 -q
# P = 0.9999999 keeps the pairs of weight >= log2(P / (1 - P)) = 23.25.
check_eq "fuzzy --threshold 0.9999999: the pairs of weight >= 23.25" \
    "$(jq -r .b_identifier "$out" | sort | tr '\n' ' ')" \
    "$(jq -r 'select(.weight >= 23.2535) | .b_identifier' fuzzy.ndjson | sort | tr '\n' ' ')"
check_eq "fuzzy --threshold 0.9999999: Dumaz and Chevallier (the typos weigh more than exact surnames)" \
    "$(jq -r .b_identifier "$out" | sort | tr '\n' ' ')" "email:sol.dumas@mail.test phone:+33711223344 "

# ---------------------------------------------------------------------------
# 3. --fuzzy --apply.
id010=$(id_of user:u-010)
idcrm1=$(id_of email:sol.dumas@mail.test)
count010=$("$CDP_BIN/cdp-export" --lookup user:u-010 | jq .computed.events_count)
countcrm1=$("$CDP_BIN/cdp-export" --lookup email:sol.dumas@mail.test | jq .computed.events_count)
count030=$("$CDP_BIN/cdp-export" --lookup user:u-030 | jq .computed.events_count)
countcrm2=$("$CDP_BIN/cdp-export" --lookup phone:+33711223344 | jq .computed.events_count)
merge --fuzzy --apply --now $NOW1
check "apply: exit 0, the summary" \
    ends 0 "cdp-merge: 3 merges, 2 refused by merge protection (see --quarantine), 0 waiting there already, 0 already one profile"
check "apply: the first summary line without the dry-run note" \
    err_line "cdp-merge: 310 profiles, 168 pairs compared, 5 above 0.95"
check "apply: nothing on stdout" test ! -s "$out"
check_eq "apply: three profiles fewer" "$(profiles)" 307
check "apply: Solene Dumas, u-010 and the CRM e-mail, one profile" together user:u-010 email:sol.dumas@mail.test
check "apply: Fabrice Aubert, u-020 and the web visitor, one profile" together user:u-020 anon:web-20
check "apply: Julie Chevalier, u-030 and the other phone, one profile" together user:u-030 phone:+33711223344
check "apply: Victor Francois's two userIds refused: two profiles" \
    test "$(id_of user:u-040)" != "$(id_of user:crm-040)"
check "apply: Fabrice Noel's two userIds refused: two profiles" \
    test "$(id_of user:u-050)" != "$(id_of user:crm-050)"
check_eq "apply: the profile that stays is the older one" "$(id_of email:sol.dumas@mail.test)" "$id010"
check_eq "apply: the CRM profile is gone" "$("$CDP_BIN/cdp-export" --lookup "$idcrm1" 2>/dev/null | wc -l | tr -d ' ')" 0

merge --why user:u-010
check "why: exit 0, the count on stderr" ends 0 "cdp-merge: profile $id010: 1 merge-log entries"
check_eq "why: the fuzzy merge" \
    "$(jq -c '[.action, .rule, .evidence.rule, .winner, .loser, .seq, .time, .recorded, .source, .message_id[0:10]]' "$out")" \
    "[\"merge\",\"fuzzy\",\"fuzzy\",\"$id010\",\"$idcrm1\",3,\"$NOW1\",\"$NOW1\",\"cdp-merge\",\"cdp-merge-\"]"
check_eq "why: the evidence: the profiles, probability, weight and fields of the proposal" \
    "$(jq -c '.evidence | [.profiles, .probability, .weight, .fields]' "$out")" \
    "$(jq -c 'select(.b_identifier == "email:sol.dumas@mail.test") | [[.a, .b], .probability, .weight, .fields]' fuzzy.ndjson)"
check_eq "why: the identifiers of both sides before the merge, and of the link event" \
    "$(jq -c '[.winner_identifiers, .loser_identifiers, .event_identifiers]' "$out")" \
    '[["email:solene.dumas.010@example.com","phone:+33610105769","user:u-010"],["email:sol.dumas@mail.test"],["user:u-010","email:sol.dumas@mail.test"]]'
check_eq "why: by the other identifier, the same entries" \
    "$("$CDP_BIN/cdp-merge" --why email:sol.dumas@mail.test 2>/dev/null)" "$(cat "$out")"

# 8. The merged profile: the events of both, the link event, the identifiers of both.
"$CDP_BIN/cdp-export" --lookup user:u-010 --events >solene.json
check_eq "merged: events_count = both sides' (the link event is no activity)" \
    "$(jq .computed.events_count solene.json)" "$((count010 + countcrm1))"
check_eq "merged: the events in time order, the link event last" \
    "$(jq -r '[.events[] | .type + ":" + .messageId[0:10]] | join(" ")' solene.json)" \
    "identify:id-010 identify:crm-1 identify:cdp-merge-"
check_eq "merged: the link event carries the decision in context.merge" \
    "$(jq -c '.events[2].context | [.merge.rule, .merge.profiles, .externalIds]' solene.json)" \
    "[\"fuzzy\",[\"$id010\",\"$idcrm1\"],[{\"type\":\"user\",\"id\":\"u-010\"},{\"type\":\"email\",\"id\":\"sol.dumas@mail.test\"}]]"
check_eq "merged: the link event's messageId is the merge-log entry's" \
    "$(jq -r '.events[2].messageId' solene.json)" "$(jq -r .message_id "$out")"
check_eq "merged: the identifiers of both" "$(jq -c .identifiers solene.json)" \
    '["email:sol.dumas@mail.test","email:solene.dumas.010@example.com","phone:+33610105769","user:u-010"]'
check_eq "merged: first seen of the older side" "$(jq -r .first_seen solene.json)" "2025-01-01T00:10:00.000Z"
"$CDP_BIN/cdp-export" --lookup phone:+33711223344 --events >julie.json
check_eq "merged: Julie Chevalier: identify, track, CRM record and link event" \
    "$(jq -c '[.computed.events_count, [.events[].messageId[0:10]]]' julie.json)" \
    "[$((count030 + countcrm2)),[\"id-030\",\"tr-030\",\"crm-2\",\"cdp-merge-\"]]"
check_eq "merged: Julie Chevalier's two phones" "$(jq -c .identifiers julie.json)" \
    '["email:julie.chevalier.030@example.com","phone:+33610309954","phone:+33711223344","user:u-030"]'
check_eq "merged: Fabrice Aubert's identifiers" \
    "$("$CDP_BIN/cdp-export" --lookup anon:web-20 | jq -c .identifiers)" \
    '["anon:web-20","email:fab.aubert@mail.test","email:fabrice.aubert.020@example.com","phone:+33610201692","user:u-020"]'

# A second run at the same time: the merged pairs are gone; the refused
# ones are proposed again, and found waiting in the quarantine: no event.
snapshot applied.ndjson
merge --fuzzy --apply --now $NOW1
check "apply again: exit 0, two pairs left" err_line "cdp-merge: 307 profiles, 160 pairs compared, 2 above 0.95"
check "apply again: no merge" err_starts "cdp-merge: 0 merges, "
check "apply again: the refused pairs not counted as one profile" \
    err_line "cdp-merge: 0 merges, 0 refused by merge protection (see --quarantine), 2 waiting there already, 0 already one profile"
snapshot applied2.ndjson
check "apply again: no profile changes" cmp -s applied.ndjson applied2.ndjson

# A second run a day later (on a copy of the store): still no merge.
cp -R "$CDP_DB" "$T/later"
n040=$("$CDP_BIN/cdp-export" -d "$T/later" --lookup user:u-040 | jq .computed.events_count)
run cdp-merge -d "$T/later" --fuzzy --apply --now $NOW2
check "apply a day later: exit 0, no merge" test "$status" -eq 0 -a "$(err_count 'cdp-merge: 0 merges, ')" -eq 1
run cdp-merge -d "$T/later" --quarantine
check_eq "apply a day later: no second quarantine entry for a waiting pair" \
    "$(jq -c .seq "$out" | tr '\n' ' ')" "1 2 4 6 "
check_eq "apply a day later: a refused pair's profile unchanged" \
    "$("$CDP_BIN/cdp-export" -d "$T/later" --lookup user:u-040 | jq .computed.events_count)" "$n040"

# ---------------------------------------------------------------------------
# 3. The quarantine.
merge --quarantine
cp "$out" quarantine.ndjson
check "quarantine: exit 0, the count" \
    ends 0 "cdp-merge: 4 refused merges waiting (settle with --approve SEQ or --reject SEQ)"
check_eq "quarantine: the refused merges, in log order, no duplicates of the second run" \
    "$(jq -r '[.seq, .action, .reason, (.event_identifiers | join(","))] | join("|")' quarantine.ndjson)" \
    "1|refused|would hold 2 user identifiers (limit 1)|user:u-060,email:valerie.laurent.061@example.com
2|refused|user:u-301 would be a second user identifier of profile|user:u-301,email:laure.laurent.080@example.com
4|refused|would hold 2 user identifiers (limit 1)|user:u-040,user:crm-040
6|refused|would hold 2 user identifiers (limit 1)|user:u-050,user:crm-050"
id040=$(id_of user:u-040)
idcrm040=$(id_of user:crm-040)
check_eq "quarantine: profiles and target of a refused fuzzy merge" \
    "$(jq -c 'select(.seq == 4) | [.profiles, .target, .source, .time]' quarantine.ndjson)" \
    "[[\"$id040\",\"$idcrm040\"],\"$id040\",\"cdp-merge\",\"$NOW1\"]"
check_eq "quarantine: the entries of ingest name the event" \
    "$(jq -c 'select(.seq <= 2) | [.message_id, .source, .time]' quarantine.ndjson | tr '\n' ' ')" \
    '["crm-6","default","2025-03-01T10:06:00.000Z"] ["crm-8","default","2025-03-01T10:08:00.000Z"] '
n040=$("$CDP_BIN/cdp-export" --lookup user:u-040 | jq .computed.events_count)
ncrm040=$("$CDP_BIN/cdp-export" --lookup user:crm-040 | jq .computed.events_count)

merge --approve 4 --now $NOW2
check "approve: exit 0, the message" ends 0 "cdp-merge: quarantined merge 4 approved: profiles merged"
check "approve: the two userIds on one profile (forced)" together user:u-040 user:crm-040
check_eq "approve: the identifiers of both" "$("$CDP_BIN/cdp-export" --lookup user:crm-040 | jq -c '[.id, .identifiers]')" \
    "[\"$id040\",[\"email:v.francois@mail.test\",\"email:victor.francois.040@example.com\",\"phone:+33610407250\",\"user:crm-040\",\"user:u-040\"]]"
check_eq "approve: the events of both (the link event is no activity)" \
    "$("$CDP_BIN/cdp-export" --lookup user:crm-040 | jq .computed.events_count)" "$((n040 + ncrm040))"
check_eq "approve: one profile fewer" "$(profiles)" 306
merge --why user:crm-040
check_eq "approve: why: the refusal, then the approved merge" \
    "$(jq -c '[.seq, .action, .rule, .evidence]' "$out")" \
    '[4,"refused",null,null]
[8,"merge","approved",{"rule":"approved","quarantine":4,"force":true}]'
merge --quarantine
check_eq "approve: no longer in the quarantine" "$(jq -c .seq "$out" | tr '\n' ' ')" "1 2 6 "
merge --approve 4 --now $NOW2
check "approve again: exit 1, the message" ends 1 "cdp-merge: no quarantined merge 4 (see --quarantine)"
merge --reject 4 --now $NOW2
check "reject of a settled merge: exit 1" ends 1 "cdp-merge: no quarantined merge 4 (see --quarantine)"
merge --approve 3 --now $NOW2
check "approve of a merge entry (not refused): exit 1" ends 1 "cdp-merge: no quarantined merge 3 (see --quarantine)"
merge --approve 99 --now $NOW2
check "approve of a seq past the log: exit 1" ends 1 "cdp-merge: no quarantined merge 99 (see --quarantine)"

# Yann Laurent's event with Valerie Laurent's e-mail: rejected, they stay apart.
merge --reject 1 --now $NOW2
check "reject: exit 0, the message" ends 0 "cdp-merge: quarantined merge 1 rejected"
check "reject: the profiles stay apart" test "$(id_of user:u-060)" != "$(id_of user:u-061)"
check_eq "reject: no profile merged" "$(profiles)" 306
merge --quarantine
check_eq "reject: no longer in the quarantine" "$(jq -c .seq "$out" | tr '\n' ' ')" "2 6 "
merge --reject 1 --now $NOW2
check "reject again: exit 1" ends 1 "cdp-merge: no quarantined merge 1 (see --quarantine)"
for bad in abc 0 4x ""; do
    merge --approve "$bad"
    check "approve '$bad': exit 2, the message" \
        ends 2 "cdp-merge: --approve wants the seq of a quarantined merge (see --quarantine)"
done
merge --reject 1.5
check "reject '1.5': exit 2, the message" \
    ends 2 "cdp-merge: --reject wants the seq of a quarantined merge (see --quarantine)"
merge --approve -1
check "approve '-1': exit 2, the message" \
    ends 2 "cdp-merge: --approve wants the seq of a quarantined merge (see --quarantine)"

merge --approve 2 --now $NOW2
check "approve of a second-userId refusal: merged" ends 0 "cdp-merge: quarantined merge 2 approved: profiles merged"
check "approve of a second-userId refusal: one profile" together user:u-301 user:u-080

# The settlements are in the log: a rejection leaves the profile's log as it was.
merge --why user:u-060
check_eq "reject: why of Yann Laurent: only the refusal" "$(jq -c '[.seq, .action]' "$out")" '[1,"refused"]'

# ---------------------------------------------------------------------------
# 4. --pairs.
id100=$(id_of user:u-100)
id101=$(id_of user:u-101)
idjo=$(id_of email:jo.perso@mail.test)
n100=$("$CDP_BIN/cdp-export" --lookup user:u-100 | jq .computed.events_count)
cat >pairs.txt <<X
# decided by the service desk
user:u-100 email:jo.perso@mail.test newsletter sign-up, same person

phone:07.00.00.01.01 $id101
anon:kiosk-7,user:u-102
user:u-010 email:sol.dumas@mail.test
justone
nonsense user:u-001
email:nobody@example.com user:u-001
$id010 0123456789abcdef0123456789abcdef
user:u-050 user:crm-050 same man
X
run cdp-merge --pairs --now $NOW3 <pairs.txt
check "pairs: exit 3 (lines skipped)" test "$status" -eq 3
check_eq "pairs: the bad lines, with their line numbers, and the summary" "$(cat "$err")" \
    "cdp-merge: -:7: a pair needs two identifiers or profile ids; line skipped
cdp-merge: -:8: 'nonsense' is neither kind:value (e.g. email:jane@example.com) nor a profile id; pair skipped
cdp-merge: -:9: email:nobody@example.com: no such profile; pair skipped
cdp-merge: -:10: 0123456789abcdef0123456789abcdef: no such profile; pair skipped
cdp-merge: 5 pairs: 3 merges, 0 refused by merge protection (see --quarantine), 1 waiting there already, 1 already one profile"
check "pairs: nothing on stdout" test ! -s "$out"
check_eq "pairs: three profiles fewer" "$(profiles)" 302
check "pairs: an e-mail and a userId" together user:u-100 email:jo.perso@mail.test
check "pairs: a national phone number and a profile id" together phone:+33700000101 user:u-101
check "pairs: an anonymous id and a userId, comma separated" together anon:kiosk-7 user:u-102
check_eq "pairs: the profile id stays" "$(id_of phone:+33700000101)" "$id101"
check "pairs: two userIds refused" test "$(id_of user:u-050)" != "$(id_of user:crm-050)"
merge --why user:u-100
# seq 13: 8 and 11 were the approved merges, 9, 10 and 12 the settlements.
check_eq "pairs: why: rule manual, the pair as written and the note in the evidence" \
    "$(jq -c '[.seq, .action, .rule, .evidence, .winner, .loser, .time]' "$out")" \
    "[13,\"merge\",\"manual\",{\"rule\":\"manual\",\"pair\":[\"user:u-100\",\"email:jo.perso@mail.test\"],\"note\":\"newsletter sign-up, same person\"},\"$id100\",\"$idjo\",\"$NOW3\"]"
check_eq "pairs: the events of both and the link event" \
    "$("$CDP_BIN/cdp-export" --lookup email:jo.perso@mail.test --events | jq -c '[.computed.events_count, [.events[].messageId[0:10]]]')" \
    "[$((n100 + 1)),[\"id-100\",\"pr-1\",\"cdp-merge-\"]]"
merge --why anon:kiosk-7
check_eq "pairs: no note, no note member" "$(jq -c '.evidence' "$out")" \
    '{"rule":"manual","pair":["anon:kiosk-7","user:u-102"]}'
merge --quarantine
# The pair was refused before and waits in the quarantine: the pairs run
# counted it there ("1 waiting there already") and added no second entry.
check_eq "pairs: the waiting pair listed once" \
    "$(jq -c 'select(.event_identifiers | index("user:crm-050")) | .reason' "$out")" \
    '"would hold 2 user identifiers (limit 1)"'
snapshot pairs1.ndjson
run cdp-merge --pairs --now $NOW3 <<X
user:u-100 email:jo.perso@mail.test
$id101 id:$id101
X
check "pairs again: exit 0, already one profile" \
    ends 0 "cdp-merge: 2 pairs: 0 merges, 0 refused by merge protection (see --quarantine), 0 waiting there already, 2 already one profile"
snapshot pairs2.ndjson
check "pairs again: no profile changes" cmp -s pairs1.ndjson pairs2.ndjson
run cdp-merge --pairs -q <<X
phone:12 user:u-001
X
check "pairs: a phone number that is not one: exit 3" \
    test "$status" -eq 3 -a "$(err_count 'cdp-merge: -:1: phone:12: ')" -eq 1
run cdp-merge --pairs </dev/null
check "pairs: empty input: exit 0" \
    ends 0 "cdp-merge: 0 pairs: 0 merges, 0 refused by merge protection (see --quarantine), 0 waiting there already, 0 already one profile"

# ---------------------------------------------------------------------------
# 5. --why errors, and a profile without merges.
merge --why email:nobody@example.com
check "why: an identifier on no profile: exit 1" ends 1 "cdp-merge: --why: no profile for 'email:nobody@example.com'"
check "why: nothing on stdout" test ! -s "$out"
merge --why nonsense
check "why: a bad spec: exit 2" \
    ends 2 "cdp-merge: --why: 'nonsense' is neither kind:value (e.g. email:jane@example.com) nor a profile id"
merge --why 0123456789abcdef0123456789abcdef
check "why: a profile id of no profile: exit 1" \
    ends 1 "cdp-merge: --why: no profile for '0123456789abcdef0123456789abcdef'"
merge --why user:u-002
check "why: a profile never merged: exit 0, no entries" \
    ends 0 "cdp-merge: profile $(id_of user:u-002): 0 merge-log entries"
check "why: a profile never merged: nothing on stdout" test ! -s "$out"
merge --why "$id010"
check_eq "why: by profile id, the same entries as by identifier" "$(jq -c .seq "$out")" 3

# ---------------------------------------------------------------------------
# 6. Usage.
merge --fuzzy --quarantine
check "usage: two modes: exit 2" \
    ends 2 "cdp-merge: give one of --dedupe, --link A B, --fuzzy, --pairs, --why ID, --quarantine, --approve SEQ, --reject SEQ, --rebuild, --undo SEQ, --rules, --rule TRAIT=RULE"
merge --approve 2 --reject 2
check "usage: --approve and --reject: exit 2" test "$status" -eq 2
merge --pairs --apply
check "usage: --apply without --fuzzy: exit 2" ends 2 "cdp-merge: --apply goes with --fuzzy"
merge
check "usage: no mode: exit 2" test "$status" -eq 2
merge --quarantine extra
check "usage: an argument: exit 2" ends 2 "cdp-merge: unexpected argument 'extra'"
merge --fuzzy --fields firstName:bogus
check "usage: --fields with a bad kind: exit 2" \
    ends 2 "cdp-merge: --fields: 'bogus' is not a kind (name, code, date, exact)"
merge --quarantine -d "$T/none"
check "usage: no store: exit 1" test "$status" -eq 1

# ---------------------------------------------------------------------------
# 7. The same events in reverse order: the same proposals.
awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' all.ndjson >reversed.ndjson
run cdp-ingest -q --country FR -d "$T/rev" --now 2025-03-31T00:00:00Z reversed.ndjson
check "reverse: exit 0" test "$status" -eq 0
check_eq "reverse: as many profiles" "$(profiles "$T/rev")" 310
run cdp-merge -d "$T/rev" --fuzzy
check "reverse: the same summary" \
    ends 0 "cdp-merge: 310 profiles, 168 pairs compared, 5 above 0.95 (a dry run: nothing merged; --apply merges them)"
check_eq "reverse: the same pairs (a, b) with the same probabilities" \
    "$(jq -c '[.a, .b, .probability]' "$out")" "$(jq -c '[.a, .b, .probability]' fuzzy.ndjson)"
check "reverse: the same lines, byte for byte" cmp -s "$out" fuzzy.ndjson
check_eq "reverse: the same profile ids" "$(id_of email:sol.dumas@mail.test "$T/rev") $(id_of user:u-010 "$T/rev")" \
    "$idcrm1 $id010"

finish
