/**
 * An incremental transform, timed again and again over the same landed events:
 * `tsx pipelines/bench/transform-incremental-probe.ts <warehouse.duckdb> [runs]`.
 *
 * The warehouse must hold events ingested but not yet transformed (e.g. a kept bench folder's
 * copy after a run stopped at `CASHLOOP_FAULT=transform:before-commit`). Each run calls
 * `transform()` and rolls back instead of committing, so the next one starts from the same
 * state; it prints each run's wall and CPU seconds, the number of statements sent to DuckDB,
 * staging's time and every model that did any work. For comparing two versions of the
 * transform on one machine: alternate them over the same folder.
 */
import { DuckDBConnection } from '@duckdb/node-api';
import { transform } from '../transform/transform.ts';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';

const [file, times = '3'] = process.argv.slice(2);
if (!file) throw new Error('usage: transform-incremental-probe.ts <warehouse.duckdb> [runs]');
type Method = (this: DuckDBConnection, sql: string, ...rest: unknown[]) => Promise<unknown>;
const proto = DuckDBConnection.prototype as unknown as Record<string, Method>;
let statements = 0;
let depth = 0;
let spent: { sql: string; ms: number }[] = [];
const top = Number(process.env.PROBE_TOP ?? 0);
for (const name of ['run', 'runAndReadAll']) {
  const original = proto[name]!;
  // The transform's commit becomes a rollback: every run starts from the same landed events.
  proto[name] = async function (this: DuckDBConnection, sql: string, ...rest: unknown[]) {
    const statement = sql.trim().toLowerCase() === 'commit' ? 'rollback' : sql;
    if (depth > 0) return original.call(this, statement, ...rest);
    statements++;
    const c0 = process.cpuUsage();
    depth++;
    try {
      return await original.call(this, statement, ...rest);
    } finally {
      depth--;
      const c = process.cpuUsage(c0);
      spent.push({ sql, ms: (c.user + c.system) / 1000 });
    }
  };
}
const wh = await openWarehouse(file, { deferCompaction: true });
try {
  for (let i = 0; i < Number(times); i++) {
    statements = 0;
    spent = [];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await transform(wh.conn, {});
    const c = process.cpuUsage(c0);
    const worked = r.models.filter((m) => m.mode !== 'unchanged' && m.mode !== 'view').sort((a, b) => b.ms - a.ms);
    const modelsMs = r.models.reduce((a, m) => a + m.ms, 0);
    process.stdout.write(
      `run ${i}: ${((performance.now() - t0) / 1000).toFixed(2)} s (${((c.user + c.system) / 1e6).toFixed(2)} s CPU), ${statements} statements, ${r.eventsStaged} events${r.fullReason ? ` (rebuilt whole: ${r.fullReason})` : ''}; staging ${(r.stagedMs / 1000).toFixed(2)} s, models ${(modelsMs / 1000).toFixed(2)} s: ${worked.map((m) => `${m.model.replace(/^\w+\./, '')} ${m.mode[0]} ${m.ms}`).join(', ')}\n`,
    );
    const small = spent.filter((x) => x.ms < 5);
    process.stdout.write(`  statements under 5 ms of CPU: ${small.length}, ${(small.reduce((a, x) => a + x.ms, 0) / 1000).toFixed(2)} s of CPU together\n`);
    // PROBE_TOP=N: the run's N statements that took the most CPU.
    for (const x of [...spent].sort((a, b) => b.ms - a.ms).slice(0, top)) process.stdout.write(`${x.ms.toFixed(0).padStart(6)} ms  ${x.sql.replace(/\s+/g, ' ').slice(0, 160)}\n`);
  }
} finally {
  wh.close();
}
