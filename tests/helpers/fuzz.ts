import { sql } from 'kysely';
import type { Core } from '../../src/core.ts';
import { Random } from '../../src/demo/random.ts';

/**
 * Seeded pieces for fuzzing the API: junk values, mutations of a valid JSON body, and a
 * snapshot of the database to prove a refused request wrote nothing. The same seed gives
 * the same requests (`CASHLOOP_FUZZ_SEED` picks another one).
 */

export const fuzzSeed = (fallback = 'cashloop'): string => process.env.CASHLOOP_FUZZ_SEED ?? fallback;

/** A number written into the JSON text as it is (`1e400`, `9007199254740993`), which JSON.stringify cannot. */
export class RawNumber {
  constructor(readonly text: string) {}
}

/** JSON text of `value`, with every RawNumber written out raw. */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawNumber) {
      raws.push(v.text);
      return `\u0001raw${raws.length - 1}\u0001`;
    }
    return v;
  });
  return (text ?? 'null').replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

const nested = (depth: number, inner: unknown, asArray: boolean): unknown => {
  let v = inner;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
};

/** Text that breaks one rule or another: control characters, half surrogates, escapes, huge, odd. */
export const JUNK_TEXT = [
  '', ' ', '\t', 'NaN', 'Infinity', '-Infinity', 'null', 'true', '-1', '0', '1e400', '-0', '0x10', '1_000',
  '9007199254740993', '2147483648', '99999999999999999999.99', '100000000000.00', '99999999999.99', '0.001', '12,50', '1.2.3', '+5', ' 7 ',
  'a\u0000b', '\u0000', 'x\u0001y', 'tab\there', 'line\nbreak', 'cr\rhere', '\u001f', 'del\u007f', '\u0085next', '\ud800', 'lone \udc00 low',
  '🚚 Lieferung', 'مرحبا', 'Ω≈ç√', '\u202eevil', '\ufeffbom', 'é'.normalize('NFD'),
  '%00', '%E0%A4%A', '%25', '%ZZ', '../../etc/passwd', '..\\..\\boot.ini', "' OR 1=1 --", '"; drop table customers; --', '<script>alert(1)</script>',
  '2026-02-30', '2026-02-29', '2026-13-01', '0000-00-00', '0001-01-01', '1900-01-01', '9999-12-31', '2026-3-2', '2026-03-02T25:00:00Z', '2026-00', '2026-13', '9999-99',
  '{"a":1}', '[]', 'INV-2026-000001', 'INV-9999-999999', 'IMP-', 'WIDGET', 'x'.repeat(201), 'y'.repeat(5000), '9'.repeat(400),
];

const JUNK_NUMBERS = [0, -1, 1, 2, 7, 365, 366, 500, 501, 1000, 2_147_483_647, 2_147_483_648, -2_147_483_649, 999_999_999, 1_000_000_000, 2 ** 53 - 1, 2 ** 53, 1.5, -0.5, 1e21, -1e21, 1e308];
const JUNK_RAW = ['9007199254740993', '1e400', '-1e400', '1e-400', '123456789012345678901234567890', '0.1e1', '-0', '1E2'];

/** Seeded junk values and mutations. */
export class Fuzzer {
  readonly rng: Random;
  constructor(seed: string) {
    this.rng = new Random(seed);
  }

  text(): string {
    return this.rng.pick(JUNK_TEXT);
  }

  /** Any junk JSON value: wrong types, huge and tiny numbers, raw numbers, nested junk, text. */
  value(): unknown {
    const r = this.rng;
    switch (r.int(0, 11)) {
      case 0:
      case 1:
      case 2:
        return this.text();
      case 3:
        return r.pick(JUNK_NUMBERS);
      case 4:
        return new RawNumber(r.pick(JUNK_RAW));
      case 5:
        return r.pick([null, true, false]);
      case 6:
        return r.pick([[], {}, [this.text()], { [this.text()]: this.text() }]);
      case 7:
        return nested(r.pick([2, 10, 40, 200]), this.text(), r.chance(0.5));
      case 8:
        return Array.from({ length: r.pick([2, 50, 600]) }, () => r.pick(JUNK_NUMBERS));
      case 9:
        return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as unknown;
      case 10:
        return String(r.pick(JUNK_NUMBERS));
      default:
        return `${this.text()}${this.text()}`;
    }
  }

