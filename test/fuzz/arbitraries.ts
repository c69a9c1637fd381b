/**
 * Generators of hostile client frames (as raw JSON text, so duplicate keys, `__proto__` keys, out-of-range number
 * literals and deep nesting survive) and an independent model of what the contract says each frame must get.
 * The model reads the frame with JSON.parse, the one thing it shares with the code under test.
 */
import fc from 'fast-check';
import { ACTION_ROUTES } from '../../core/routes.js';
import { ERROR_CODES } from '../../protocol/frames.js';

/** Fixed seed (override with FUZZ_SEED=...): fast-check prints it with any counterexample. */
export const SEED = Number(process.env['FUZZ_SEED'] ?? 0x7ea7a1c);

/** The contract's codes (protocol/frames.ts is the one list; the contract is its source). */
export const CONTRACT_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Depth of the properties: FUZZ_RUNS multiplies the runs of each (1 in `npm test`, 5 in `npm run test:deep`). */
export const RUNS_SCALE = Number(process.env['FUZZ_RUNS'] ?? (process.env['TEST_DEEP'] ? 5 : 1));
export const runs = (n: number) => Math.max(1, Math.round(n * RUNS_SCALE));

const MAX_SEQ = 2 ** 32 - 1;
/** The contract's "integer seq" as the server must echo it. */
export const isValidSeq = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SEQ;
/** The contract's user id, written out again here rather than imported. */
export const isUserIdModel = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_.@-]{1,128}$/.test(value);
/** A group id as the server makes them: `g:` and 22 base64url characters (no user id contains `:`). */
export const isGroupIdModel = (value: unknown): value is string =>
  typeof value === 'string' && /^g:[A-Za-z0-9_-]{22}$/.test(value);
const isSessionIdModel = (value: unknown) => isUserIdModel(value) || isGroupIdModel(value);

/** A lone surrogate anywhere in a parsed frame, keys included (the contract: every string must be well-formed). */
export function hasLoneSurrogate(root: unknown): boolean {
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  // A work list, not recursion: frames nest a million levels deep.
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const value = todo.pop();
    if (typeof value === 'string') {
      if (lone.test(value)) return true;
    } else if (Array.isArray(value)) {
      todo.push(...value);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (lone.test(k)) return true;
        todo.push(v);
      }
    }
  }
  return false;
}
const isSafePositive = (value: unknown, min: number) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

export type Parsed = { ok: true; value: unknown } | { ok: false };

let lastParsed: { body: string | undefined; parsed: Parsed } | undefined;

/** JSON.parse of the body (the last one cached: oracles read the same megabyte frame several times). */
export function parseModel(body: string | undefined): Parsed {
  if (lastParsed !== undefined && lastParsed.body === body) return lastParsed.parsed;
  let parsed: Parsed;
  try {
    parsed = { ok: true, value: JSON.parse(body ?? '') as unknown };
  } catch {
    parsed = { ok: false };
  }
  lastParsed = { body, parsed };
  return parsed;
}

