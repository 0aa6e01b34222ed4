import fs from 'node:fs';
import { invalid } from '../shared/errors.ts';
import { isBusinessDate } from '../shared/dates.ts';

/**
 * A mapping adapts a file in another layout to the canonical extract (DESIGN.md): which
 * source column feeds which canonical column, how dates, decimals and booleans are written,
 * and constant values for columns the source does not have.
 *
 * Two spellings are read. The warehouse's mapping format (pipelines/ingest/mapping.ts,
 * e.g. pipelines/mappings/ibm-ar.json) is the shared one:
 *
 * ```json
 * { "source": "ibm-ar", "files": [ { "file": "ar.csv", "entity": "invoices",
 *   "columns": { "invoice_id": "invoiceNumber" }, "constants": { "currency": "USD" },
 *   "date_format": "%m/%d/%Y", "true_values": ["Yes"], "false_values": ["No"],
 *   "delimiter": ";", "decimal_separator": "," } ] }
 * ```
 * (canonical column → source column; `decimal_separator` is an addition the importer reads.)
 * The short form keys one mapping per entity and maps source column → canonical column:
 *
 * ```json
 * { "invoices": { "columns": { "invoiceNumber": "invoice_id", "InvoiceAmount": "amount" },
 *                 "dateFormat": "M/D/YYYY", "true": ["Yes"], "false": ["No"],
 *                 "constants": { "currency": "USD" }, "delimiter": ",", "decimalSeparator": "." } }
 * ```
 * Source columns that already carry a canonical name need no entry.
 */
export interface FileMapping {
  /** source column → canonical column */
  columns?: Record<string, string>;
  /** canonical column → source column (the shared format; one source column may feed several). */
  pick?: Record<string, string>;
  /** tokens YYYY, YY, MM, M, DD, D; everything else is literal. Default `YYYY-MM-DD`. */
  dateFormat?: string;
  true?: string[];
  false?: string[];
  /** canonical column → value used when the source has no such column (or leaves it empty) */
  constants?: Record<string, string>;
  /** CSV field delimiter; default: detected from the header line (`,` `;` or tab). */
  delimiter?: string;
  /** `.` or `,`; default `.`, or `,` when the delimiter is `;`. */
  decimalSeparator?: '.' | ',';
}

const MAPPING_KEYS = new Set(['columns', 'dateFormat', 'true', 'false', 'constants', 'delimiter', 'decimalSeparator']);

/** strptime (`%m/%d/%Y`) → the importer's tokens (`M/D/YYYY`); months and days may be unpadded, as strptime allows. */
export function strptimeToTokens(format: string, where: string): string {
  return format.replace(/%-?([a-zA-Z%])/g, (whole, c: string) => {
    const t = ({ Y: 'YYYY', y: 'YY', m: 'M', d: 'D', '%': '%' } as Record<string, string>)[c];
    if (!t) throw invalid(`${where}: date_format ${format} uses ${whole}; only %Y %y %m %d are read`, { field: 'mapping.date_format', value: format, rule: 'date_format_pattern' });
    return t;
  });
}

interface SharedEntry {
  file?: string;
  entity?: string;
  columns?: Record<string, string>;
  constants?: Record<string, string>;
  date_format?: string;
  true_values?: string[];
  false_values?: string[];
  delimiter?: string;
  decimal_separator?: string;
}

function fromShared(entry: SharedEntry, where: string): FileMapping {
  const m: Record<string, unknown> = {};
  if (entry.columns) m.pick = entry.columns;
  if (entry.constants) m.constants = entry.constants;
  if (entry.date_format) m.dateFormat = strptimeToTokens(entry.date_format, where);
  if (entry.true_values) m.true = entry.true_values;
  if (entry.false_values) m.false = entry.false_values;
  if (entry.delimiter) m.delimiter = entry.delimiter;
  if (entry.decimal_separator) m.decimalSeparator = entry.decimal_separator;
  const pick = m.pick;
  delete m.pick;
  const checked = checkMapping(m, where);
  if (pick !== undefined) {
    if (!pick || typeof pick !== 'object' || Object.values(pick).some((x) => typeof x !== 'string')) throw invalid(`${where}: columns must map names to strings`, { field: 'mapping.columns', value: pick, rule: 'mapping_shape' });
    checked.pick = pick as Record<string, string>;
  }
  return checked;
}

