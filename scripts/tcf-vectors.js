#!/usr/bin/env node
// tcf-vectors.js - regenerates tests/data/tcf/vectors.json, the TCF v2.2 TC
// strings that tests/unit/test_tcf.c decodes, with the IAB Tech Lab's own
// library (@iabtechlabtcf/core, Apache-2.0).
//
// Each vector is built as a TCModel, encoded with TCString.encode, decoded
// again with TCString.decode, and the decoded model is written out in the
// JSON shape of cdp_tcf_to_json() (lib/tcf.h).  The examples printed in the
// TCF specification are decoded the same way.
//
// The tests never run this script; they read the committed vectors.  To
// regenerate (the library is not a dependency of cdp, so install it aside):
//
//     mkdir /tmp/tcf && (cd /tmp/tcf && npm install @iabtechlabtcf/core@1.5.21)
//     NODE_PATH=/tmp/tcf/node_modules node scripts/tcf-vectors.js \
//         >tests/data/tcf/vectors.json
//
// Everything is deterministic: fixed dates, a fixed pseudo-random seed, and a
// small Global Vendor List made up here (no network access is needed).
'use strict';

const tcf = require('@iabtechlabtcf/core');
const { GVL, TCModel, TCString, PurposeRestriction, RestrictionType, Segment } = tcf;
const path = require('path');
const fs = require('fs');
// The package's "exports" hides package.json; find it from the main file.
const libraryVersion = (() => {
    let dir = path.dirname(require.resolve('@iabtechlabtcf/core'));
    while (!fs.existsSync(path.join(dir, 'package.json')) ||
        JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== '@iabtechlabtcf/core') {
        dir = path.dirname(dir);
    }
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
})();

// A Global Vendor List of our own: 11 purposes, 2 special purposes, 3 features,
// 2 special features, and vendors 1..1200 except the ids ending in 03 and 53
// (3, 53, 103, ...), so that publisher restriction ranges bridge missing ids.
function makeGvl(policyVersion, vendorListVersion, language) {
    const named = (n) => {
        const out = {};
        for (let i = 1; i <= n; i++) {
            out[i] = { id: i, name: 'n' + i, description: 'd' + i, illustrations: [] };
        }
        return out;
    };
    const vendors = {};
    for (let id = 1; id <= 1200; id++) {
        if (id % 50 === 3) continue;
        vendors[id] = {
            id,
            name: 'vendor ' + id,
            purposes: [1, 2, 3, 4, 5, 6],
            legIntPurposes: [7, 8, 9, 10, 11],
            flexiblePurposes: [2, 7, 8],
            specialPurposes: [1, 2],
            features: [1, 2, 3],
            specialFeatures: [1, 2],
            policyUrl: 'https://example.com/privacy',
            cookieMaxAgeSeconds: 86400,
            usesCookies: true,
            usesNonCookieAccess: false,
        };
    }
    return new GVL(
        {
            gvlSpecificationVersion: 3,
            vendorListVersion,
            tcfPolicyVersion: policyVersion,
            lastUpdated: '2024-01-01T00:00:00Z',
            purposes: named(11),
            specialPurposes: named(2),
            features: named(3),
            specialFeatures: named(2),
            stacks: {},
            vendors,
        },
        { language }
    );
}

// A small linear congruential generator, so "random" vendor sets never change.
function prng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 4294967296;
    };
}

function range(first, last) {
    const out = [];
    for (let i = first; i <= last; i++) out.push(i);
    return out;
}

function ids(vector) {
    const out = [];
    vector.forEach((value, id) => {
        if (value) out.push(id);
    });
    return out.sort((a, b) => a - b);
}

// The segment types present after the core segment (first 3 bits of each).
function segmentTypes(s) {
    const dict = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return s
        .split('.')
        .slice(1)
        .map((seg) => dict.indexOf(seg[0]) >> 3);
}

