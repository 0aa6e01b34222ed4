import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const sqlDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'sql');

export const LAYERS = ['staging', 'marts', 'metrics'] as const;
export type Layer = (typeof LAYERS)[number];

/**
 * One SQL model: a file `sql/<layer>/<name>.sql` holding a single SELECT, built as the table
 * `<layer>.<name>`. Its header comments document it, and become the DuckDB comments:
 *
 *     -- table: Invoices as of the run's as-of date.
 *     -- grain: one row per invoice
 *     -- column invoice_key: `<source>:<id>` of the invoice
 *
 * A model is rebuilt whole on every run that changed what it reads, unless it declares how to
 * update it in place (see `pipelines/README.md`, "Incremental models"):
 *
 *     -- incremental key: invoice_key
 *     -- partition: month of invoice_date
 *     /* changed keys:
 *     select 'core:' || id as invoice_key from delta_staging_core_invoices
 *     *\/
 *
 * and may narrow its own scans with `/*incremental: … *\/` markers, which are SQL only in an
 * incremental update (in a full build they stay comments).
 *
 * A model that only adds up rows of one input (a GROUP BY of sums and counts) may instead say
 * which of its columns are sums and which counts its input rows:
 *
 *     -- incremental sums: amount_cents, amount, invoice_count
 *     -- incremental row count: invoice_count
 *
 * and is then updated by adding its SELECT over the input's new rows to the rows it has and
 * subtracting its SELECT over the input's replaced rows (a row whose count falls to zero goes).
 */
export interface Model {
  layer: Layer;
  name: string;
  file: string;
  sql: string;
  description: string;
  grain: string;
  columns: Map<string, string>;
  /** Models this one reads or whose changes it reads; they run first. */
  dependsOn: string[];
  /** Every `raw.`, `staging.`, `marts.`, `metrics.`, `forecast.` and `ops.` table or view the model reads, models or not. */
  reads: string[];
  /** Columns whose rows are replaced together in an incremental update; empty: always rebuilt whole. */
  incrementalKey: string[];
  /** The query naming the `incrementalKey` values whose rows may differ after this run's changes. */
  changedKeys: string | null;
  /** The `delta_<schema>_<table>` tables the changed-keys query reads. */
  deltaReads: string[];
  /** Columns that are sums over the input's rows: the model is updated by adding the delta's sums (empty: recomputed per key). */
  sums: string[];
  /** The sum column counting the input's rows: a row whose count falls to zero is removed. */
  rowCount: string | null;
  /** The one input whose delta a sums model adds (qualified name), or null. */
  sumsInput: string | null;
  /** Date column the table is published in monthly parts by, or null for one part. */
  partitionColumn: string | null;
  /** Hash of the file: a different definition is always rebuilt whole. */
  hash: string;
}

export function qualified(m: Pick<Model, 'layer' | 'name'>): string {
  return `${m.layer}.${m.name}`;
}

/** Name of the temporary table holding the rows a run changed in `schema.table` (see README). */
export function deltaTable(table: string): string {
  return `delta_${table.replace('.', '_')}`;
}

/** SQL expression naming the published part of a row of the model. */
export function partExpression(model: Pick<Model, 'partitionColumn'>): string {
  return model.partitionColumn ? `coalesce(strftime(${model.partitionColumn}, '%Y-%m'), 'none')` : `'all'`;
}

/**
 * SQL condition selecting the rows of the given parts: month ranges on the date column (so a
 * scan skips row groups by their min/max), `is null` for the part 'none', everything for 'all'.
 */
export function partFilter(column: string | null, parts: string[]): string {
  if (column === null || parts.includes('all')) return 'true';
  const col = `"${column}"`;
  const terms = parts.map((p) => {
    if (p === 'none') return `${col} is null`;
    const [y, m] = p.split('-').map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
    return `(${col} >= date '${p}-01' and ${col} < date '${next}-01')`;
  });
  return terms.length ? `(${terms.join(' or ')})` : 'false';
}

const CHANGED_KEYS = /\/\*\s*changed keys:\s*([\s\S]*?)\*\//i;
const MARKER = /\/\*\s*incremental:\s*([\s\S]*?)\*\//gi;

/** The model's SELECT for an incremental update: its `/*incremental: … *\/` markers become SQL. */
export function incrementalBody(model: Model): string {
  return body(model).replace(MARKER, (_, sql: string) => ` ${sql.trim()} `);
}

/** Matches a qualified table name in SQL text as a whole word. */
function inputPattern(table: string): RegExp {
  return new RegExp(`\\b${table.replace('.', '\\.')}\\b`, 'gi');
}

/**
 * A sums model's SELECT over the rows of its input's delta that carry `change` ('old' or
 * 'new') in place of the whole input.
 */
export function bodyOverDelta(model: Model, change: 'old' | 'new'): string {
  const input = model.sumsInput!;
  return body(model).replace(inputPattern(input), `(select * exclude (_change) from ${deltaTable(input)} where _change = '${change}')`);
}

/** The model's SELECT as a full build runs it (markers and the changed-keys block stay comments). */
export function body(model: Model): string {
  return model.sql.replace(CHANGED_KEYS, '').trim().replace(/;\s*$/, '');
}