  /** A copy of a valid JSON body with one or two things broken in it. */
  mutateBody(body: unknown): { body: unknown; how: string } {
    const r = this.rng;
    const kind = r.int(0, 9);
    if (kind === 0) {
      const junk = this.value();
      return { body: junk, how: 'whole body replaced' };
    }
    const copy = structuredClone(body) as unknown;
    const paths = leafPaths(copy);
    if (paths.length === 0 || copy === null || typeof copy !== 'object') return { body: this.value(), how: 'whole body replaced' };
    const path = r.pick(paths);
    if (kind === 1) {
      removeAt(copy, path);
      return { body: copy, how: `removed ${path.join('.')}` };
    }
    if (kind === 2) {
      // defineProperty: a plain assignment to `__proto__` would set the prototype, not a field.
      Object.defineProperty(copy, r.pick(['extra', 'id', 'status', '__proto__', 'constructor', this.text()]), { value: this.value(), enumerable: true, writable: true, configurable: true });
      return { body: copy, how: 'extra field' };
    }
    setAt(copy, path, this.value());
    const rest = leafPaths(copy);
    if (kind === 3 && rest.length > 0) setAt(copy, r.pick(rest), this.value());
    return { body: copy, how: `changed ${path.join('.')}` };
  }

  /** A path segment that is no good id, number or name, percent-encoded or not. */
  pathValue(): string {
    const r = this.rng;
    const raw = r.pick(['0', '-1', '1.5', '2147483647', '2147483648', '9007199254740993', '1e400', 'NaN', 'abc', ' ', 'x'.repeat(101), 'x'.repeat(99)]);
    const escaped = r.pick(['%00', '%E0%A4%A', '%25', '%ZZ', '%', '%2e%2e%2f%2e%2e%2fetc', '..%2F..%2F', '%0A', '%C0%AF', '%F0%9F%9A%9A', '%20%20', '%u0041']);
    return r.chance(0.5) ? encode(raw) : escaped;
  }

  /** A query string that breaks a rule: bad escapes, junk values, repeated or unknown names. */
  query(valid: Record<string, string>): string {
    const r = this.rng;
    const entries = Object.entries(valid).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    const names = Object.keys(valid);
    const name = names.length && r.chance(0.7) ? r.pick(names) : r.pick(['after', 'limit', 'customerId', 'status', 'x', 'key', 'token']);
    const value = r.chance(0.5) ? encode(this.text()) : r.pick(['%ZZ', '%E0%A4%A', '%00', '%', '1e400', '-1e400', '2147483648', '9007199254740993', 'NaN', '%FF%FE', '+', '%2B1']);
    switch (r.int(0, 3)) {
      case 0:
        return [...entries.filter((e) => !e.startsWith(`${encodeURIComponent(name)}=`)), `${encodeURIComponent(name)}=${value}`].join('&');
      case 1:
        return [...entries, `${encodeURIComponent(name)}=${value}`, `${encodeURIComponent(name)}=${value}`].join('&');
      case 2:
        return [...entries, `${r.pick(['%ZZ', '%00', 'a%E0', encode(this.text())])}=${value}`].join('&');
      default:
        return `${entries.join('&')}&${value}`;
    }
  }
}

/**
 * encodeURIComponent that does not throw on half a surrogate pair: it is written as the
 * three bytes UTF-8 forbids for it (`%ED%A0%80`), one more escape that must not decode.
 */
export function encode(text: string): string {
  return text
    .split(/([\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF])/)
    .map((part) => (part.length === 1 && /[\uD800-\uDFFF]/.test(part) ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

type Path = (string | number)[];

function leafPaths(value: unknown, at: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return at.length ? [at] : [];
  const children = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  const out: Path[] = at.length ? [at] : [];
  for (const [k, v] of children) out.push(...leafPaths(v, [...at, k]));
  return out;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let v = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) v = v[k] as Record<string | number, unknown>;
  return v;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  parentOf(root, path)[path.at(-1)!] = value;
}

function removeAt(root: unknown, path: Path): void {
  const parent = parentOf(root, path);
  if (Array.isArray(parent)) parent.splice(Number(path.at(-1)), 1);
  else delete parent[path.at(-1)!];
}

/**
 * Row counts of every table of the core and the highest event number, in one query: equal
 * before and after a request means the request wrote nothing (every change writes an event).
 * Returns the function that takes the snapshot; the table list is read once.
 */
export async function databaseSnapshot(core: Core): Promise<() => Promise<Record<string, string>>> {
  const tables =
    core.db.dialect === 'postgres'
      ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`.execute(core.db.kysely)).rows
      : (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by 1`.execute(core.db.kysely)).rows;
  const parts = tables.map((t) => `select '${t.name}' as name, count(*) as n from "${t.name}"`);
  parts.push(`select 'events.max_seq' as name, coalesce(max(seq), 0) as n from events`);
  const query = sql<{ name: string; n: number | string }>`${sql.raw(parts.join(' union all '))}`;
  return async () => Object.fromEntries((await query.execute(core.db.kysely)).rows.map((r) => [r.name, String(r.n)]));
}

/** What changed between two snapshots (`orders 3→4`), leaving out the tables named in `except`; empty when nothing did. */
export function snapshotChanges(before: Record<string, string>, after: Record<string, string>, except: string[] = []): string {
  return Object.keys({ ...before, ...after })
    .filter((k) => !except.includes(k) && before[k] !== after[k])
    .map((k) => `${k} ${before[k] ?? '-'}→${after[k] ?? '-'}`)
    .join(', ');
}