// The decoded model in cdp_tcf_to_json()'s shape.
function expectedOf(s, model) {
    const types = segmentTypes(s);
    const out = {
        version: model.version,
        created: model.created.toISOString(),
        lastUpdated: model.lastUpdated.toISOString(),
        cmpId: model.cmpId,
        cmpVersion: model.cmpVersion,
        consentScreen: model.consentScreen,
        consentLanguage: model.consentLanguage,
        vendorListVersion: model.vendorListVersion,
        policyVersion: model.policyVersion,
        isServiceSpecific: model.isServiceSpecific,
        useNonStandardTexts: model.useNonStandardTexts,
        specialFeatureOptins: ids(model.specialFeatureOptins),
        purposeConsents: ids(model.purposeConsents),
        purposeLegitimateInterests: ids(model.purposeLegitimateInterests),
        purposeOneTreatment: model.purposeOneTreatment,
        publisherCC: model.publisherCountryCode,
        vendorConsents: ids(model.vendorConsents),
        vendorLegitimateInterests: ids(model.vendorLegitimateInterests),
        publisherRestrictions: model.publisherRestrictions.getRestrictions().map((r) => ({
            purpose: r.purposeId,
            restrictionType: r.restrictionType,
            vendors: model.publisherRestrictions.getVendors(r),
        })),
    };
    if (types.includes(1)) out.disclosedVendors = ids(model.vendorsDisclosed);
    if (types.includes(3)) {
        out.publisherTC = {
            pubPurposesConsent: ids(model.publisherConsents),
            pubPurposesLITransparency: ids(model.publisherLegitimateInterests),
            numCustomPurposes: model.numCustomPurposes,
            customPurposesConsent: ids(model.publisherCustomConsents),
            customPurposesLITransparency: ids(model.publisherCustomLegitimateInterests),
        };
    }
    return out;
}

// Decodes s with the library.  lenientCmpId accepts CMP id 0, which the
// library's TCModel refuses but the specification's first example carries.
function decode(s, lenientCmpId) {
    const model = new TCModel();
    if (lenientCmpId) {
        Object.defineProperty(model, 'cmpId', {
            configurable: true,
            get() {
                return this.lenientCmpId_;
            },
            set(v) {
                this.lenientCmpId_ = Number(v);
            },
        });
    }
    return TCString.decode(s, model);
}

const CREATED = new Date('2023-09-30T12:00:00.000Z');
const UPDATED = new Date('2024-01-15T08:30:12.300Z');

// Builds one vector: configure(model) sets the fields; segments is
// TCString.encode's list of segments (undefined: the library's default).
function build(name, description, opts, configure) {
    const gvl = makeGvl(opts.policyVersion || 4, opts.vendorListVersion || 48, opts.language || 'EN');
    const model = new TCModel(gvl);
    model.cmpId = opts.cmpId || 10;
    model.cmpVersion = opts.cmpVersion || 2;
    model.consentScreen = opts.consentScreen || 1;
    model.publisherCountryCode = opts.publisherCC || 'GB';
    configure(model);
    model.created = opts.created || CREATED;
    model.lastUpdated = opts.lastUpdated || UPDATED;
    const encodeOptions = {};
    if (opts.segments) encodeOptions.segments = opts.segments;
    if (opts.isForVendors !== undefined) encodeOptions.isForVendors = opts.isForVendors;
    const s = TCString.encode(model, encodeOptions);
    return { name, description, source: 'generated', tcString: s, expected: expectedOf(s, decode(s)) };
}

const CORE = [Segment.CORE];
const vectors = [];

vectors.push(
    build(
        'core-bitfield',
        'core segment only; a few vendors, bitfield encoding; purpose consent and LI',
        { segments: CORE },
        (m) => {
            m.isServiceSpecific = true;
            m.purposeConsents.set([1, 2, 3, 4, 7]);
            m.purposeLegitimateInterests.set([2, 7, 8]);
            m.vendorConsents.set([1, 2, 4, 8, 16, 32]);
            m.vendorLegitimateInterests.set([2, 4]);
        }
    )
);

vectors.push(
    build(
        'core-range',
        'core segment only; long runs of vendors, range encoding for consent and LI',
        { segments: CORE, cmpId: 300, cmpVersion: 41, consentScreen: 3, publisherCC: 'FR', language: 'FR' },
        (m) => {
            m.purposeConsents.set(range(1, 11));
            m.purposeLegitimateInterests.set([2, 7, 8, 9, 10, 11]);
            m.vendorConsents.set(range(1, 600).filter((id) => id !== 250 && id !== 251 && id !== 400));
            m.vendorLegitimateInterests.set(range(100, 200));
        }
    )
);