export function asObject(parsed: Parsed): Record<string, unknown> | undefined {
  if (!parsed.ok) return undefined;
  const v = parsed.value;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

const own = (o: Record<string, unknown>, key: string) => Object.hasOwn(o, key);

/** The seq a reply must carry: the frame's, when it is a valid integer; otherwise none. */
export function expectedSeq(body: string | undefined): number | undefined {
  const o = asObject(parseModel(body));
  return o && own(o, 'seq') && isValidSeq(o['seq']) ? o['seq'] : undefined;
}

/** What a frame must get: accepted (reply or no reply, by route), or an error whose code is one of `codes`. */
export type Expectation = { readonly accept: true } | { readonly accept: false; readonly codes: ReadonlySet<string> };
const refuse = (...codes: string[]): Expectation => ({ accept: false, codes: new Set(codes) });
const ACCEPT: Expectation = { accept: true };

export const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/** Shape check of msg_data (the contract's field list); undefined when the shape is fine. */
function msgDataShapeInvalid(o: Record<string, unknown>): boolean {
  if (o['action'] !== 'msg_data') return true;
  if (own(o, 'seq') && !isValidSeq(o['seq'])) return true;
  if (!isSessionIdModel(o['to_session_id'])) return true;
  if (![1, 2, 17, 18].includes(o['msg_type'] as number) || typeof o['msg_type'] !== 'number') return true;
  if (typeof o['msg_data'] !== 'string') return true;
  if (own(o, 'client_msg_id')) {
    const c = o['client_msg_id'];
    if (typeof c !== 'string' || c.length === 0 || c.length > 64) return true;
  }
  return false;
}

/** Whether a msg_data body has the contract's shape (what the schema checks), whatever a later check says. */
export function msgDataShapeOk(body: string | undefined): boolean {
  const o = asObject(parseModel(body));
  return o !== undefined && !hasLoneSurrogate(o) && !msgDataShapeInvalid(o);
}

/** The contract for msg_data sent by `caller` (no groups exist for the caller; limit in UTF-8 bytes). */
export function msgDataModel(body: string | undefined, caller: string, maxBytes: number): Expectation {
  const o = asObject(parseModel(body));
  if (!o || hasLoneSurrogate(o) || msgDataShapeInvalid(o)) return refuse('bad_request');
  const codes: string[] = [];
  const data = o['msg_data'] as string;
  if (data.length === 0) codes.push('empty_message');
  if (utf8Bytes(data) > maxBytes) codes.push('too_large');
  const type = o['msg_type'] as number;
  if (type === 17 || type === 18) codes.push('not_member');
  else if (isGroupIdModel(o['to_session_id'])) codes.push('bad_request');
  else if (o['to_session_id'] === caller) codes.push('self_message');
  return codes.length > 0 ? refuse(...codes) : ACCEPT;
}

/** msg_data_ack: a well-formed ack is accepted (no reply; not_member tolerated for a session the caller is not in). */
export function msgDataAckModel(body: string | undefined): Expectation {
  const o = asObject(parseModel(body));
  if (!o || hasLoneSurrogate(o) || o['action'] !== 'msg_data_ack') return refuse('bad_request');
  if (own(o, 'seq') && !isValidSeq(o['seq'])) return refuse('bad_request');
  const one = own(o, 'msg_id');
  const many = own(o, 'msg_ids');
  const ids = o['msg_ids'];
  const idsOk: boolean =
    Array.isArray(ids) && ids.length >= 1 && ids.length <= 100 && ids.every((id) => isSafePositive(id, 1));
  if (
    one === many ||
    (one && !isSafePositive(o['msg_id'], 1)) ||
    (many && !idsOk) ||
    !isSessionIdModel(o['session_id'])
  )
    return refuse('bad_request');
  if (o['session_type'] !== 1 && o['session_type'] !== 2) return refuse('bad_request');
  return ACCEPT;
}

/**
 * typing: a well-formed frame gets no reply (forwarded or dropped); typing to oneself is not_member, and so may be a
 * group (no attacker is a member of one) or any conversation whose throttle passed first.
 */
export function typingModel(body: string | undefined, caller: string): Expectation {
  const o = asObject(parseModel(body));
  if (!o || hasLoneSurrogate(o) || o['action'] !== 'typing') return refuse('bad_request');
  if (own(o, 'seq') && !isValidSeq(o['seq'])) return refuse('bad_request');
  if (!isSessionIdModel(o['session_id']) || (o['session_type'] !== 1 && o['session_type'] !== 2))
    return refuse('bad_request');
  if (o['state'] !== 'start' && o['state'] !== 'stop') return refuse('bad_request');
  if (o['session_type'] === 1 && (o['session_id'] === caller || isGroupIdModel(o['session_id'])))
    return refuse('not_member');
  return ACCEPT;
}

/** Actions with a route of their own: the route table of the stack and the emulator. */
export const ROUTED_ACTIONS = Object.keys(ACTION_ROUTES) as (keyof typeof ACTION_ROUTES)[];

// ---------------------------------------------------------------------------------------------------------------
// Strings

const j = (v: unknown) => JSON.stringify(v);

export const EDGE_STRINGS: readonly string[] = [
  '',
  '\u0000',
  'a\u0000b',
  'alice\u0000',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  'a\ud800b',
  '\udc00\ud800',
  '\ud83d',
  '😀',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '\u202eevil\u202c',
  '\u200f\u200e',
  'שלום',
  'مرحبا',
  'e\u0301\u0301\u0301',
  'Z\u0324\u0354\u0367\u0311\u0313a\u0356\u032d\u0308\u0307l\u036e\u0312\u036bo\u0317',
  '\ufeff',
  '\uffff',
  '\ufffe',
  '\ufffd',
  '\u2028\u2029',
  '\u00a0',
  '\u3000',
  'ﷺ',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  ' ',
  '\t',
  '\r\n',
  'alice\n',
  'ALICE',
  'alice ',
  ' alice',
  'al ice',
  'alice#bob',
  's#alice#bob',
  'аlice',
  'a'.repeat(128),
  'a'.repeat(129),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '0',
  '-1',
  'NaN',
  'Infinity',
  '1e309',
  'null',
  'undefined',
  'true',
  '{}',
  '[]',
  '%00',
  '../../etc/passwd',
  '*',
  '"',
  '\\',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile string, on purpose.
  '${jndi:ldap://x}',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
];

const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const nastyUnit = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '😀',
  '\u202e',
  '\u0301',
  '\ufeff',
  '"',
  '\\',
  '#',
  '\u2028',
  'é',
);

