/**
 * Where a full transform spends its time and memory, statement by statement:
 * `tsx pipelines/bench/transform-probe.ts <warehouse.duckdb> [--from model]`.
 *
 * Over a warehouse whose events are landed (a bench directory kept with `--dir`), runs the
 * first build's statements one at a time inside one transaction — staging the events, then
 * every model — and prints each one's time, DuckDB's memory in use after it (by tag), what
 * it had spilled to its temp directory and the process's peak RSS. Rolls back at the end, so
 * the warehouse is left as it was. For finding the statement that does not fit in
 * `CASHLOOP_DUCKDB_MEMORY`, not for timing the pipeline (bench.ts does that).
 */
import { parseArgs } from 'node:util';
import { coreTables } from '../schema.ts';
import { newestImages } from '../transform/core-staging.ts';
import { body, loadModels, qualified } from '../transform/models.ts';
import { lit, openWarehouse, rowsJson } from '../../src/warehouse/warehouse.ts';

const { positionals } = parseArgs({ allowPositionals: true });
const file = positionals[0];
if (!file) throw new Error('usage: transform-probe.ts <warehouse.duckdb>');
const wh = await openWarehouse(file);
const conn = wh.conn;
const say = (s: string) => process.stdout.write(`${s}\n`);

async function memory(): Promise<string> {
  const tags = await rowsJson(
    conn,
    `select tag, round(memory_usage_bytes / 1048576) as mb, round(temporary_storage_bytes / 1048576) as tmp from duckdb_memory() where memory_usage_bytes + temporary_storage_bytes > 64 * 1048576 order by memory_usage_bytes desc`,
  );
  return tags.map((t) => `${String(t.tag).toLowerCase()} ${String(t.mb)} MB${Number(t.tmp) > 0 ? ` (+${String(t.tmp)} MB spilled)` : ''}`).join(', ') || 'under 64 MB per tag';
}

async function step(label: string, sql: string): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await conn.run(sql);
  } catch (error) {
    say(`${label}: FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(error as Error).message.split('\n')[0]}`);
    throw error;
  }
  const c = process.cpuUsage(c0);
  say(
    `${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s (${((c.user + c.system) / 1e6).toFixed(1)} s CPU); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; now ${await memory()}`,
  );
}

const settings = await rowsJson(conn, `select name, value from duckdb_settings() where name in ('memory_limit', 'threads', 'temp_directory', 'preserve_insertion_order', 'max_temp_directory_size')`);
say(`settings: ${settings.map((s) => `${String(s.name)}=${String(s.value)}`).join(', ')}`);
await conn.run('begin transaction');
try {
  await conn.run(`set variable as_of = date ${lit(new Date().toISOString().slice(0, 10))}`);
  const spec = Object.fromEntries(Object.entries(coreTables).map(([table, columns]) => [table, [columns]]));
  await step('parse the events', `create or replace temp table _new_events as select seq, from_json(payload, ${lit(JSON.stringify(spec))}) as p from raw.events`);
  for (const [table, columns] of Object.entries(coreTables)) {
    await step(`stage core_${table}`, `insert into staging.core_${table} by name ${newestImages(table, Object.keys(columns), '_new_events')}`);
  }
  await step('drop the parsed events', 'drop table _new_events');
  for (const m of loadModels()) {
    await step(qualified(m), `create or replace ${m.layer === 'staging' ? 'view' : 'table'} ${qualified(m)} as\n${body(m)}`);
  }
} finally {
  await conn.run('rollback').catch(() => undefined);
  wh.close();
}
