import { ChildProcess, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { createTestDatabase, TestDatabase, testRedisPrefix } from '../support/test-database';
import { TEST_REDIS_URL } from '../support/test-env';

/**
 * Every write endpoint, admin ones included, gets bodies that are invalid by construction:
 * malformed JSON, wrong types, odd `source` shapes, huge strings and arrays, impossible dates,
 * unknown fields (prototype names, regex metacharacters, SQL and path fragments, unicode
 * oddities). Each answer must be a 4xx problem+json within 1 s, /health must answer after each
 * run, and no event may be recorded.
 *
 * The API runs as its own process (as `npm run start:api` starts it): a request that pins the
 * CPU then fails this test by its timeout instead of freezing the test runner with it.
 */

const ROOT = join(__dirname, '..', '..');
const ADMIN_KEY = 'fuzz-admin-key-0123456789abcdef0123';
const ANSWER_WITHIN_MS = 1_000;
/** The client gives up later than the bound, so a slow answer is measured rather than cut off. */
const CLIENT_TIMEOUT_MS = 5_000;
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 20);

const src = { url: 'https://example.org/press' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Answer {
  status: number;
  type: string;
  ms: number;
  text: string;
}

interface Sent {
  method: string;
  path: string;
  /** JSON to send, or raw bytes/text with a content type. */
  json?: unknown;
  raw?: { body: string | Uint8Array; type: string };
  key?: string;
}

// --- the values a client could send ------------------------------------------------------

const REGEX_KEYS = ['(.*.*)*\\d', '(', ')', '[', ']', '\\', '*', '+', '?', '{1,}', '(?<x>', '$^', '|', '(a+)+$', '.*', '^', '(?=', '\\d+\\'];
const PROTOTYPE_KEYS = [
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  '__proto__',
];
const SQL_FRAGMENTS = ["'; DROP TABLE events; --", "' OR '1'='1", '" OR ""="', '%', '_', '\\', '$1', '::text', '/*', "E'\\x00'", 'NULL', '1; SELECT pg_sleep(5)'];
const PATH_FRAGMENTS = ['../../etc/passwd', '..', '%2e%2e%2f', '/', '\\..\\', 'a/b', '?x=1', '#frag', ';', 'ibm/../meta', '%00', '//'];
const UNICODE = ['\ud800', '\udfff', 'a\ud800b', '\u202e', '\u200f\u200e', '\u200b', '\ufeff', '\u0000', 'e\u0301', '\u{1F600}', '\uffff', '\u2028', '\u00a0', 'ǅ', 'İ'];
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ODD_STRINGS = [...REGEX_KEYS, ...SQL_FRAGMENTS, ...PATH_FRAGMENTS, ...UNICODE];

const oddString = fc.oneof(fc.constantFrom(...ODD_STRINGS), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 20 }));
/** Longer than any string field allows (the longest, a URL, takes 2,048). */
const hugeString = fc
  .tuple(fc.integer({ min: 3_000, max: 300_000 }), fc.constantFrom('x', ' ', 'é', '\u{1F600}', '(', '\\'))
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));
const hugeArray = fc.tuple(fc.integer({ min: 501, max: 50_000 }), fc.constantFrom<unknown>('x', 1, null, {}, [])).map(([n, v]) => Array(n).fill(v) as unknown[]);
/** Any JSON value that is not a string (wrong for every string field). */
const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(oddString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  hugeArray,
);
const notAnArray = fc.oneof(fc.integer(), fc.boolean(), oddString, fc.dictionary(oddString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }));
const blank = fc.constantFrom('', ' ', '   ', '\t\n', '\u00a0', '\u200b', '\u200f\u200e', '\u3000', '\ufeff');
const impossibleDate = fc.constantFrom<unknown>(
  '2024-02-30',
  '2023-02-29',
  '2024-04-31',
  '2024-13',
  '2024-00',
  '2024-01-00',
  '9999-12-31',
  '9999',
  '1799',
  '0000',
  '2024-1-1',
  '2024/01/01',
  '20240101',
  '2024-02-29T00:00:00Z',
  ' 2024',
  '',
  2024,
  '٢٠٢٤',
);
const impossibleTimestamp = fc.constantFrom<unknown>(
  '2024-02-30T00:00:00Z',
  '2023-02-29T12:00:00Z',
  '2024-13-01T00:00:00Z',
  '2024-01-01T24:00:00Z',
  '2024-01-01T23:60:00Z',
  '2024-01-01T23:59:60Z',
  '2024-01-01T00:00:00+24:00',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '2024-01-01T00:00:00',
  '2024-01-01',
  'yesterday',
  '',
  1704067200000,
);
const oddSource = fc.oneof(
  fc.constantFrom<unknown>([], [src, src], [src], null, 'https://example.org', 42, true, {}, { url: 'ftp://example.org' }, { url: 'javascript:alert(1)' }),
  fc.constantFrom(...REGEX_KEYS, ...PROTOTYPE_KEYS, 'extra').map((k) => ({ ...src, [k]: 1 })),
  hugeString.map((s) => ({ url: `https://example.org/${s}` })),
  blank.map((title) => ({ ...src, title })),
  impossibleDate.map((publishedOn) => ({ ...src, publishedOn })),
  notAString.map((url) => ({ url })),
);
const notASlug = fc.oneof(
  fc.constantFrom('IBM', '-ibm', 'a b', 'ibm_', 'x'.repeat(64), '', 'ÿ'),
  oddString.filter((s) => !/^[a-z0-9][a-z0-9-]{0,62}$/.test(s)),
);

