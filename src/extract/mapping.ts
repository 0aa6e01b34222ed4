import fs from 'node:fs';
import path from 'node:path';
import { DomainError, invalid } from '../shared/errors.ts';
import { EXTRACT_ENTITIES, extractColumns, isExtractEntity, type ExtractEntity } from './contract.ts';
import { compileDateFormat } from './values.ts';

/**
 * A mapping adapts a file in another layout to the canonical extract (docs/extract.md): which
 * source column feeds which canonical column, how dates, decimals and booleans are written,
 * and constant values for columns the source does not have. One reader serves onboarding,
 * the warehouse ingest and the bank CSV reader, in two spellings.
 *
 * The long form lists files (e.g. pipelines/mappings/ibm-ar.json); one file may feed several
 * entities, and columns map canonical column → source column:
 *
 * ```json
 * { "source": "ibm-ar", "files": [ { "file": "ar.csv", "entity": "invoices",
 *   "columns": { "invoice_id": "invoiceNumber" }, "constants": { "currency": "USD" },
 *   "date_format": "%m/%d/%Y", "true_values": ["Yes"], "false_values": ["No"],
 *   "delimiter": ";", "decimal_separator": "," } ] }
 * ```
 * The short form keys one mapping per entity and maps source column → canonical column:
 *
 * ```json
 * { "invoices": { "columns": { "invoiceNumber": "invoice_id", "InvoiceAmount": "amount" },
 *                 "dateFormat": "M/D/YYYY", "true": ["Yes"], "false": ["No"],
 *                 "constants": { "currency": "USD" }, "delimiter": ",", "decimalSeparator": "." } }
 * ```
 * Source columns that already carry a canonical name (any case) need no entry.
 */
