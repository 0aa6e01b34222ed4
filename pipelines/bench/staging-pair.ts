/**
 * The newest-image step of staging, paired with the window it replaced, over a kept bench
 * warehouse: `tsx pipelines/bench/staging-pair.ts <warehouse.duckdb> [table]` (default
 * invoices). Parses the landed events once, then stages the table both ways in the same
 * process, alternating, and prints each one's wall and CPU seconds and whether they agree.
 * Rolls back: the warehouse is left as it was.
 */
import { coreTables } from '../schema.ts';
import { newestImages } from '../transform/core-staging.ts';
import { lit, openWarehouse, scalarNumber } from '../../src/warehouse/warehouse.ts';

const [file, table = 'invoices'] = process.argv.slice(2);
if (!file || !coreTables[table]) throw new Error('usage: staging-pair.ts <warehouse.duckdb> [core table]');
const names = Object.keys(coreTables[table]);
const wh = await openWarehouse(file);
const conn = wh.conn;
const window = `select _seq, ${names.map((n) => `r."${n}"`).join(', ')}
  from (select seq as _seq, unnest(p.${table}) as r from _new_events where len(p.${table}) > 0)
  qualify row_number() over (partition by r.id order by _seq desc) = 1`;
const timed = async (label: string, sql: string) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await conn.run(`create or replace temp table ${label} as ${sql}`);
  const c = process.cpuUsage(c0);
  process.stdout.write(`${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s (${((c.user + c.system) / 1e6).toFixed(1)} s CPU)\n`);
};
await conn.run('begin transaction');
try {
  const spec = { [table]: [coreTables[table]] };
  await conn.run(`create temp table _new_events as select seq, from_json(payload, ${lit(JSON.stringify(spec))}) as p from raw.events`);
  for (let i = 0; i < 2; i++) {
    await timed('by_window', window);
    await timed('by_aggregate', newestImages(table, names, '_new_events'));
  }
  const differ = await scalarNumber(conn, 'select count(*) from ((select * from by_window except all select * from by_aggregate) union all (select * from by_aggregate except all select * from by_window))');
  process.stdout.write(`rows ${await scalarNumber(conn, 'select count(*) from by_aggregate')}, differing ${differ}\n`);
} finally {
  await conn.run('rollback').catch(() => undefined);
  wh.close();
}