/** Reads every model file and orders them so that each runs after the models it reads. */
export function loadModels(dir = sqlDir, salt = ''): Model[] {
  const models: Model[] = [];
  for (const layer of LAYERS) {
    const folder = path.join(dir, layer);
    if (!fs.existsSync(folder)) continue;
    for (const f of fs.readdirSync(folder).filter((x) => x.endsWith('.sql')).sort()) {
      const file = path.join(folder, f);
      const sql = fs.readFileSync(file, 'utf8');
      const columns = new Map<string, string>();
      let description = '';
      let grain = '';
      let incrementalKey: string[] = [];
      let partitionColumn: string | null = null;
      let sums: string[] = [];
      let rowCount: string | null = null;
      for (const line of sql.split('\n')) {
        const col = /^--\s*column\s+([a-z0-9_]+):\s*(.+)$/i.exec(line);
        if (col) columns.set(col[1]!, col[2]!.trim());
        const t = /^--\s*table:\s*(.+)$/i.exec(line);
        if (t) description += (description ? ' ' : '') + t[1]!.trim();
        const g = /^--\s*grain:\s*(.+)$/i.exec(line);
        if (g) grain = g[1]!.trim();
        const k = /^--\s*incremental key:\s*(.+)$/i.exec(line);
        if (k) incrementalKey = k[1]!.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
        const su = /^--\s*incremental sums:\s*(.+)$/i.exec(line);
        if (su) sums = su[1]!.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
        const rc = /^--\s*incremental row count:\s*([a-z0-9_]+)\s*$/i.exec(line);
        if (rc) rowCount = rc[1]!.toLowerCase();
        const p = /^--\s*partition:\s*month of\s+([a-z0-9_]+)\s*$/i.exec(line);
        if (p) partitionColumn = p[1]!.toLowerCase();
      }
      const changed = CHANGED_KEYS.exec(sql)?.[1]?.trim() ?? null;
      if (incrementalKey.length > 0 && !changed) throw new Error(`model ${file} declares an incremental key but no /* changed keys: … */ query`);
      if (changed && incrementalKey.length === 0) throw new Error(`model ${file} has a /* changed keys: … */ query but no "-- incremental key:" line`);
      if (layer === 'staging' && incrementalKey.length > 0) throw new Error(`model ${file}: staging models are views and cannot be incremental`);
      if (sums.length > 0 && incrementalKey.length === 0) throw new Error(`model ${file}: "-- incremental sums:" needs an "-- incremental key:" line`);
      if (sums.length > 0 && (rowCount === null || !sums.includes(rowCount))) throw new Error(`model ${file}: "-- incremental sums:" needs an "-- incremental row count:" naming one of the sums`);
      const hash = createHash('sha256').update(salt).update('\0').update(sql).digest('hex').slice(0, 32);
      models.push({
        layer, name: f.replace(/\.sql$/, ''), file, sql, description, grain, columns, dependsOn: [], reads: [],
        incrementalKey, changedKeys: changed, deltaReads: [], sums, rowCount, sumsInput: null, partitionColumn, hash,
      });
    }
  }
  const names = new Set(models.map(qualified));
  const byDelta = new Map(models.map((m) => [deltaTable(qualified(m)), qualified(m)]));
  for (const m of models) {
    const text = m.sql.replace(/--.*$/gm, '');
    const reads = new Set<string>();
    for (const match of text.replace(CHANGED_KEYS, '').matchAll(/\b(raw|staging|marts|metrics|forecast|ops)\.([a-z0-9_]+)\b/gi)) {
      const ref = `${match[1]!.toLowerCase()}.${match[2]!.toLowerCase()}`;
      if (ref !== qualified(m)) reads.add(ref);
    }
    const deltaReads = new Set<string>();
    for (const match of (m.changedKeys ?? '').matchAll(/\bdelta_[a-z0-9_]+\b/gi)) deltaReads.add(match[0].toLowerCase());
    const refs = new Set([...reads].filter((r) => names.has(r)));
    for (const d of deltaReads) {
      const upstream = byDelta.get(d);
      if (upstream && upstream !== qualified(m)) refs.add(upstream);
    }
    m.reads = [...reads];
    m.deltaReads = [...deltaReads];
    m.dependsOn = [...refs];
    if (m.sums.length > 0) {
      const inputs = [...reads].filter((r) => deltaReads.has(deltaTable(r)));
      if (inputs.length !== 1 || [...body(m).matchAll(inputPattern(inputs[0]!))].length !== 1) {
        throw new Error(`model ${m.file}: a sums model reads exactly one table whose delta its changed-keys query reads, once (found ${inputs.join(', ') || 'none'})`);
      }
      m.sumsInput = inputs[0]!;
    }
  }
  return topoSort(models);
}

function topoSort(models: Model[]): Model[] {
  const byName = new Map(models.map((m) => [qualified(m), m]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: Model[] = [];
  const visit = (m: Model) => {
    const name = qualified(m);
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`SQL models form a cycle through ${name}`);
    visiting.add(name);
    for (const d of m.dependsOn) visit(byName.get(d)!);
    visiting.delete(name);
    done.add(name);
    out.push(m);
  };
  for (const m of models) visit(m);
  return out;
}