vectors.push(
    build(
        'special-features',
        'special feature opt-ins 1 and 2, non-standard texts, every purpose consented',
        { segments: CORE, policyVersion: 5, vendorListVersion: 120 },
        (m) => {
            m.useNonStandardTexts = true;
            m.specialFeatureOptins.set([1, 2]);
            m.purposeConsents.set(range(1, 11));
            m.purposeLegitimateInterests.set([2, 7, 8, 9, 10, 11]);
            m.vendorConsents.set([7, 11, 13, 17, 19, 23, 29, 31, 37, 41]);
            m.vendorLegitimateInterests.set([7, 13, 19, 31]);
        }
    )
);

vectors.push(
    build(
        'purpose-one-treatment',
        'purpose one treatment set, publisher country DE, consent language DE, no purpose 1 consent',
        { segments: CORE, publisherCC: 'DE', language: 'DE', policyVersion: 5 },
        (m) => {
            m.purposeOneTreatment = true;
            m.purposeConsents.set([2, 3, 4]);
            m.purposeLegitimateInterests.set([7, 9]);
            m.vendorConsents.set([5, 10, 15]);
        }
    )
);

vectors.push(
    build(
        'publisher-restrictions',
        'restriction types 0 (not allowed), 1 (require consent) and 2 (require LI); ranges bridge ids missing from the GVL',
        { segments: CORE },
        (m) => {
            m.purposeConsents.set([1, 2, 3, 4]);
            m.purposeLegitimateInterests.set([7, 8]);
            m.vendorConsents.set(range(1, 60));
            m.vendorLegitimateInterests.set(range(1, 60));
            const notAllowed3 = new PurposeRestriction(3, RestrictionType.NOT_ALLOWED);
            for (const id of range(10, 20)) m.publisherRestrictions.add(id, notAllowed3);
            const notAllowed1 = new PurposeRestriction(1, RestrictionType.NOT_ALLOWED);
            m.publisherRestrictions.add(42, notAllowed1);
            const requireConsent7 = new PurposeRestriction(7, RestrictionType.REQUIRE_CONSENT);
            for (const id of [5, 6, 7, 300]) m.publisherRestrictions.add(id, requireConsent7);
            const requireLi2 = new PurposeRestriction(2, RestrictionType.REQUIRE_LI);
            for (const id of [40, 52, 54, 55, 56]) m.publisherRestrictions.add(id, requireLi2);
        }
    )
);

vectors.push(
    build(
        'disclosed-vendors',
        'globally scoped string stored by the CMP: core and disclosed vendors segments',
        { isForVendors: false },
        (m) => {
            m.isServiceSpecific = false;
            m.purposeConsents.set([1, 2, 7]);
            m.vendorConsents.set([1, 2, 3, 4, 5]);
            m.vendorsDisclosed.set(range(1, 100).concat([150, 175, 999]));
        }
    )
);

vectors.push(
    build(
        'publisher-tc',
        'core and publisher TC segments with three custom purposes',
        { segments: [Segment.CORE, Segment.PUBLISHER_TC] },
        (m) => {
            m.purposeConsents.set([1, 2]);
            m.vendorConsents.set([9]);
            m.publisherConsents.set([1, 2, 3, 10]);
            m.publisherLegitimateInterests.set([2, 7]);
            m.numCustomPurposes = 3;
            m.publisherCustomConsents.set([1, 3]);
            m.publisherCustomLegitimateInterests.set([2]);
        }
    )
);

vectors.push(
    build(
        'all-segments',
        'service-specific string with the library default segments: core, disclosed vendors, publisher TC; restrictions too',
        { cmpId: 4095, cmpVersion: 4095, consentScreen: 63, vendorListVersion: 4095, publisherCC: 'IT', language: 'IT' },
        (m) => {
            m.specialFeatureOptins.set([2]);
            m.purposeConsents.set([1, 2, 3, 4, 5, 6, 9]);
            m.purposeLegitimateInterests.set([2, 7, 10]);
            m.vendorConsents.set([1, 10, 100, 1000]);
            m.vendorLegitimateInterests.set([10, 100]);
            m.vendorsDisclosed.set([1, 10, 100, 1000, 1001]);
            m.publisherRestrictions.add(100, new PurposeRestriction(4, RestrictionType.NOT_ALLOWED));
            m.publisherConsents.set([1]);
            m.numCustomPurposes = 1;
            m.publisherCustomConsents.set([1]);
        }
    )
);