// --- what each write takes ---------------------------------------------------------------

type Kind =
  | 'text'
  | 'freeText'
  | 'slug'
  | 'date'
  | 'amount'
  | 'currency'
  | 'country'
  | 'enum'
  | 'source'
  | 'textArray'
  | 'uuid'
  | 'timestamp'
  | 'httpUrl'
  | 'webhookUrl';

/** Every value an enum field of some write accepts. */
const ENUM_VALUES = ['admin', 'curator', 'reader', 'enabled', 'disabled', 'company', 'university', 'research-institute', 'nonprofit', 'government', 'other'];

interface Field {
  name: string;
  kind: Kind;
  required?: boolean;
}

/** A value that no field of this kind accepts. */
function wrongValue(field: Field): fc.Arbitrary<unknown> {
  const nullIfRequired = field.required ? [fc.constant(null)] : [];
  const byKind: Record<Kind, Array<fc.Arbitrary<unknown>>> = {
    text: [notAString, hugeString, blank],
    freeText: [notAString, hugeString],
    slug: [notAString, notASlug],
    date: [notAString, impossibleDate],
    amount: [notAString, fc.constantFrom('-1', '0', '1e5', '1.23456', ' 5', '5 ', 'NaN', 'Infinity', '0x10', '١٢', '', '99999999999999999999')],
    currency: [notAString, fc.constantFrom('eur', 'EURO', 'EU', '€', '', ' EUR', 'XXXX')],
    country: [notAString, fc.constantFrom('us', 'XX', 'USA', '', 'U S')],
    enum: [notAString, fc.constantFrom('god', 'Reader', ' curator', 'startup', 'on', '', 'membership.exploded'), oddString.filter((s) => !ENUM_VALUES.includes(s))],
    source: [oddSource],
    textArray: [notAnArray, hugeArray, fc.array(fc.oneof(notAString, blank, hugeString), { minLength: 1, maxLength: 3 })],
    uuid: [notAString, fc.constantFrom('x', '00000000-0000-0000-0000-00000000000g', '', '{00000000-0000-0000-0000-000000000000}')],
    timestamp: [notAString, impossibleTimestamp],
    httpUrl: [notAString, hugeString, fc.constantFrom('not a url', 'ftp://example.org/x', 'javascript:alert(1)', '', 'file:///etc/passwd', 'http://[::1', '//example.org')],
    webhookUrl: [notAString, hugeString, fc.constantFrom('not a url', 'ftp://127.0.0.1/x', 'http://10.0.0.1/x', 'http://169.254.169.254/latest', 'javascript:alert(1)', '', 'http://user:pw@127.0.0.1:9/x', 'http://[::1', 'file:///etc/passwd')],
  };
  return fc.oneof(...byKind[field.kind], ...nullIfRequired);
}