/** Strings of any UTF-16 units, sized from empty to past the message limit (and one of 1 MiB). */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: utf16Unit, maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.oneof(utf16Unit, nastyUnit), maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('x', 'é', '😀', '\ud800', '\u0000'),
        fc.constantFrom(1023, 1024, 1025, 1365, 1366, 2048, 2049, 4095, 4096, 4097, 8192),
      )
      .map(([c, n]) => c.repeat(n)),
  },
  // Far over API Gateway's 128 KB message limit (frames just under it: the dedicated test in frames.test.ts).
  { weight: 1, arbitrary: fc.constant('x'.repeat(1 << 20)) },
);

// ---------------------------------------------------------------------------------------------------------------
// Raw JSON values

export const NUMBER_TEXTS: readonly string[] = [
  '0',
  '-0',
  '0.0',
  '1',
  '-1',
  '1.5',
  '-1.5',
  '0.5',
  '1e2',
  '1E2',
  '1.0',
  '0.1e1',
  '1e-7',
  '4294967295',
  '4294967296',
  '-4294967296',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '-9007199254740991',
  '1e308',
  '1.7976931348623157e308',
  '1e309',
  '-1e309',
  '1e-400',
  '5e-324',
  '123456789012345678901234567890',
  '17',
  '18',
  '2',
  '3',
];

const numberText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMBER_TEXTS) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => j(d)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String) },
);

/** Keys that reach objects: prototype-pollution keys, the contract's field names, anything. */
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
const FIELD_NAMES = [
  'action',
  'seq',
  'to_session_id',
  'msg_type',
  'msg_data',
  'client_msg_id',
  'msg_id',
  'session_id',
  'session_type',
  'from_user_id',
  'user_id',
  'userId',
  'polluted',
  'isAdmin',
  'toJSON',
  'then',
];
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...POLLUTION_KEYS) },
  { weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 2, arbitrary: hostileString.filter((s) => s.length < 64) },
);

const nestCache = new Map<string, string>();
/** `depth` levels of [[…]], {"a":{…}} or {"__proto__":{…}}, built once per shape. */
export function nested(shape: 'array' | 'object' | 'proto', depth: number): string {
  const key = `${shape}:${depth}`;
  let text = nestCache.get(key);
  if (text === undefined) {
    const open = shape === 'array' ? '[' : shape === 'object' ? '{"a":' : '{"__proto__":';
    const close = shape === 'array' ? ']' : '}';
    text = open.repeat(depth) + (shape === 'array' ? '' : '1') + close.repeat(depth);
    nestCache.set(key, text);
  }
  return text;
}
export const deepText: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('array', 'object', 'proto') as fc.Arbitrary<'array' | 'object' | 'proto'>,
    fc.constantFrom(2, 64, 1_000, 10_000),
  )
  .map(([shape, depth]) => nested(shape, depth));

/** Pollution payloads as values: {"__proto__":{"polluted":…}} and {"constructor":{"prototype":{…}}}. */
const pollutionValue = fc.constantFrom(
  '{"__proto__":{"polluted":"yes","isAdmin":true}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"prototype":{"polluted":"yes"}}',
  '[{"__proto__":{"polluted":"yes"}}]',
  '{"a":{"__proto__":{"polluted":"yes"}},"constructor":{"prototype":{"toString":"x"}}}',
);