{
    const rand = prng(20240115);
    const consent = [];
    const li = [];
    for (let id = 1; id <= 1000; id++) {
        if (rand() < 0.3) consent.push(id);
        if (rand() < 0.2) li.push(id);
    }
    vectors.push(
        build(
            'many-vendors-bitfield',
            'about 300 scattered vendor consents and 200 LI among ids 1..1000 (bitfield encoding)',
            { segments: CORE, vendorListVersion: 301 },
            (m) => {
                m.purposeConsents.set(range(1, 10));
                m.purposeLegitimateInterests.set([2, 7, 8, 9, 10]);
                m.vendorConsents.set(consent);
                m.vendorLegitimateInterests.set(li);
            }
        )
    );
}

{
    const rand = prng(7);
    const consent = [];
    for (let start = 1; start <= 1000; start += 40) {
        const len = 5 + Math.floor(rand() * 30);
        for (let id = start; id < start + len && id <= 1000; id++) consent.push(id);
    }
    vectors.push(
        build(
            'many-vendors-range',
            'runs of vendors up to id 990; vendor consents lose the ids missing from the GVL, so the ' +
                'library picks a bitfield for them and a range encoding for the disclosed vendors',
            { isForVendors: false, vendorListVersion: 302 },
            (m) => {
                m.isServiceSpecific = false;
                m.purposeConsents.set(range(1, 11));
                m.vendorConsents.set(consent);
                m.vendorLegitimateInterests.set(consent.filter((id) => id % 2 === 0));
                m.vendorsDisclosed.set(consent);
            }
        )
    );
}

vectors.push(
    build('empty', 'nothing consented: no purposes, no vendors (MaxVendorId 0)', { segments: CORE }, () => {})
);

vectors.push(
    build(
        'single-high-vendor',
        'one vendor with a high id (1195): a single range entry is shorter than the bitfield',
        { segments: CORE },
        (m) => {
            m.purposeConsents.set([1]);
            m.vendorConsents.set([1195]);
            m.vendorLegitimateInterests.set([1195]);
        }
    )
);

// The two examples printed in the specification ("TC String Format").
const SPEC_URL =
    'https://github.com/InteractiveAdvertisingBureau/GDPR-Transparency-and-Consent-Framework/' +
    'blob/master/TCFv2/IAB%20Tech%20Lab%20-%20Consent%20string%20and%20vendor%20list%20formats%20v2.md';
const spec = [
    {
        name: 'spec-global-four-segments',
        description:
            'specification example of a globally scoped string with all four segments ' +
            '(core, disclosed vendors, allowed vendors, publisher TC); CMP id 0; policy version 2',
        tcString:
            'COw4XqLOw4XqLAAAAAENAXCAAAAAAAAAAAAAAAAAAAAA.' +
            'IFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.' +
            'QFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.' +
            'YAAAAAAAAAAAAAAAAAA',
        lenientCmpId: true,
    },
    {
        name: 'spec-service-specific',
        description: 'specification example of a service-specific string: core and publisher TC; policy version 2',
        tcString:
            'CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA',
        lenientCmpId: false,
    },
];
for (const e of spec) {
    vectors.push({
        name: e.name,
        description: e.description,
        source: SPEC_URL,
        tcString: e.tcString,
        expected: expectedOf(e.tcString, decode(e.tcString, e.lenientCmpId)),
    });
}

// Indented for review, but each list of ids on one line.
const text = JSON.stringify(
    {
        generator: 'scripts/tcf-vectors.js',
        library: '@iabtechlabtcf/core ' + libraryVersion + ' (Apache-2.0)',
        vectors,
    },
    null,
    1
).replace(/\[[\d,\s]*\]/g, (list) => list.replace(/\s+/g, ''));
process.stdout.write(text + '\n');
