/**
 * The ingest alone, for measuring it apart from the rest of a run:
 * `npx tsx pipelines/bench/ingest-probe.ts <core SQLite file> [--check]`.
 *
 * Loads the core's whole event feed into a fresh warehouse in a temporary folder (the same
 * `ingestEvents` a run calls) and prints its wall and CPU time, the part of that CPU spent on
 * the process's main thread (reading the core and writing the batch files; the rest is
 * DuckDB's threads; Linux only), and the process's peak RSS;
 * `--check` also times the count-and-bytes check over every landed row. A core kept by
 * `npm run bench:pipeline -- --dir DIR` (DIR/cashloop.db) is a ready input.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '../../src/db/connection.ts';
import { ensureWarehouseSchema } from '../schema.ts';
import { ingestEvents } from '../ingest/events.ts';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';

const { values, positionals } = parseArgs({ options: { check: { type: 'boolean', default: false } }, allowPositionals: true });
const core = positionals[0];
if (!core || !fs.existsSync(core)) throw new Error('give the core SQLite file to read the feed from');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-ingest-probe-'));
const db = connect({ url: `sqlite:${core}` });
const wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'), { deferCompaction: true });
const seconds = (c: NodeJS.CpuUsage) => ((c.user + c.system) / 1e6).toFixed(1);
/** CPU seconds of the main thread so far (user + system, in clock ticks of 1/100 s), or null where /proc is not there. */
const mainThreadCpu = (): number | null => {
  try {
    const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
};
try {
  await ensureWarehouseSchema(wh.conn);
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpu();
  const t0 = performance.now();
  const r = await ingestEvents(wh.conn, db, { runId: 'probe' });
  const ms = performance.now() - t0;
  const m1 = mainThreadCpu();
  const main = m0 === null || m1 === null ? '' : `, of which ${(m1 - m0).toFixed(1)} s on the main thread (reading the core, writing the batch files)`;
  process.stdout.write(
    `ingest: ${r.rowsRead.toLocaleString('en')} events in ${(ms / 1000).toFixed(2)} s (${seconds(process.cpuUsage(c0))} s CPU${main}), ${r.batchesByRow} batches row by row; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores\n`,
  );
  if (values.check) {
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    await wh.conn.run(`select count(*), sum(strlen(event_type) + strlen(aggregate_type) + strlen(aggregate_id) + strlen(payload) + strlen(actor) + strlen(occurred_at)) from raw.events`);
    process.stdout.write(`the count-and-bytes check over every landed row: ${((performance.now() - t1) / 1000).toFixed(2)} s (${seconds(process.cpuUsage(c1))} s CPU)\n`);
  }
  process.stdout.write(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
} finally {
  wh.close();
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
