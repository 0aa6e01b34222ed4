// What the report loaders pay to read the published snapshot: runs every loader of
// reports/data/ over <data dir>/published/warehouse.duckdb in this process (as the site build
// does), `rounds` times, and prints the wall and CPU seconds of each round (`each`: and of
// each loader). Alternate it over two data folders to compare two ways of publishing.
//
//   npx tsx scripts/probe-report-loaders.ts <data dir> [rounds] [each]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openWarehouse } from '../src/warehouse/warehouse.ts';
import { setRunner } from '../reports/data/snapshot.ts';

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const [a, b, c] = process.argv.slice(2);
if (a) {
  process.env.CASHLOOP_DATA_DIR = a;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'loaders-'));
  const dir = path.resolve(import.meta.dirname, '../reports/data');
  const files = fs.readdirSync(dir).filter((f) => /^[\w-]+\.(json|arrows|zip|xlsx)\.ts$/.test(f)).sort();
  for (let round = 0; round < Number(b ?? 1); round++) {
    const warehouse = await openWarehouse(path.join(a, 'published', 'warehouse.duckdb'), { readOnly: true });
    const w0 = performance.now();
    const c0 = cpu();
    const each: string[] = [];
    for (const file of files) {
      const t = performance.now();
      setRunner({ warehouse, write: (d) => fs.writeFileSync(path.join(out, file), d), writeMembers: () => undefined });
      await import(`${pathToFileURL(path.join(dir, file)).href}?round=${round}`);
      each.push(`${file.replace(/\.ts$/, '')} ${((performance.now() - t) / 1000).toFixed(2)}`);
    }
    setRunner(undefined);
    warehouse.close();
    console.log(`loaders round ${round}: ${((performance.now() - w0) / 1000).toFixed(2)} s (${(cpu() - c0).toFixed(2)} s CPU); load ${os.loadavg()[0]!.toFixed(2)}${c === 'each' ? `\n  ${each.join(', ')}` : ''}`);
  }
  fs.rmSync(out, { recursive: true, force: true });
} else {
  console.error('usage: probe-report-loaders.ts <data dir> [rounds] [each]');
  process.exit(2);
}
