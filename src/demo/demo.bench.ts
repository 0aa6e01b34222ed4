/**
 * `npm run bench:demo [-- --customers 5000 --months 36 --seed 42 --currencies EUR:70,USD:20,JPY:10]`: generates the demo
 * company into a temporary SQLite database, prints wall time, orders/s, CPU time and the
 * time per core service call, and removes the database. Figures go to docs/demo.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openCore, closeCore } from '../core.ts';
import { ManualClock } from '../shared/clock.ts';
import { generateDemo } from './generator.ts';
import { parseCurrencyMix } from './currencies.ts';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '200' }, months: { type: 'string', default: '24' }, seed: { type: 'string', default: '42' }, start: { type: 'string', default: '2024-01-01' }, currencies: { type: 'string', default: 'EUR' } } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-demo-bench-'));
const clock = new ManualClock(`${values.start}T07:00:00Z`);
const core = await openCore({ url: `sqlite:${path.join(dir, 'cashloop.db')}`, clock });
const cpu0 = process.cpuUsage();
try {
  const r = await generateDemo(core, clock, { seed: Number(values.seed), customers: Number(values.customers), months: Number(values.months), start: values.start!, currencies: parseCurrencyMix(values.currencies!) });
  const cpu = process.cpuUsage(cpu0);
  console.log(`${values.customers} customers × ${values.months} months: ${r.manifest.counts.orders} orders in ${r.seconds.toFixed(1)} s = ${r.ordersPerSecond.toFixed(0)} orders/s; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; books ${r.manifest.books.balanced ? 'balance' : 'DO NOT balance'}`);
  console.table(r.profile);
} finally {
  await closeCore(core);
  fs.rmSync(dir, { recursive: true, force: true });
}
