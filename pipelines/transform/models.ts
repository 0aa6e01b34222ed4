import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { lit, rowsJson, scalarNumber } from '../warehouse.ts';

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
 */
export interface Model {
  layer: Layer;
  name: string;
  file: string;
  sql: string;
  description: string;
  grain: string;
  columns: Map<string, string>;
  dependsOn: string[];
}

export function qualified(m: Pick<Model, 'layer' | 'name'>): string {
  return `${m.layer}.${m.name}`;
}

/** Reads every model file and orders them so that each runs after the models it reads. */
export function loadModels(dir = sqlDir): Model[] {
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
      for (const line of sql.split('\n')) {
        const col = /^--\s*column\s+([a-z0-9_]+):\s*(.+)$/i.exec(line);
        if (col) columns.set(col[1]!, col[2]!.trim());
        const t = /^--\s*table:\s*(.+)$/i.exec(line);
        if (t) description += (description ? ' ' : '') + t[1]!.trim();
        const g = /^--\s*grain:\s*(.+)$/i.exec(line);
        if (g) grain = g[1]!.trim();
      }
      models.push({ layer, name: f.replace(/\.sql$/, ''), file, sql, description, grain, columns, dependsOn: [] });
    }
  }
  const names = new Set(models.map(qualified));
  for (const m of models) {
    const body = m.sql.replace(/--.*$/gm, '');
    const refs = new Set<string>();
    for (const match of body.matchAll(/\b(staging|marts|metrics)\.([a-z0-9_]+)\b/gi)) {
      const ref = `${match[1]!.toLowerCase()}.${match[2]!.toLowerCase()}`;
      if (ref !== qualified(m) && names.has(ref)) refs.add(ref);
    }
    m.dependsOn = [...refs];
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

/**
 * Builds one model as a table and writes its comments. Marts and metrics are public, so
 * every one of their columns must be documented in the file: a missing comment fails the run.
 */
export async function buildModel(conn: DuckDBConnection, model: Model): Promise<number> {
  const name = qualified(model);
  const body = model.sql.trim().replace(/;\s*$/, '');
  // Staging models are views: they only rename, cast and union, and each is read once or
  // twice per run, so materializing them would only add writes. Marts and metrics are tables.
  const kind = model.layer === 'staging' ? 'view' : 'table';
  // A model that changed kind (table ↔ view) since the last run: drop the old object first.
  const existing = await rowsJson(conn, `select table_type from information_schema.tables where table_schema = $1 and table_name = $2`, [model.layer, model.name]);
  const existingType = existing[0]?.table_type;
  if (existingType === 'VIEW' && kind === 'table') await conn.run(`drop view ${name}`);
  if (existingType === 'BASE TABLE' && kind === 'view') await conn.run(`drop table ${name}`);
  try {
    await conn.run(`create or replace ${kind} ${name} as\n${body}`);
  } catch (error) {
    throw new Error(`model ${name} (${path.relative(process.cwd(), model.file)}) failed: ${(error as Error).message}`, { cause: error });
  }
  const comment = [model.description, model.grain ? `Grain: ${model.grain}.` : ''].filter(Boolean).join(' ');
  if (comment) await conn.run(`comment on ${kind === 'view' ? 'view' : 'table'} ${name} is ${lit(comment)}`);
  const cols = await rowsJson(conn, `select column_name from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`, [
    model.layer,
    model.name,
  ]);
  const missing: string[] = [];
  for (const c of cols) {
    const column = String(c.column_name);
    const text = model.columns.get(column);
    if (text) await conn.run(`comment on column ${name}.${column} is ${lit(text)}`);
    else if (model.layer !== 'staging') missing.push(column);
  }
  if (missing.length) throw new Error(`model ${name}: column(s) ${missing.join(', ')} have no "-- column <name>: …" comment in ${model.file}`);
  return kind === 'view' ? 0 : scalarNumber(conn, `select count(*) from ${name}`);
}