interface Route {
  label: string;
  method: 'POST' | 'PATCH' | 'DELETE';
  /** Filled in once the ids exist. */
  path: () => string;
  admin?: boolean;
  /** A valid body; undefined for routes that take none. */
  base?: () => Record<string, unknown>;
  fields: Field[];
  /** Slug path parameters worth fuzzing, as a path builder. */
  withSlug?: (slug: string) => string;
}

const ids = { funding: '', event: '', webhook: '', delivery: '', apiKey: '' };

const ROUTES: Route[] = [
  {
    label: 'POST /organisations',
    method: 'POST',
    path: () => '/organisations',
    base: () => ({ id: 'newco', name: 'New Co', country: 'DE', kind: 'company', aliases: ['NC'], website: 'https://new.example.org' }),
    fields: [
      { name: 'id', kind: 'slug', required: true },
      { name: 'name', kind: 'text', required: true },
      { name: 'country', kind: 'country' },
      { name: 'kind', kind: 'enum' },
      { name: 'aliases', kind: 'textArray' },
      { name: 'website', kind: 'httpUrl' },
    ],
  },
  {
    label: 'POST /organisations/:id/rename',
    method: 'POST',
    path: () => '/organisations/ibm/rename',
    withSlug: (s) => `/organisations/${s}/rename`,
    base: () => ({ name: 'Big Blue', on: '2024', source: src }),
    fields: [
      { name: 'name', kind: 'text', required: true },
      { name: 'on', kind: 'date', required: true },
      { name: 'source', kind: 'source' },
    ],
  },
  {
    label: 'PATCH /organisations/:id',
    method: 'PATCH',
    path: () => '/organisations/ibm',
    withSlug: (s) => `/organisations/${s}`,
    base: () => ({ country: 'US', kind: 'company', aliases: ['Big Blue'], website: 'https://ibm.example.org' }),
    fields: [
      { name: 'country', kind: 'country' },
      { name: 'kind', kind: 'enum' },
      { name: 'aliases', kind: 'textArray' },
      { name: 'website', kind: 'httpUrl' },
    ],
  },
  {
    label: 'POST /alliances',
    method: 'POST',
    path: () => '/alliances',
    base: () => ({ id: 'new-alliance', name: 'New Alliance', website: 'https://a.example.org', foundedOn: '2020' }),
    fields: [
      { name: 'id', kind: 'slug', required: true },
      { name: 'name', kind: 'text', required: true },
      { name: 'website', kind: 'httpUrl' },
      { name: 'foundedOn', kind: 'date' },
    ],
  },
  {
    label: 'POST /alliances/:id/members',
    method: 'POST',
    path: () => '/alliances/ai/members',
    withSlug: (s) => `/alliances/${s}/members`,
    base: () => ({ organisationId: 'meta', on: '2024', role: 'member', source: src, note: 'n' }),
    fields: [
      { name: 'organisationId', kind: 'slug', required: true },
      { name: 'on', kind: 'date', required: true },
      { name: 'role', kind: 'text' },
      { name: 'source', kind: 'source', required: true },
      { name: 'note', kind: 'text' },
    ],
  },
  {
    label: 'POST /alliances/:id/members/:organisationId/leave',
    method: 'POST',
    path: () => '/alliances/ai/members/ibm/leave',
    withSlug: (s) => `/alliances/ai/members/${s}/leave`,
    base: () => ({ on: '2024', reason: 'r', source: src, note: 'n' }),
    fields: [
      { name: 'on', kind: 'date', required: true },
      { name: 'reason', kind: 'text' },
      { name: 'source', kind: 'source', required: true },
      { name: 'note', kind: 'text' },
    ],
  },
  {
    label: 'POST /fundings',
    method: 'POST',
    path: () => '/fundings',
    base: () => ({ funderId: 'ibm', recipientId: 'tum', amount: '5', currency: 'USD', on: '2024', purpose: 'p', conditions: 'c', source: src }),
    fields: [
      { name: 'fundingId', kind: 'uuid' },
      { name: 'funderId', kind: 'slug', required: true },
      { name: 'recipientId', kind: 'slug', required: true },
      { name: 'amount', kind: 'amount', required: true },
      { name: 'currency', kind: 'currency', required: true },
      { name: 'on', kind: 'date', required: true },
      { name: 'purpose', kind: 'text' },
      { name: 'conditions', kind: 'text' },
      { name: 'source', kind: 'source', required: true },
    ],
  },
  {
    label: 'POST /fundings/:id/tranches',
    method: 'POST',
    path: () => `/fundings/${ids.funding}/tranches`,
    base: () => ({ amount: '1', currency: 'EUR', on: '2020', source: src }),
    fields: [
      { name: 'amount', kind: 'amount', required: true },
      { name: 'currency', kind: 'currency', required: true },
      { name: 'on', kind: 'date', required: true },
      { name: 'source', kind: 'source' },
    ],
  },
  {
    label: 'POST /fundings/:id/terminate',
    method: 'POST',
    path: () => `/fundings/${ids.funding}/terminate`,
    base: () => ({ on: '2024', reason: 'r', source: src }),
    fields: [
      { name: 'on', kind: 'date', required: true },
      { name: 'reason', kind: 'text' },
      { name: 'source', kind: 'source' },
    ],
  },
  {
    label: 'POST /events/:eventId/retract',
    method: 'POST',
    path: () => `/events/${ids.event}/retract`,
    base: () => ({ reason: 'the source misdated it' }),
    fields: [{ name: 'reason', kind: 'text', required: true }],
  },
  {
    label: 'POST /api-keys',
    method: 'POST',
    admin: true,
    path: () => '/api-keys',
    base: () => ({ name: 'desk', role: 'reader' }),
    fields: [
      { name: 'name', kind: 'text', required: true },
      { name: 'role', kind: 'enum', required: true },
    ],
  },
  { label: 'DELETE /api-keys/:id', method: 'DELETE', admin: true, path: () => `/api-keys/${ids.apiKey}`, fields: [] },
  {
    label: 'POST /webhooks',
    method: 'POST',
    admin: true,
    path: () => '/webhooks',
    base: () => ({ url: 'http://127.0.0.1:9/fuzz', eventTypes: ['membership.joined'], allianceIds: ['ai'], description: 'd' }),
    fields: [
      { name: 'url', kind: 'webhookUrl', required: true },
      { name: 'eventTypes', kind: 'textArray' },
      { name: 'allianceIds', kind: 'textArray' },
      { name: 'description', kind: 'freeText' },
    ],
  },
  {
    label: 'PATCH /webhooks/:id',
    method: 'PATCH',
    admin: true,
    path: () => `/webhooks/${ids.webhook}`,
    base: () => ({ url: 'http://127.0.0.1:9/hook', eventTypes: ['membership.left'], allianceIds: ['ai'], description: 'd', status: 'enabled' }),
    fields: [
      { name: 'url', kind: 'webhookUrl' },
      { name: 'eventTypes', kind: 'textArray' },
      { name: 'allianceIds', kind: 'textArray' },
      { name: 'description', kind: 'freeText' },
      { name: 'status', kind: 'enum' },
    ],
  },
  { label: 'DELETE /webhooks/:id', method: 'DELETE', admin: true, path: () => `/webhooks/${ids.webhook}`, fields: [] },
  { label: 'POST /webhooks/:id/rotate-secret', method: 'POST', admin: true, path: () => `/webhooks/${ids.webhook}/rotate-secret`, fields: [] },
  { label: 'POST /webhooks/:id/test', method: 'POST', admin: true, path: () => `/webhooks/${ids.webhook}/test`, fields: [] },
  {
    label: 'POST /webhooks/:id/deliveries/:deliveryId/redeliver',
    method: 'POST',
    admin: true,
    path: () => `/webhooks/${ids.webhook}/deliveries/${ids.delivery}/redeliver`,
    fields: [],
  },
  {
    label: 'POST /webhooks/:id/recover',
    method: 'POST',
    admin: true,
    path: () => `/webhooks/${ids.webhook}/recover`,
    base: () => ({ since: '2024-01-01T00:00:00Z' }),
    fields: [{ name: 'since', kind: 'timestamp', required: true }],
  },
];