export interface FileMapping {
  /** source column → canonical column */
  columns?: Record<string, string>;
  /** canonical column → source column (the long form; one source column may feed several). */
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

/** One file of an extract folder and how it feeds one canonical entity. */
export interface ExtractFile {
  /** File name inside the extract folder (`.csv` or `.parquet`). */
  file: string;
  entity: ExtractEntity;
  mapping: FileMapping;
}

/** A whole extract: its source name (warehouse keys are `<source>:<id>`) and its files. */
export interface ExtractMapping {
  source: string;
  description?: string;
  files: ExtractFile[];
}

const MAPPING_KEYS = new Set(['columns', 'dateFormat', 'true', 'false', 'constants', 'delimiter', 'decimalSeparator']);
const LONG_KEYS = new Set(['file', 'entity', 'columns', 'constants', 'date_format', 'true_values', 'false_values', 'delimiter', 'decimal_separator']);

/** strptime (`%m/%d/%Y`) → the reader's tokens (`M/D/YYYY`); months and days may be unpadded, as strptime allows. */
export function strptimeToTokens(format: string, where: string): string {
  return format.replace(/%-?([a-zA-Z%])/g, (whole, c: string) => {
    const t = ({ Y: 'YYYY', y: 'YY', m: 'M', d: 'D', '%': '%' } as Record<string, string>)[c];
    if (!t) throw invalid(`${where}: date_format ${format} uses ${whole}; only %Y %y %m %d are read`, { field: 'mapping.date_format', value: format, rule: 'date_format_pattern' });
    return t;
  });
}

interface LongEntry {
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

function fromLong(entry: LongEntry, where: string): FileMapping {
  for (const k of Object.keys(entry)) {
    if (!LONG_KEYS.has(k)) throw invalid(`${where}: unknown mapping key ${k} (allowed: ${[...LONG_KEYS].join(', ')})`, { field: `mapping.${k}`, value: k, rule: 'mapping_key' });
  }
  const m: Record<string, unknown> = {};
  if (entry.constants) m.constants = entry.constants;
  if (entry.date_format) m.dateFormat = strptimeToTokens(entry.date_format, where);
  if (entry.true_values) m.true = entry.true_values;
  if (entry.false_values) m.false = entry.false_values;
  if (entry.delimiter) m.delimiter = entry.delimiter;
  if (entry.decimal_separator) m.decimalSeparator = entry.decimal_separator;
  const checked = checkMapping(m, where);
  const pick = entry.columns;
  if (pick !== undefined) {
    if (!pick || typeof pick !== 'object' || Array.isArray(pick) || Object.values(pick).some((x) => typeof x !== 'string')) {
      throw invalid(`${where}: columns must map names to strings`, { field: 'mapping.columns', value: pick, rule: 'mapping_shape' });
    }
    checked.pick = pick;
  }
  return checked;
}

function readJson(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalid(`mapping ${file} is not readable JSON: ${(e as Error).message}`, { field: 'mapping', value: file, rule: 'mapping_json' });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`mapping ${file} must be a JSON object`, { field: 'mapping', value: file, rule: 'mapping_shape' });
  return raw as Record<string, unknown>;
}

/** Canonical columns a mapping names must exist in the entity's file layout. */
function checkCanonicalNames(m: FileMapping, entity: ExtractEntity, where: string): void {
  const known = new Set(extractColumns(entity).map((c) => c.name));
  const named = [...Object.keys(m.pick ?? {}), ...Object.keys(m.constants ?? {}), ...Object.values(m.columns ?? {})];
  for (const c of named) {
    if (!known.has(c)) throw invalid(`${where}: ${c} is not a canonical column of ${entity} (columns: ${[...known].join(', ')})`, { field: `mapping.${entity}.${c}`, value: c, rule: 'mapping_column' });
  }
}

const ENTITY_ALIASES: Record<string, ExtractEntity> = { orders: 'order_lines' };

function entityOf(name: string): ExtractEntity | null {
  if (isExtractEntity(name)) return name;
  return ENTITY_ALIASES[name] ?? null;
}

/**
 * Reads a mapping file for the whole extract folder `dir`: the long form lists its files;
 * the short form names the entities, whose files are `<entity>.csv|.parquet` in the folder.
 * The source name is the mapping's `source`, else the folder's name.
 */
export function readExtractMapping(file: string, dir?: string): ExtractMapping {
  const obj = readJson(file);
  const where = `mapping ${file}`;
  if (Array.isArray(obj.files)) {
    const problems: { message: string; field: string }[] = [];
    if (typeof obj.source !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(obj.source)) problems.push({ field: 'source', message: 'source must be a short name (letters, digits, - and _)' });
    if (obj.files.length === 0) problems.push({ field: 'files', message: 'files must list at least one file' });
    const files: ExtractFile[] = [];
    for (const [i, f] of (obj.files as LongEntry[]).entries()) {
      const entity = f && typeof f.entity === 'string' ? entityOf(f.entity) : null;
      if (!f || typeof f.file !== 'string') problems.push({ field: `files.${i}.file`, message: `files.${i}.file must name a file` });
      if (!entity) problems.push({ field: `files.${i}.entity`, message: `files.${i}.entity must be one of ${EXTRACT_ENTITIES.join(', ')}` });
      if (!f || typeof f.file !== 'string' || !entity) continue;
      const mapping = fromLong(f, `${where} files.${i}`);
      checkCanonicalNames(mapping, entity, `${where} files.${i}`);
      files.push({ file: f.file, entity, mapping });
    }
    if (problems.length) {
      throw new DomainError('invalid', `${where} is invalid: ${problems[0]!.message}`, { entity: 'mapping', id: file, field: problems[0]!.field, rule: 'mapping_shape' }, problems);
    }
    return { source: obj.source as string, ...(typeof obj.description === 'string' ? { description: obj.description } : {}), files };
  }
  if (!dir) throw invalid(`${where} names no files: give the extract folder, or list the files (long form)`, { field: 'mapping.files', value: file, rule: 'mapping_shape' });
  const canonical = canonicalMapping(dir);
  const files: ExtractFile[] = [];
  for (const f of canonical.files) {
    const key = Object.keys(obj).find((k) => entityOf(k) === f.entity);
    const mapping = key ? checkMapping(obj[key], `${where} ${key}`) : {};
    checkCanonicalNames(mapping, f.entity, `${where} ${key ?? f.entity}`);
    files.push({ ...f, mapping });
  }
  return { ...canonical, ...(typeof obj.source === 'string' ? { source: obj.source } : {}), files };
}

/**
 * Reads a mapping file and returns the mapping for `entity` (or the file's single mapping).
 * In the long form, when several entries name the entity, the one whose `file` is the
 * input's file name wins.
 */
export function loadMapping(file: string, entity: string, aliases: string[] = [], inputFile?: string): FileMapping {
  const obj = readJson(file);
  const names = [entity, ...aliases];
  if (Array.isArray(obj.files)) {
    const entries = (obj.files as LongEntry[]).filter((f) => f && names.includes(String(f.entity)));
    const base = inputFile ? path.basename(inputFile) : undefined;
    const entry = entries.find((f) => f.file === base) ?? entries[0];
    if (!entry) throw invalid(`mapping ${file} has no entry for ${names.join(' or ')} (entities: ${(obj.files as LongEntry[]).map((f) => f?.entity).join(', ')})`, { field: 'mapping', value: file, rule: 'mapping_entity' });
    return fromLong(entry, `mapping ${file}`);
  }
  const key = names.find((k) => k in obj);
  const m = key ? obj[key] : Object.keys(obj).some((k) => MAPPING_KEYS.has(k)) ? obj : undefined;
  if (!m) throw invalid(`mapping ${file} has no entry for ${entity} (keys: ${Object.keys(obj).join(', ')})`, { field: 'mapping', value: file, rule: 'mapping_entity' });
  return checkMapping(m, `mapping ${file}`);
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
  return { ...o } as FileMapping;
}

/** The mapping of a folder in the canonical layout: one `<entity>.csv|.parquet` per entity (`orders.*` for order lines too), canonical names. */
export function canonicalMapping(dir: string): ExtractMapping {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw invalid(`extract folder ${dir} does not exist`, { field: 'folder', value: dir, rule: 'folder_exists' });
  const names = fs.readdirSync(dir);
  const files: ExtractFile[] = [];
  for (const entity of EXTRACT_ENTITIES) {
    const stem = entity === 'order_lines' ? '(order_lines|orders)' : entity;
    const name = names.filter((n) => new RegExp(`^${stem}\\.(csv|parquet)$`, 'i').test(n)).sort()[0];
    if (name) files.push({ file: name, entity, mapping: {} });
  }
  if (files.length === 0) {
    throw invalid(`extract folder ${dir} holds no canonical file (${EXTRACT_ENTITIES.map((e) => `${e}.csv`).join(', ')}, or .parquet; see docs/extract.md)`, { field: 'folder', value: dir, rule: 'canonical_files' });
  }
  return { source: path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9_-]/g, '-'), files };
}