/** Any JSON value as text, with hostile leaves; small, but `deepText` leaves nest far. */
export const rawValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: fc.constantFrom('null', 'true', 'false', '{}', '[]', '""') },
    { weight: 4, arbitrary: numberText },
    { weight: 4, arbitrary: hostileString.map(j) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }).map((a) => `[${a.join(',')}]`) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(keyArb, tie('value')), { maxLength: 3 })
        .map((es) => `{${es.map(([k, v]) => `${j(k)}:${v}`).join(',')}}`),
    },
    { weight: 1, arbitrary: pollutionValue },
    { weight: 1, arbitrary: deepText },
  ),
})).value;

// ---------------------------------------------------------------------------------------------------------------
// Frames

export type Entry = readonly [key: string, raw: string];
export const objectText = (entries: readonly Entry[]) => `{${entries.map(([k, v]) => `${j(k)}:${v}`).join(',')}}`;

export const validUserId: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'alice',
      'bob',
      'carol',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'a'.repeat(128),
      'A.b-c_d@e',
      '0',
      '-',
      '.',
      '@',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.@-]{1,128}$/) },
);
/** Group ids as group_create makes them, and near misses. */
const groupIdArb = fc.oneof(
  fc.stringMatching(/^g:[A-Za-z0-9_-]{22}$/),
  fc.constantFrom('g:AAAAAAAAAAAAAAAAAAAAAA', 'g:short', 'g-00000000-0000-4000-8000-000000000000'),
);
const sessionIdArb = fc.oneof({ weight: 4, arbitrary: validUserId }, { weight: 1, arbitrary: groupIdArb });
const validSeqArb = fc.oneof(fc.constantFrom(0, 1, 7, MAX_SEQ), fc.integer({ min: 0, max: MAX_SEQ }));
const validMsgData = fc.oneof(
  { weight: 4, arbitrary: hostileString.filter((s) => s.length > 0 && utf8Bytes(s) <= 4096) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'x'.repeat(4096),
      '😀'.repeat(1024),
      'é'.repeat(2048),
      '\ud800'.repeat(1365),
      '\u0000'.repeat(4096),
    ),
  },
);
/** A unique client_msg_id in the mixed runs (idempotent send de-duplicates repeats of one sender's id). */
let clientMsgCounter = 0;
const validClientMsgId = fc.oneof(
  fc.constantFrom('c-1', 'x'.repeat(60), '😀', '\ud800', '__proto__'),
  fc.string({ unit: fc.oneof(utf16Unit, nastyUnit), minLength: 1, maxLength: 40 }),
);

interface FieldGen {
  readonly key: string;
  readonly value: fc.Arbitrary<string>;
  readonly optional?: boolean;
}

const MSG_DATA_FIELDS: readonly FieldGen[] = [
  { key: 'seq', value: validSeqArb.map(j), optional: true },
  { key: 'to_session_id', value: sessionIdArb.map(j) },
  { key: 'msg_type', value: fc.constantFrom(1, 1, 1, 2, 17, 18).map(j) },
  { key: 'msg_data', value: validMsgData.map(j) },
  { key: 'client_msg_id', value: validClientMsgId.map(j), optional: true },
];

const MSG_DATA_ACK_FIELDS: readonly FieldGen[] = [
  { key: 'seq', value: validSeqArb.map(j), optional: true },
  {
    key: 'msg_id',
    value: fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })).map(j),
    optional: true,
  },
  {
    key: 'msg_ids',
    value: fc
      .array(fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: 1e6 })), { minLength: 1, maxLength: 5 })
      .map(j),
    optional: true,
  },
  { key: 'session_id', value: fc.oneof(fc.constantFrom('alice', 'bob', 'carol'), sessionIdArb).map(j) },
  { key: 'session_type', value: fc.constantFrom(1, 1, 2).map(j) },
];

const sessionFields = (users: fc.Arbitrary<string>): FieldGen[] => [
  { key: 'seq', value: validSeqArb.map(j), optional: true },
  { key: 'session_id', value: users.map(j) },
  { key: 'session_type', value: fc.constantFrom(1, 1, 2).map(j) },
];
const msgIdText = fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })).map(j);
const peers = fc.oneof(fc.constantFrom('alice', 'bob', 'carol', 'mallory'), validUserId);