/** The single endpoints whose bodies an import fact carries, with the fact's path ids. */
const FACTS: Array<{ fact: string; route: string; ids: () => Record<string, string> }> = [
  { fact: 'organisation', route: 'POST /organisations', ids: () => ({}) },
  { fact: 'alliance', route: 'POST /alliances', ids: () => ({}) },
  { fact: 'join', route: 'POST /alliances/:id/members', ids: () => ({ allianceId: 'ai' }) },
  { fact: 'leave', route: 'POST /alliances/:id/members/:organisationId/leave', ids: () => ({ allianceId: 'ai', organisationId: 'ibm' }) },
  { fact: 'rename', route: 'POST /organisations/:id/rename', ids: () => ({ organisationId: 'ibm' }) },
  { fact: 'funding', route: 'POST /fundings', ids: () => ({}) },
  { fact: 'tranche', route: 'POST /fundings/:id/tranches', ids: () => ({ fundingId: ids.funding }) },
  { fact: 'termination', route: 'POST /fundings/:id/terminate', ids: () => ({ fundingId: ids.funding }) },
  { fact: 'retraction', route: 'POST /events/:eventId/retract', ids: () => ({ eventId: ids.event }) },
];
const routeNamed = (label: string) => ROUTES.find((r) => r.label === label)!;

