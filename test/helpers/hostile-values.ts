/**
 * Hostile input for the fuzz suite: strings, numbers and JSON values by family (unicode edge
 * cases, SQL and regex metacharacters, numbers at and past the bounds, prototype keys, deep
 * nesting, huge strings), ways to write one of them into a well-formed value, and raw encodings
 * (percent-encoding with lone surrogates, malformed escapes, malformed JSON).
 */
import fc from 'fast-check';

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Hostile strings by family, so each family is drawn as often as the others. */
export const NASTY_FAMILIES: Record<string, string[]> = {
  unicode: ['\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\ud83d', '\u202eevil\u202c', '\u200f\u05e9\u05dc\u05d5\u05dd', 'مرحبا', '😀', '👨‍👩‍👧‍👦', '\ufeff', '\r\n', '\t', 'e\u0301', '\uffff', '\u{10ffff}', '\u0085', '\u2028'],
  sql: ["' OR 1=1 --", '"; drop table organizations; --', "'); delete from api_keys; --", '1; select pg_sleep(10)', '%', '_', '%_%', '\\', "\\'", '$1', '::text', '/*', 'E\'\\x00\''],
  regex: ['.*', '(a+)+$', '[', '\\d+', '^$', '$where', '{{7*7}}', '${7*7}', '../../etc/passwd', '..%2f..%2f', '<script>alert(1)</script>', '?', '#', '&', '='],
  numeric: ['NaN', 'Infinity', '-Infinity', '1e309', '-0', '0x1F', '1_000', ' 1', '1 ', '+1', '1.5', '01', '9007199254740993', '2147483648', '-2147483649', '-1', '0', '1e3', '0b1', '0o7'],
  literal: ['', ' ', 'true', 'TRUE', 'false', 'null', 'undefined', '[]', '{}', '[object Object]', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'],
  sort: ['createdAt', 'createdAt:asc', 'createdAt:DESC', 'createdAt;drop', 'mdmUser.email:desc', 'mdmUser.__proto__', 'constructor:asc', 'a'.repeat(65), 'createdAt:asc:desc', '.:asc', '__proto__:desc', 'linkSecret', 'key_hash'],
  ids: ['0123456789abcdef0123456', '0123456789abcdef012345678', '0123456789ABCDEF01234567', 'zzzzzzzzzzzzzzzzzzzzzzzz', '000000000000000000000000', 'ffffffffffffffffffffffff'],
};
/** Characters that survive a schema (any string goes) but not always a database, a regex or a log. */
export const NASTY_CHARS = ['\u0000', '\ud800', '\udc00', '\u202e', '😀', "'", '"', '\\', '%', '_', '\n', '\u2028', '\ufeff'];

export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
export const unit = fc.oneof({ weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: loneSurrogate }, { weight: 1, arbitrary: fc.constantFrom('\u0000', '%', "'", '"', '\\', '/', '?', '#', '&', '=', '+', ':', '.') });

/** A string up to about 100k characters, of one character repeated (keeps generation cheap). */
export const hugeString = fc
  .tuple(fc.constantFrom('a', 'é', '😀', '\u202e', "'", '%', '0', '\u0000', ' '), fc.integer({ min: 1_000, max: 100_000 }))
  .map(([c, n]) => c.repeat(Math.max(1, Math.floor(n / c.length))));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  ...Object.values(NASTY_FAMILIES).map((family) => ({ weight: 1, arbitrary: fc.constantFrom(...family) })),
  { weight: 3, arbitrary: fc.string({ unit, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  { weight: 1, arbitrary: hugeString },
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 59, 60, 61, 128, 129, 256, 257, 500, 501, 10_000, 10_001, 86_400, 2_592_000, 2_592_001, 2_147_483_647, 2_147_483_648, -2_147_483_649),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER, 1e21, 1e308, -1e308, 0.5, 1.5, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** An object whose own keys may be `__proto__` and friends, as JSON.parse would make it. */
export function objectOf(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

export function nest(depth: number, shape: 'object' | 'array' | 'mixed', leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = shape === 'array' || (shape === 'mixed' && i % 2) ? [v] : { a: v };
  return v;
}

export const deepValue = fc.tuple(fc.integer({ min: 20, max: 200 }), fc.constantFrom('object', 'array', 'mixed') as fc.Arbitrary<'object' | 'array' | 'mixed'>, nastyString).map(([d, s, l]) => nest(d, s, l));

/**
 * JSON text nested past any sane limit, written by hand: JSON.stringify of such a value
 * overflows the stack of the test process itself.
 */
export const deepJsonText = fc
  .tuple(fc.constantFrom(33, 200, 5_000, 50_000), fc.constantFrom('object', 'array'))
  .map(([d, shape]) => (shape === 'object' ? `${'{"a":'.repeat(d)}1${'}'.repeat(d)}` : `${'['.repeat(d)}1${']'.repeat(d)}`));

export const keyArb = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS, 'toString', '', '$where', 'a.b', 'a[0]', '\u0000') }, { weight: 1, arbitrary: nastyString.filter((s) => s.length < 200) });

export const { nastyValue } = fc.letrec<{ nastyValue: unknown }>((tie) => ({
  nastyValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: nastyString },
    { weight: 3, arbitrary: nastyNumber },
    { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
    { weight: 1, arbitrary: fc.array(tie('nastyValue'), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.array(fc.tuple(keyArb, tie('nastyValue')), { maxLength: 4 }).map(objectOf) },
    { weight: 1, arbitrary: deepValue },
  ),
}));

/** Every path to a value inside a JSON-like value (the root included). */
export function pathsOf(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

export function setAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
  Object.defineProperty(node, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** One hostile character written into one string (or key) of a value, which stays schema-shaped. */
export function withNastyChar(v: unknown, i: number, ch: string, at: number): unknown {
  const strings = pathsOf(v).filter((p) => typeof p.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], v) === 'string');
  if (strings.length === 0) return v;
  const path = strings[i % strings.length]!;
  const old = path.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], v) as string;
  const pos = at % (old.length + 1);
  return setAt(v, path, old.slice(0, pos) + ch + old.slice(pos));
}

/** Percent-encodes every byte but the unreserved ones; a lone surrogate becomes its WTF-8 bytes. */
export function pct(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (/^[A-Za-z0-9\-._~]$/.test(ch)) {
      out += ch;
      continue;
    }
    const bytes =
      cp < 0x80 ? [cp]
      : cp < 0x800 ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
      : cp < 0x10000 ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
      : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    out += bytes.map((x) => `%${x.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

export const MALFORMED = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%00', '%FF', '%%', '%2', '%u0041'];
export const encoded = (arb: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 9, arbitrary: arb.map(pct) }, { weight: 1, arbitrary: fc.tuple(arb, fc.constantFrom(...MALFORMED)).map(([s, m]) => pct(s.slice(0, 50)) + m) });

/** Bodies no JSON encoder would write: prototype keys, duplicate keys, extreme nesting, broken text. */
export const RAW_JSON = [
  '{"__proto__": {"polluted": "yes"}}',
  '{"constructor": {"prototype": {"polluted": "yes"}}}',
  '[{"__proto__": {"polluted": "yes"}}]',
  '{"a": 1, "a": 2}',
  `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  'null', '0', '-0', '1e999', '"str"', 'true', '[]', '{}', '', ' ', '{', '{"a":}', "{'a':1}", 'NaN', '\u0000', '\ufeff{}', '{"a":"\\ud800"}', '{"a":"\\u0000"}',
];