/** Valid-looking requests of the read-side and group routes (contract: "Requests and replies"). */
export const REQUEST_FIELDS: Readonly<Record<string, readonly FieldGen[]>> = {
  msg_list: [
    ...sessionFields(peers),
    {
      key: 'msg_id_begin',
      value: fc.oneof(fc.constantFrom(0, 1, 3), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })).map(j),
    },
    { key: 'msg_cnt', value: fc.integer({ min: 1, max: 100 }).map(j) },
  ],
  latest_msg_id: sessionFields(peers),
  msg_by_ids: [
    ...sessionFields(peers),
    { key: 'msg_ids', value: fc.array(msgIdText, { minLength: 1, maxLength: 5 }).map((a) => `[${a.join(',')}]`) },
  ],
  unread_cnt: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'page_token', value: hostileString.filter((s) => s.length <= 512).map(j), optional: true },
  ],
  recent_sessions: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'latest_update_time', value: fc.constantFrom(0, 1, 1_790_000_000).map(j) },
    { key: 'page_token', value: hostileString.filter((s) => s.length <= 512).map(j), optional: true },
  ],
  msg_read_ack: [...sessionFields(peers), { key: 'msg_id', value: msgIdText }],
  remove_session: sessionFields(peers),
  group_create: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'group_name', value: hostileString.filter((s) => s.length < 200).map(j) },
    { key: 'member_ids', value: fc.array(peers, { maxLength: 4 }).map(j) },
  ],
  group_change_member: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'group_id', value: fc.oneof(groupIdArb, validUserId).map(j) },
    { key: 'change_type', value: fc.constantFrom('add', 'del').map(j) },
    { key: 'member_ids', value: fc.array(peers, { maxLength: 4 }).map(j) },
  ],
  group_list: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'page_token', value: hostileString.filter((s) => s.length <= 512).map(j), optional: true },
  ],
  device_token: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'token', value: hostileString.filter((x) => x.length > 0 && x.length <= 1100).map(j) },
    { key: 'platform', value: fc.constantFrom('ios', 'android', 'web', 'windows', 'mac').map(j) },
  ],
  device_token_remove: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'token', value: hostileString.filter((x) => x.length > 0 && x.length <= 1100).map(j) },
  ],
  device_token_verify: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'token', value: hostileString.filter((x) => x.length > 0 && x.length <= 1100).map(j) },
    { key: 'code', value: hostileString.filter((x) => x.length <= 80).map(j) },
  ],
  group_info: [
    { key: 'seq', value: validSeqArb.map(j), optional: true },
    { key: 'group_id', value: fc.oneof(groupIdArb, validUserId).map(j) },
  ],
  heartbeat: [{ key: 'seq', value: validSeqArb.map(j), optional: true }],
  typing: [...sessionFields(peers), { key: 'state', value: fc.constantFrom('start', 'stop').map(j) }],
};

/** The request fields of an action (own keys only: `__proto__` is an action name the fuzzer tries too). */
function fieldsOf(action: string): readonly FieldGen[] | undefined {
  if (action === 'msg_data') return MSG_DATA_FIELDS;
  if (action === 'msg_data_ack') return MSG_DATA_ACK_FIELDS;
  return Object.hasOwn(REQUEST_FIELDS, action) ? REQUEST_FIELDS[action] : undefined;
}

function baseFrame(action: string, fields: readonly FieldGen[]): fc.Arbitrary<Entry[]> {
  return fc
    .tuple(...fields.map((f) => (f.optional ? fc.option(f.value, { nil: undefined }) : f.value)))
    .map((values) => {
      const entries: Entry[] = [['action', j(action)]];
      values.forEach((raw, i) => {
        if (raw !== undefined) entries.push([fields[i]!.key, raw]);
      });
      return entries;
    });
}

type Mutation =
  | { kind: 'set'; key: string; raw: string }
  | { kind: 'delete'; key: string }
  | { kind: 'extra'; key: string; raw: string }
  | { kind: 'prepend'; key: string; raw: string }
  | { kind: 'spoof'; key: string; raw: string };

function mutation(fieldKeys: readonly string[]): fc.Arbitrary<Mutation> {
  const field = fc.constantFrom('action', ...fieldKeys);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), key: field, raw: rawValue }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: field }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('extra' as const), key: keyArb, raw: rawValue }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('prepend' as const), key: field, raw: rawValue }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('spoof' as const),
        key: fc.constantFrom('from_user_id', 'user_id', 'userId', 'sender', 'principalId'),
        raw: fc.constantFrom('alice', 'bob', 'mallory', 'admin').map(j),
      }),
    },
  );
}