type Mutation = (body: Record<string, unknown>) => void;

/** Changes that each make a valid body invalid; none undoes another. */
function mutations(fields: Field[], known: string[]): fc.Arbitrary<Mutation> {
  const unknownKey = fc
    .oneof(fc.constantFrom(...REGEX_KEYS, ...PROTOTYPE_KEYS, ...SQL_FRAGMENTS, ...PATH_FRAGMENTS, ...UNICODE), fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }))
    .filter((k) => !known.includes(k));
  const options: Array<fc.Arbitrary<Mutation>> = [
    fc.tuple(unknownKey, fc.jsonValue({ maxDepth: 2 })).map(([k, v]): Mutation => (b) => {
      // defineProperty: `__proto__` must become a key of the JSON, not the object's prototype.
      Object.defineProperty(b, k, { value: v, enumerable: true, writable: true, configurable: true });
    }),
  ];
  for (const field of fields) {
    options.push(wrongValue(field).map((v): Mutation => (b) => void (b[field.name] = v)));
    if (field.required) {
      options.push(fc.constant<Mutation>((b) => void delete b[field.name]));
    }
  }
  return fc.oneof(...options);
}

const mutatedBody = (route: Route) =>
  fc
    .array(
      mutations(
        route.fields,
        route.fields.map((f) => f.name),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((changes) => {
      const body = route.base!();
      changes.forEach((change) => change(body));
      return body;
    });

/** Text that is not JSON, or JSON that is not an object, or not the JSON type at all. */
const junkBody: fc.Arbitrary<Pick<Sent, 'json' | 'raw'>> = fc.oneof(
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), oddString, fc.double({ noNaN: true, noDefaultInfinity: true })).map((json) => ({
    raw: { body: JSON.stringify(json), type: 'application/json' },
  })),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 5 }).map((json) => ({ json })),
  fc
    .oneof(
      fc.constantFrom('{', '{"a":', '{"a":1,}', "{'a':1}", '{"a":1}}', '[1,]', '{"a":NaN}', '{"a":undefined}', '\u0000', '{"a":"\\x"}', '{"a":1 /* c */}'),
      fc.string({ unit: 'binary', maxLength: 50 }).map((s) => `{${s}`),
    )
    .filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    })
    .map((body) => ({ raw: { body, type: 'application/json' } })),
  fc.constantFrom(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), new Uint8Array([0xc3, 0x28])).map((body) => ({
    raw: { body, type: 'application/json' },
  })),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x').map((type) => ({
    raw: { body: '{"a":1}', type },
  })),
  fc.integer({ min: 33, max: 2_000 }).map((depth) => ({ raw: { body: `${'['.repeat(depth)}${']'.repeat(depth)}`, type: 'application/json' } })),
);