/**
 * Reads a mapping file and returns the mapping for `entity` (or the file's single mapping).
 * In the shared format, when several entries name the entity, the one whose `file` is the
 * input's file name wins.
 */
export function loadMapping(file: string, entity: string, aliases: string[] = [], inputFile?: string): FileMapping {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalid(`mapping ${file} is not readable JSON: ${(e as Error).message}`, { field: 'mapping', value: file, rule: 'mapping_json' });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`mapping ${file} must be a JSON object`, { field: 'mapping', value: file, rule: 'mapping_shape' });
  const obj = raw as Record<string, unknown>;
  if (Array.isArray(obj.files)) {
    const names = [entity, ...aliases];
    const entries = (obj.files as SharedEntry[]).filter((f) => f && names.includes(String(f.entity)));
    const base = inputFile ? inputFile.split(/[\\/]/).pop() : undefined;
    const entry = entries.find((f) => f.file === base) ?? entries[0];
    if (!entry) throw invalid(`mapping ${file} has no entry for ${names.join(' or ')} (entities: ${(obj.files as SharedEntry[]).map((f) => f?.entity).join(', ')})`, { field: 'mapping', value: file, rule: 'mapping_entity' });
    return fromShared(entry, `mapping ${file}`);
  }
  const key = [entity, ...aliases].find((k) => k in obj);
  const m = key ? obj[key] : Object.keys(obj).some((k) => MAPPING_KEYS.has(k)) ? obj : undefined;
  if (!m) throw invalid(`mapping ${file} has no entry for ${entity} (keys: ${Object.keys(obj).join(', ')})`, { field: 'mapping', value: file, rule: 'mapping_entity' });
  return checkMapping(m, file);
}

export function checkMapping(m: unknown, where = 'mapping'): FileMapping {
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw invalid(`${where}: a mapping must be an object`, { field: 'mapping', rule: 'mapping_shape' });
  const o = m as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!MAPPING_KEYS.has(k)) throw invalid(`${where}: unknown mapping key ${k} (allowed: ${[...MAPPING_KEYS].join(', ')})`, { field: `mapping.${k}`, value: k, rule: 'mapping_key' });
  }
  const strMap = (k: string) => {
    const v = o[k];
    if (v === undefined) return;
    if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      throw invalid(`${where}: ${k} must map names to strings`, { field: `mapping.${k}`, value: v, rule: 'mapping_shape' });
    }
  };
  strMap('columns');
  strMap('constants');
  for (const k of ['true', 'false']) {
    const v = o[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw invalid(`${where}: ${k} must be a list of words`, { field: `mapping.${k}`, value: v, rule: 'mapping_shape' });
  }
  if (o.decimalSeparator !== undefined && o.decimalSeparator !== '.' && o.decimalSeparator !== ',') {
    throw invalid(`${where}: decimalSeparator must be "." or ","`, { field: 'mapping.decimalSeparator', value: o.decimalSeparator, rule: 'one_of' });
  }
  if (o.delimiter !== undefined && (typeof o.delimiter !== 'string' || o.delimiter.length !== 1)) {
    throw invalid(`${where}: delimiter must be one character`, { field: 'mapping.delimiter', value: o.delimiter, rule: 'mapping_shape' });
  }
  if (o.dateFormat !== undefined) compileDateFormat(String(o.dateFormat));
  return o as FileMapping;
}