/** Turns the source header into canonical names: mapped columns, else the name itself (trimmed, lower-cased). */
export function canonicalHeader(header: string[], mapping: FileMapping): string[] {
  const cols = mapping.columns ?? {};
  return header.map((h) => {
    const name = h.trim();
    return cols[name] ?? cols[h] ?? name.toLowerCase();
  });
}

/** Where each canonical column comes from: the header position of its source column. */
export function columnPositions(header: string[], mapping: FileMapping): Map<string, number> {
  const positions = new Map<string, number>();
  canonicalHeader(header, mapping).forEach((name, i) => {
    if (!positions.has(name)) positions.set(name, i);
  });
  for (const [name, sourceColumn] of Object.entries(mapping.pick ?? {})) {
    const i = header.findIndex((h) => h.trim() === sourceColumn);
    if (i < 0) throw invalid(`the mapping takes ${name} from column ${sourceColumn}, which the file does not have (header: ${header.join(', ')})`, { field: name, value: sourceColumn, rule: 'column_required' });
    positions.set(name, i);
  }
  return positions;
}

/** The decimal separator of a file: the mapping's, else `,` when fields are split by `;`, else `.`. */
export function decimalSeparatorOf(mapping: FileMapping): '.' | ',' {
  return mapping.decimalSeparator ?? (mapping.delimiter === ';' ? ',' : '.');
}