/** A body for a route that takes none: anything but nothing (or `{}`). */
const bodyForBodyless: fc.Arbitrary<Pick<Sent, 'json' | 'raw'>> = fc.oneof(
  junkBody,
  fc
    .dictionary(fc.oneof(fc.constantFrom(...REGEX_KEYS, ...PROTOTYPE_KEYS), oddString), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 4 })
    .filter((d) => Object.keys(d).length > 0)
    .map((json) => ({ json })),
);

function bodies(route: Route): fc.Arbitrary<Pick<Sent, 'json' | 'raw'>> {
  if (!route.base) {
    return bodyForBodyless;
  }
  return fc.oneof({ weight: 3, arbitrary: mutatedBody(route).map((json) => ({ json })) }, { weight: 1, arbitrary: junkBody });
}

/** An import with at least one invalid fact among valid ones, or a broken list of facts. */
const importBodies: fc.Arbitrary<Pick<Sent, 'json' | 'raw'>> = fc.oneof(
  fc
    .tuple(
      fc.array(fc.constantFrom(...FACTS), { maxLength: 3 }),
      fc.constantFrom(...FACTS).chain((f) => {
        const route = routeNamed(f.route);
        const known = [...route.fields.map((x) => x.name), ...Object.keys(f.ids()), 'fact'];
        const pathIds = Object.keys(f.ids()).map((name): Field => ({ name, kind: name === 'fundingId' || name === 'eventId' ? 'uuid' : 'slug', required: true }));
        return fc.array(mutations([...route.fields, ...pathIds], known), { minLength: 1, maxLength: 3 }).map((changes) => {
          const fact: Record<string, unknown> = { fact: f.fact, ...f.ids(), ...route.base!() };
          changes.forEach((change) => change(fact));
          return fact;
        });
      }),
      fc.nat(),
    )
    .map(([valid, invalid, at]) => {
      const facts: unknown[] = valid.map((f) => ({ fact: f.fact, ...f.ids(), ...routeNamed(f.route).base!() }));
      facts.splice(at % (facts.length + 1), 0, invalid);
      return { json: { facts } };
    }),
  fc
    .oneof(
      fc.constantFrom<unknown>('toString', 'constructor', 'hasOwnProperty', '__proto__', 'Join', '', null, 1, ['join']),
      oddString.filter((s) => !FACTS.some((f) => f.fact === s)),
    )
    .map((fact) => ({ json: { facts: [{ fact, id: 'x', name: 'X' }] } })),
  fc.oneof(notAnArray, fc.constant([]), fc.array(fc.oneof(fc.integer(), oddString, fc.constant(null)), { minLength: 1, maxLength: 5 })).map((facts) => ({ json: { facts } })),
  fc.integer({ min: 1_000, max: 10_000 }).map((n) => ({ json: { facts: Array.from({ length: n }, () => ({})) } })),
  fc.integer({ min: 10_001, max: 12_000 }).map((n) => ({ json: { facts: Array(n).fill({ fact: 'organisation', id: 'x', name: 'X' }) } })),
  mutations([{ name: 'facts', kind: 'source', required: true }], ['facts']).map((m) => {
    const body: Record<string, unknown> = { facts: [{ fact: 'organisation', id: 'x', name: 'X' }] };
    m(body);
    return { json: body };
  }),
  junkBody,
);

