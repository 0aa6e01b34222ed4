import { invalid } from '../shared/errors.ts';
import { isBusinessDate } from '../shared/dates.ts';
import { currencyExponent, parseAmount } from '../shared/money.ts';

/**
 * How the canonical extract's values are written and read: dates in a token format, decimals
 * with either separator, true/false words, amounts by their currency's exponent, product codes.
 * Each reader has its SQL twin (`sqlDate`, `sqlDecimal`, `sqlBoolean`) for the warehouse
 * ingest, built from the same patterns and word lists, so both paths accept the same values
 * (tests/onboarding/extract-values.test.ts runs one table of values through both).
 */

const TOKENS: [string, string, 'y' | 'yy' | 'm' | 'd'][] = [
  ['YYYY', '(\\d{4})', 'y'],
  ['YY', '(\\d{2})', 'yy'],
  ['MM', '(\\d{2})', 'm'],
  ['M', '(\\d{1,2})', 'm'],
  ['DD', '(\\d{2})', 'd'],
  ['D', '(\\d{1,2})', 'd'],
];

interface DatePattern {
  /** Anchored pattern, valid in JavaScript and in DuckDB (RE2). */
  source: string;
  re: RegExp;
  /** What each capture group holds, in order. */
  parts: ('y' | 'yy' | 'm' | 'd')[];
}

const compiled = new Map<string, DatePattern>();

