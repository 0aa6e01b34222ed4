// Where the publish's seconds go (what the report loaders pay to read what it published:
// scripts/probe-report-loaders.ts).
//
//   npx tsx pipelines/bench/publish-probe.ts publish <warehouse.duckdb> <data dir>
//     publishes the warehouse (a copy: the publish reads it) into <data dir>/published, as a
//     first publish does when <data dir>/published is empty, and prints the wall and CPU
//     seconds of its Parquet and its snapshot.
import fs from 'node:fs';
import os from 'node:os';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';
import { publish } from '../publish.ts';

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const [mode, a, b] = process.argv.slice(2);
if (mode === 'publish' && a && b) {
  const wh = await openWarehouse(a);
  fs.mkdirSync(b, { recursive: true });
  const w0 = performance.now();
  const c0 = cpu();
  let c1 = 0;
  const r = await publish(wh.conn, b, `probe${Date.now()}`, async () => {
    c1 = cpu();
  });
  const c2 = cpu();
  const w2 = performance.now();
  wh.close();
  console.log(
    `publish: ${((w2 - w0) / 1000).toFixed(2)} s (${(c2 - c0).toFixed(2)} s CPU) — Parquet ${(r.ms.parquet / 1000).toFixed(2)} s (${(c1 - c0).toFixed(2)} s CPU), snapshot ${(r.ms.snapshot / 1000).toFixed(2)} s (${(c2 - c1).toFixed(2)} s CPU); snapshot file ${(fs.statSync(r.snapshot).size / 1e6).toFixed(1)} MB; load ${os.loadavg()[0]!.toFixed(2)}`,
  );
} else {
  console.error('usage: publish-probe.ts publish <warehouse.duckdb> <data dir>');
  process.exit(2);
}
