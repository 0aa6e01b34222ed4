import fs from 'node:fs';
import path from 'node:path';
import { DomainError, invalid } from '../../src/shared/errors.ts';
import { columnsOf, extractEntities } from '../schema.ts';

/**
 * How one source file feeds one canonical entity. A file may appear in several entries:
 * the IBM sample holds customers and invoices in one table.
 */
export interface MappingEntry {
  /** File name inside the extract folder (`.csv` or `.parquet`). */
  file: string;
  /** Canonical entity: customers, products, order_lines, invoices, payments. */
  entity: string;
  /** Canonical column → source column. Unlisted canonical columns keep their own name when the file has it. */
  columns?: Record<string, string>;
  /** Canonical column → constant value for every row. */
  constants?: Record<string, string>;
  /** strptime format of the file's dates, e.g. `%m/%d/%Y`; default ISO `YYYY-MM-DD`. */
  date_format?: string;
  /** Words meaning true and false (case-insensitive); defaults true/yes/1 and false/no/0. */
  true_values?: string[];
  false_values?: string[];
  /** CSV delimiter, default `,`. */
  delimiter?: string;
}

export interface Mapping {
  /** Name of the source; keys in the warehouse are `<source>:<id>`. */
  source: string;
  description?: string;
  files: MappingEntry[];
}

/** Reads and checks a mapping file. */
export function readMapping(file: string): Mapping {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(`mapping ${file} cannot be read: ${(error as Error).message}`, { entity: 'mapping', id: file, rule: 'readable_json' });
  }
  const m = parsed as Partial<Mapping>;
  const problems: { message: string; field: string }[] = [];
  if (typeof m.source !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(m.source)) problems.push({ field: 'source', message: 'source must be a short name (letters, digits, - and _)' });
  if (!Array.isArray(m.files) || m.files.length === 0) problems.push({ field: 'files', message: 'files must list at least one file' });
  for (const [i, f] of (m.files ?? []).entries()) {
    if (!f || typeof f.file !== 'string') problems.push({ field: `files.${i}.file`, message: `files.${i}.file must name a file` });
    if (!f || !(f.entity in extractEntities)) problems.push({ field: `files.${i}.entity`, message: `files.${i}.entity must be one of ${Object.keys(extractEntities).join(', ')}` });
    const known = new Set(columnsOf(f?.entity ?? '').map((c) => c.name));
    for (const c of [...Object.keys(f?.columns ?? {}), ...Object.keys(f?.constants ?? {})]) {
      if (!known.has(c)) problems.push({ field: `files.${i}.columns.${c}`, message: `files.${i}: ${c} is not a canonical column of ${f.entity}` });
    }
  }
  if (problems.length) {
    throw new DomainError('invalid', `mapping ${file} is invalid: ${problems[0]!.message}`, { entity: 'mapping', id: file, rule: 'mapping_shape' }, problems);
  }
  return m as Mapping;
}

/** The mapping of a folder in the canonical layout: one `<entity>.csv|.parquet` per entity, canonical names. */
export function canonicalMapping(dir: string): Mapping {
  const files: MappingEntry[] = [];
  for (const entity of Object.keys(extractEntities)) {
    for (const ext of ['csv', 'parquet']) {
      if (fs.existsSync(path.join(dir, `${entity}.${ext}`))) files.push({ file: `${entity}.${ext}`, entity });
    }
  }
  if (files.length === 0) {
    throw invalid(`extract folder ${dir} holds no canonical file (customers, products, order_lines, invoices, payments as .csv or .parquet)`, {
      entity: 'extract',
      id: dir,
      rule: 'canonical_files',
    });
  }
  return { source: path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9_-]/g, '-'), files };
}