function applyMutations(entries: readonly Entry[], mutations: readonly Mutation[]): Entry[] {
  let out = [...entries];
  for (const m of mutations) {
    if (m.kind === 'set')
      out = out.some(([k]) => k === m.key)
        ? out.map(([k, v]) => [k, k === m.key ? m.raw : v] as const)
        : [...out, [m.key, m.raw]];
    else if (m.kind === 'delete') out = out.filter(([k]) => k !== m.key);
    else if (m.kind === 'prepend') out = [[m.key, m.raw], ...out];
    else out = [...out, [m.key, m.raw]];
  }
  return out;
}

/** A valid-looking request of `action` with 0..maxMutations hostile edits, as JSON text. */
export function mutatedFrame(action: string, fields: readonly FieldGen[], maxMutations: number): fc.Arbitrary<string> {
  return fc
    .tuple(baseFrame(action, fields), fc.array(mutation(fields.map((f) => f.key)), { maxLength: maxMutations }))
    .map(([entries, mutations]) => objectText(applyMutations(entries, mutations)));
}

/** Bodies that are not frames at all: not JSON, JSON but not an object, truncated, deep, huge, empty, absent. */
export const junkBody: fc.Arbitrary<string | undefined> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      '',
      ' ',
      'null',
      'true',
      '0',
      '-1',
      '"msg_data"',
      '[]',
      '[{"action":"msg_data"}]',
      '{',
      '{"action":"msg_data"',
      '{"action":',
      "{'action':'msg_data'}",
      '{"action":"msg_data",}',
      '{action:"msg_data"}',
      'NaN',
      'Infinity',
      'undefined',
      '\u0000',
      '\ufeff{"action":"heartbeat"}',
      '{"action":"heartbeat"}\u0000',
      '{"action":"heartbeat"}{"action":"heartbeat"}',
      '{"seq":1e400}',
      '{"seq":"1"}',
      '{"seq":-0}',
      '{"__proto__":{"seq":5},"action":"heartbeat"}',
      '{"__proto__":null}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      `"${'x'.repeat(1 << 20)}"`,
      `{"action":"${'y'.repeat(1 << 20)}"}`,
    ),
  },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.oneof(utf16Unit, nastyUnit, fc.constantFrom('{', '}', '[', ']', '"', ':', ',')),
      maxLength: 40,
    }),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => j(v)) },
  { weight: 1, arbitrary: deepText },
  { weight: 1, arbitrary: deepText.map((d) => `{"action":"msg_data","seq":5,"msg_data":${d}}`) },
  { weight: 1, arbitrary: fc.array(fc.tuple(keyArb, rawValue), { maxLength: 5 }).map(objectText) },
);

/** Bodies aimed at one route: mostly mutated requests of its action, some of other actions, some junk. */
export function bodiesFor(
  action: string,
  options: { maxMutations: number; junkWeight?: number },
): fc.Arbitrary<string | undefined> {
  const fields = fieldsOf(action) ?? [];
  const others = fc.constantFrom(
    ...ROUTED_ACTIONS,
    'heartbeat',
    'MSG_DATA',
    'msg_data ',
    '',
    '__proto__',
    'constructor',
    'toString',
  );
  return fc.oneof(
    { weight: 8, arbitrary: mutatedFrame(action, fields, options.maxMutations) },
    { weight: 1, arbitrary: others.chain((a) => mutatedFrame(a, fieldsOf(a) ?? MSG_DATA_FIELDS, 1)) },
    { weight: options.junkWeight ?? 2, arbitrary: junkBody },
  );
}

/** Any body for any route: the parser's diet. */
export const anyBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 3, arbitrary: bodiesFor('msg_data', { maxMutations: 3, junkWeight: 0 }) },
  { weight: 2, arbitrary: bodiesFor('msg_data_ack', { maxMutations: 3, junkWeight: 0 }) },
  { weight: 3, arbitrary: junkBody },
);

/**
 * Overrides a valid client_msg_id with a unique one (a last duplicate key wins in JSON.parse) so no two frames of a
 * mixed run share one: idempotent send answers a repeat with the first ack, which the count model does not track.
 */
export function uniquifyClientMsgId(body: string | undefined): string | undefined {
  const o = asObject(parseModel(body));
  if (!o || body === undefined || !body.endsWith('}')) return body;
  const c = o['client_msg_id'];
  if (typeof c !== 'string' || c.length === 0 || c.length > 64) return body;
  const suffix = `~${(clientMsgCounter++).toString(36)}`;
  return `${body.slice(0, -1)},"client_msg_id":${j(`${c.slice(0, 64 - suffix.length)}${suffix}`)}}`;
}