describe('fuzzed writes', () => {
  let t: TestDatabase;
  let api: ChildProcess;
  let base: string;
  let curatorKey: string;
  const output: string[] = [];

  async function call(s: Sent): Promise<Answer> {
    const headers: Record<string, string> = { Authorization: `Bearer ${s.key ?? curatorKey}` };
    let body: string | Uint8Array | undefined;
    if (s.raw) {
      headers['Content-Type'] = s.raw.type;
      body = s.raw.body;
    } else if (s.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(s.json);
    }
    const started = performance.now();
    const res = await fetch(`${base}${s.path}`, { method: s.method, headers, body, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', ms: performance.now() - started, text };
  }

  const eventCount = async () => Number((await t.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0].n);

  async function healthy() {
    const started = performance.now();
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    await res.text();
    return { status: res.status, fast: performance.now() - started <= ANSWER_WITHIN_MS };
  }

  /** One invalid request: a 4xx problem+json within the bound. */
  async function expectAnswered(s: Sent) {
    let answer: Answer;
    try {
      answer = await call(s);
    } catch (error) {
      throw new Error(`${s.method} ${s.path} got no answer within ${CLIENT_TIMEOUT_MS} ms (${(error as Error).message}); body ${describe_(s)}`);
    }
    const problem = /^application\/problem\+json/.test(answer.type);
    if (answer.status < 400 || answer.status >= 500 || !problem || answer.ms > ANSWER_WITHIN_MS) {
      throw new Error(
        `${s.method} ${s.path} answered ${answer.status} ${answer.type} in ${Math.round(answer.ms)} ms: ${answer.text.slice(0, 300)}; body ${describe_(s)}`,
      );
    }
  }

  /** The API still answers /health in time, and nothing was recorded. */
  async function expectUnharmed(events: number) {
    expect(await healthy()).toEqual({ status: 200, fast: true });
    expect(await eventCount()).toBe(events);
  }

  async function expectRefused(s: Sent, events: number) {
    await expectAnswered(s);
    await expectUnharmed(events);
  }

  const describe_ = (s: Sent) => (s.raw ? `${s.raw.type} ${String(s.raw.body).slice(0, 200)}` : (JSON.stringify(s.json) ?? 'none').slice(0, 300));

  /**
   * Starts the API on a port that was free a moment ago; false when another process took the
   * port first (the child exits, or what answers does not know this file's admin key).
   */
  async function startApi(): Promise<boolean> {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/api/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: t.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: testRedisPrefix(),
        ADMIN_API_KEY: ADMIN_KEY,
        PORT: String(port),
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'error',
        RATE_LIMIT_PER_MINUTE: '0',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [api.stdout!, api.stderr!]) {
      stream.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && api.exitCode === null) {
      try {
        const res = await fetch(`${base}/api-keys`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
        await res.text();
        if (res.status === 200 && api.exitCode === null) {
          return true;
        }
        if (res.status === 401) {
          break; // someone else's API
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    killApi();
    return false;
  }

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 2 });
    // Should the test worker end before afterAll, the API goes with it.
    process.once('exit', killApi);
    for (let attempt = 1; !(await startApi()); attempt++) {
      if (attempt === 3) {
        throw new Error(`the API did not start: ${output.join('')}`);
      }
    }

    const admin = (method: string, path: string, json?: unknown) => call({ method, path, json, key: ADMIN_KEY });
    curatorKey = JSON.parse((await admin('POST', '/api-keys', { name: 'fuzz curator', role: 'curator' })).text).key;
    ids.apiKey = JSON.parse((await admin('POST', '/api-keys', { name: 'fuzz target', role: 'reader' })).text).id;
    const curator = async (path: string, json: unknown) => {
      const res = await call({ method: 'POST', path, json });
      expect({ path, status: res.status, text: res.text.slice(0, 200) }).toEqual({ path, status: 201, text: expect.any(String) });
      return JSON.parse(res.text);
    };
    for (const id of ['ibm', 'meta', 'tum']) {
      await curator('/organisations', { id, name: id.toUpperCase() });
    }
    await curator('/alliances', { id: 'ai', name: 'AI Alliance' });
    ids.event = (await curator('/alliances/ai/members', { organisationId: 'ibm', on: '2023', source: src })).event.id;
    ids.funding = (await curator('/fundings', { funderId: 'meta', recipientId: 'tum', amount: '100', currency: 'EUR', on: '2019', source: src })).fundingId;
    ids.webhook = JSON.parse((await admin('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook' })).text).id;
    ids.delivery = JSON.parse((await admin('POST', `/webhooks/${ids.webhook}/test`)).text).id;
    expect(Object.values(ids).every(Boolean)).toBe(true);
  }, 60_000);

  // SIGKILL: a process pinned by a request does not act on SIGTERM.
  const killApi = () => void (api?.exitCode === null && api.signalCode === null && api.kill('SIGKILL'));

  afterAll(async () => {
    if (api && api.exitCode === null && api.signalCode === null) {
      const exited = new Promise((resolve) => api.once('exit', resolve));
      killApi();
      await exited;
    }
    process.removeListener('exit', killApi);
    await t?.destroy();
  });

  const sendAs = (route: Route) => (route.admin ? ADMIN_KEY : undefined);

  it('regex metacharacters in field names answer 400 at once, on every write', async () => {
    const events = await eventCount();
    for (const key of REGEX_KEYS) {
      for (const route of ROUTES) {
        const body = route.base ? route.base() : {};
        body[key] = 1;
        await expectAnswered({ method: route.method, path: route.path(), json: body, key: sendAs(route) });
      }
      await expectAnswered({ method: 'POST', path: '/imports', json: { facts: [{ fact: 'join', allianceId: 'ai', organisationId: 'meta', on: '2024', source: { ...src, [key]: 1 } }] } });
      await expectUnharmed(events);
    }
  }, 60_000);

  for (const route of ROUTES) {
    it(`${route.label}: invalid bodies are refused`, async () => {
      const events = await eventCount();
      await fc.assert(
        fc.asyncProperty(bodies(route), (body) => expectRefused({ method: route.method, path: route.path(), key: sendAs(route), ...body }, events)),
        { numRuns: NUM_RUNS },
      );
    });
  }

  it('POST /imports: invalid facts and fact lists are refused', async () => {
    const events = await eventCount();
    await fc.assert(fc.asyncProperty(importBodies, (body) => expectRefused({ method: 'POST', path: '/imports', ...body }, events)), {
      numRuns: NUM_RUNS * 2,
    });
  });

  it('ids in paths that cannot exist are refused, whatever they hold', async () => {
    const events = await eventCount();
    const slugRoutes = ROUTES.filter((r) => r.withSlug);
    const uuidPaths = [
      (id: string) => `/fundings/${id}/tranches`,
      (id: string) => `/events/${id}/retract`,
      (id: string) => `/webhooks/${id}/rotate-secret`,
      (id: string) => `/api-keys/${id}`,
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...slugRoutes), fc.constantFrom(...uuidPaths), fc.oneof(notASlug, hugeString.map((s) => s.slice(0, 5_000))), async (route, uuidPath, id) => {
        // A lone surrogate goes as the bytes it would have in UTF-8 (%ED%A0%80): not UTF-8 at all.
        const segment = encodeURIComponent(id.replace(LONE_SURROGATE, '\ufffd')).replaceAll('%EF%BF%BD', '%ED%A0%80');
        await expectRefused({ method: route.method, path: route.withSlug!(segment), json: route.base!(), key: sendAs(route) }, events);
        await expectRefused({ method: uuidPath === uuidPaths[3] ? 'DELETE' : 'POST', path: uuidPath(segment), json: {}, key: ADMIN_KEY }, events);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