function datePattern(format: string): DatePattern {
  const hit = compiled.get(format);
  if (hit) return hit;
  let re = '';
  const parts: DatePattern['parts'] = [];
  for (let i = 0; i < format.length; ) {
    const tok = TOKENS.find(([t]) => format.startsWith(t, i));
    if (tok) {
      if (parts.some((p) => p[0] === tok[2][0])) throw invalid(`date format ${format} names a part twice`, { field: 'mapping.dateFormat', value: format, rule: 'date_format_pattern' });
      parts.push(tok[2]);
      re += tok[1];
      i += tok[0].length;
    } else {
      re += format[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i += 1;
    }
  }
  if (!parts.some((p) => p[0] === 'y') || !parts.includes('m') || !parts.includes('d')) {
    throw invalid(`date format ${format} must have a year, a month and a day`, { field: 'mapping.dateFormat', value: format, rule: 'date_format_pattern' });
  }
  const source = `^${re}$`;
  const out = { source, re: new RegExp(source), parts };
  compiled.set(format, out);
  return out;
}

/** Checks a date format (tokens YYYY, YY, MM, M, DD, D) and returns its pattern. */
export function compileDateFormat(format: string): RegExp {
  return datePattern(format).re;
}

export const DEFAULT_DATE_FORMAT = 'YYYY-MM-DD';

/** A two-digit year: 00–69 are 2000–2069, 70–99 are 1970–1999. */
const fullYear = (yy: string) => (Number(yy) < 70 ? `20${yy}` : `19${yy}`);

/** A date in the file's format as `YYYY-MM-DD`, or null when it is not a real date in that format. */
export function parseDate(text: string, format = DEFAULT_DATE_FORMAT): string | null {
  const p = datePattern(format);
  const m = p.re.exec(text.trim());
  if (!m) return null;
  const g: Record<string, string> = {};
  p.parts.forEach((part, i) => (g[part] = m[i + 1]!));
  const iso = `${g.y ?? fullYear(g.yy!)}-${g.m!.padStart(2, '0')}-${g.d!.padStart(2, '0')}`;
  return isBusinessDate(iso) ? iso : null;
}

function decimalPattern(separator: '.' | ','): { source: string; group: string } {
  const group = separator === ',' ? '\\.' : ',';
  const sep = separator === ',' ? ',' : '\\.';
  return { source: `^([-+]?)(\\d{1,3}(?:${group}\\d{3})+|\\d+)(?:${sep}(\\d+))?$`, group };
}

/** Spaces (also no-break) and apostrophes group thousands in many extracts; they are dropped. */
const GROUPING = /[\s\u00a0']/g;

/**
 * A decimal as written in the file, rewritten with a dot: `1.234,56` with a decimal comma →
 * `1234.56`; `1,234.56` with a dot → `1234.56`. Null when it is not a number.
 */
export function normaliseDecimal(text: string, separator: '.' | ','): string | null {
  const t = text.trim().replace(GROUPING, '');
  if (t === '') return null;
  const { source, group } = decimalPattern(separator);
  const m = new RegExp(source).exec(t);
  if (!m) return null;
  const whole = m[2]!.replace(new RegExp(group, 'g'), '');
  return `${m[1] === '-' ? '-' : ''}${whole}${m[3] !== undefined ? `.${m[3]}` : ''}`;
}

/** The words for true and false when a mapping names none (compared in lower case). */
export const DEFAULT_TRUE = ['true', 'yes', 'y', '1', 't'];
export const DEFAULT_FALSE = ['false', 'no', 'n', '0', 'f'];

export function booleanWords(mapping: { true?: string[]; false?: string[] }): { yes: string[]; no: string[] } {
  return { yes: (mapping.true ?? DEFAULT_TRUE).map((w) => w.trim().toLowerCase()), no: (mapping.false ?? DEFAULT_FALSE).map((w) => w.trim().toLowerCase()) };
}

/** true/false from the file's words (case-insensitive); null when the word is neither. */
export function parseBoolean(text: string, mapping: { true?: string[]; false?: string[] }): boolean | null {
  const t = text.trim().toLowerCase();
  const { yes, no } = booleanWords(mapping);
  if (yes.includes(t)) return true;
  if (no.includes(t)) return false;
  return null;
}

/**
 * An extract amount (already normalised to a dot) in minor units of `currency`: refused when
 * it has more decimals than the currency's exponent (`amount_precision`, e.g. 12.345 EUR or
 * 5.5 JPY), is beyond the largest amount (`amount_max`) or is negative (`amount_not_negative`).
 * Zero is an amount: a free-of-charge invoice is a document like any other.
 */
export function parseExtractAmount(normalised: string, currency: string, field: string): number {
  const minor = parseAmount(normalised, currency, field);
  if (minor < 0) throw invalid(`${field} ${normalised} is negative`, { field, value: normalised, rule: 'amount_not_negative' });
  return minor;
}

/** Decimals a currency allows, for the SQL twin of the precision rule. */
export const exponentOf = currencyExponent;

/**
 * The SKU cashloop gives a product code from another system: upper case; every run of
 * characters other than letters, digits, dot, dash and underscore becomes one dash; at most
 * 64 characters. `BANK CHARGES` → `BANK-CHARGES`, `c2` → `C2`, `15c/bag` → `15C-BAG`. The code
 * itself is kept as the product's external code, so two codes that meet on one SKU (`post`
 * and `POST`) stay two products: the second gets a numbered SKU (see `nextSku`).
 */
export function skuOf(code: string): string {
  const s = code.trim().toUpperCase().replace(/[^A-Z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '');
  return (s === '' ? 'ITEM' : s).slice(0, 64);
}

/** The numbered SKU for the n-th product code (n ≥ 2) that meets others on `sku`. */
export function nextSku(sku: string, n: number): string {
  const suffix = `-${n}`;
  return `${sku.slice(0, 64 - suffix.length)}${suffix}`;
}

// --- SQL twins (DuckDB) -----------------------------------------------------------------

/** A SQL string literal. */
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * SQL turning a text expression in `format` into `YYYY-MM-DD` text, or null when it is not a
 * real date in that format (the same pattern and two-digit-year rule as `parseDate`).
 */
export function sqlDate(expr: string, format = DEFAULT_DATE_FORMAT): string {
  const p = datePattern(format);
  const group = (part: string) => `regexp_extract(trim(${expr}), ${lit(p.source)}, ${p.parts.indexOf(part as never) + 1})`;
  const year = p.parts.includes('y') ? group('y') : `case when cast(${group('yy')} as integer) < 70 then '20' else '19' end || ${group('yy')}`;
  return `case when regexp_full_match(trim(${expr}), ${lit(p.source)}) then strftime(try_cast(${year} || '-' || lpad(${group('m')}, 2, '0') || '-' || lpad(${group('d')}, 2, '0') as date), '%Y-%m-%d') end`;
}

/** SQL rewriting a decimal text expression with a dot, or null when it is not a number (as `normaliseDecimal`). */
export function sqlDecimal(expr: string, separator: '.' | ','): string {
  const { source, group } = decimalPattern(separator);
  const t = `regexp_replace(trim(${expr}), '[\\s\\x{00a0}'']', '', 'g')`;
  const plain = group === ',' ? `replace(${t}, ',', '')` : `replace(replace(${t}, '.', ''), ',', '.')`;
  return `case when regexp_full_match(${t}, ${lit(source)}) then regexp_replace(${plain}, '^\\+', '') end`;
}

/** SQL turning a word into 'true' or 'false', or null when it is neither (as `parseBoolean`). */
export function sqlBoolean(expr: string, mapping: { true?: string[]; false?: string[] }): string {
  const { yes, no } = booleanWords(mapping);
  const list = (ws: string[]) => ws.map(lit).join(', ');
  return `case when lower(trim(${expr})) in (${list(yes)}) then 'true' when lower(trim(${expr})) in (${list(no)}) then 'false' end`;
}