/** Turns the source header into canonical names: mapped columns, else the name itself (trimmed, lower-cased). */
export function canonicalHeader(header: string[], mapping: FileMapping): string[] {
  const cols = mapping.columns ?? {};
  return header.map((h) => {
    const name = h.trim();
    return cols[name] ?? cols[h] ?? name.toLowerCase();
  });
}

const TOKENS: [string, string, string][] = [
  ['YYYY', '(?<y>\\d{4})', 'y'],
  ['YY', '(?<yy>\\d{2})', 'yy'],
  ['MM', '(?<m>\\d{2})', 'm'],
  ['M', '(?<m>\\d{1,2})', 'm'],
  ['DD', '(?<d>\\d{2})', 'd'],
  ['D', '(?<d>\\d{1,2})', 'd'],
];

const compiled = new Map<string, RegExp>();

export function compileDateFormat(format: string): RegExp {
  const hit = compiled.get(format);
  if (hit) return hit;
  let re = '';
  const seen = new Set<string>();
  for (let i = 0; i < format.length; ) {
    const tok = TOKENS.find(([t]) => format.startsWith(t, i));
    if (tok) {
      if (seen.has(tok[2].slice(0, 1))) throw invalid(`date format ${format} names a part twice`, { field: 'mapping.dateFormat', value: format, rule: 'date_format_pattern' });
      seen.add(tok[2].slice(0, 1));
      re += tok[1];
      i += tok[0].length;
    } else {
      re += format[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i += 1;
    }
  }
  if (!seen.has('y') || !seen.has('m') || !seen.has('d')) throw invalid(`date format ${format} must have a year, a month and a day`, { field: 'mapping.dateFormat', value: format, rule: 'date_format_pattern' });
  const out = new RegExp(`^${re}$`);
  compiled.set(format, out);
  return out;
}

/** A date in the file's format as `YYYY-MM-DD`, or null when it is not a real date in that format. */
export function parseDate(text: string, format = 'YYYY-MM-DD'): string | null {
  const m = compileDateFormat(format).exec(text.trim());
  if (!m?.groups) return null;
  const g = m.groups;
  const year = g.y ?? (Number(g.yy) < 70 ? `20${g.yy}` : `19${g.yy}`);
  const iso = `${year}-${g.m!.padStart(2, '0')}-${g.d!.padStart(2, '0')}`;
  return isBusinessDate(iso) ? iso : null;
}

/**
 * A decimal as written in the file, rewritten with a dot for `parseAmount`: `1.234,56` with
 * a decimal comma → `1234.56`; `1,234.56` with a dot → `1234.56`. Null when it is not a number.
 */
export function normaliseDecimal(text: string, separator: '.' | ','): string | null {
  const t = text.trim().replace(/[\s\u00a0']/g, '');
  if (t === '') return null;
  const group = separator === ',' ? '\\.' : ',';
  const sep = separator === ',' ? ',' : '\\.';
  const re = new RegExp(`^([-+]?)(\\d{1,3}(?:${group}\\d{3})+|\\d+)(?:${sep}(\\d+))?$`);
  const m = re.exec(t);
  if (!m) return null;
  const whole = m[2]!.replace(new RegExp(group, 'g'), '');
  return `${m[1] === '-' ? '-' : ''}${whole}${m[3] !== undefined ? `.${m[3]}` : ''}`;
}

const DEFAULT_TRUE = ['true', 'yes', '1', 'y'];
const DEFAULT_FALSE = ['false', 'no', '0', 'n'];

/** true/false from the file's words (case-insensitive); null when the word is neither. */
export function parseBoolean(text: string, mapping: FileMapping): boolean | null {
  const t = text.trim().toLowerCase();
  const yes = (mapping.true ?? DEFAULT_TRUE).map((w) => w.toLowerCase());
  const no = (mapping.false ?? DEFAULT_FALSE).map((w) => w.toLowerCase());
  if (yes.includes(t)) return true;
  if (no.includes(t)) return false;
  return null;
}
