/**
 * Where a pipeline run's CPU goes, statement by statement: loaded before the benchmark,
 *
 *   node --import tsx --import ./pipelines/bench/statement-cpu.ts pipelines/bench/bench.ts \
 *     --phase run --dir DIR --invoices 1000000 --reuse
 *
 * (DIR a fresh copy of a folder kept by `--keep --full-only`), it times every statement sent
 * to DuckDB in the process's CPU seconds (every thread: on a shared machine the wall clock also
 * counts other people's work) and prints, when the next run starts and when the process ends,
 * the run's total and its `STATEMENT_CPU_TOP` (default 40) most expensive statements. A
 * statement sent from inside another (a read through `runAndReadAll`) counts once.
 */
import { DuckDBConnection } from '@duckdb/node-api';

type Method = (this: DuckDBConnection, sql: string, ...rest: unknown[]) => Promise<unknown>;
const top = Number(process.env.STATEMENT_CPU_TOP ?? 40);
let stats: { sql: string; ms: number }[] = [];
let runs = 0;
let depth = 0;

function report(): void {
  if (stats.length === 0) return;
  const total = stats.reduce((a, s) => a + s.ms, 0);
  process.stdout.write(`statement CPU, run ${runs++}: ${(total / 1000).toFixed(2)} s over ${stats.length} statements; the most expensive:\n`);
  for (const s of [...stats].sort((a, b) => b.ms - a.ms).slice(0, top)) {
    process.stdout.write(`${s.ms.toFixed(0).padStart(6)} ms  ${s.sql.replace(/\s+/g, ' ').slice(0, 200)}\n`);
  }
  stats = [];
}

const proto = DuckDBConnection.prototype as unknown as Record<string, Method>;
for (const name of ['run', 'runAndReadAll']) {
  const original = proto[name]!;
  proto[name] = async function (this: DuckDBConnection, sql: string, ...rest: unknown[]) {
    if (depth > 0) return original.call(this, sql, ...rest);
    // A run starts by recording itself: what came before belongs to the run before.
    if (/insert into ops\.pipeline_runs/.test(sql)) report();
    const c0 = process.cpuUsage();
    depth++;
    try {
      return await original.call(this, sql, ...rest);
    } finally {
      depth--;
      const c = process.cpuUsage(c0);
      stats.push({ sql, ms: (c.user + c.system) / 1000 });
    }
  };
}
process.on('exit', report);
