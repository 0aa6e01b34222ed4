/**
 * `npm run bench:demo [-- --customers 5000 --months 36 --seed 42 --currencies EUR:70,USD:20,JPY:10 --no-baseline]`:
 * generates the demo company into a temporary SQLite database twice in the same run — first
 * the baseline, each service call its own transaction (`commit: 'call'`, the generator before
 * batching), then as `cashloop demo generate` does it, a simulated day's calls in one
 * transaction — and prints for each the wall time, orders/s and CPU time, then the ratio and
 * whether both made the same company (manifest counts and totals), then the time per core
 * service call of the second run. `--no-baseline` runs the second only. Figures go to
 * docs/demo.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openCore, closeCore } from '../core.ts';
import { ManualClock } from '../shared/clock.ts';
import { generateDemo, type DemoResult } from './generator.ts';
import { parseCurrencyMix } from './currencies.ts';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '200' }, months: { type: 'string', default: '24' }, seed: { type: 'string', default: '42' }, start: { type: 'string', default: '2024-01-01' },
    currencies: { type: 'string', default: 'EUR' }, 'no-baseline': { type: 'boolean', default: false },
  },
});

async function run(commit: 'day' | 'call'): Promise<{ r: DemoResult; cpu: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-demo-bench-'));
  const clock = new ManualClock(`${values.start}T07:00:00Z`);
  const core = await openCore({ url: `sqlite:${path.join(dir, 'cashloop.db')}`, clock });
  const cpu0 = process.cpuUsage();
  try {
    const r = await generateDemo(core, clock, { seed: Number(values.seed), customers: Number(values.customers), months: Number(values.months), start: values.start!, currencies: parseCurrencyMix(values.currencies!), commit });
    const cpu = process.cpuUsage(cpu0);
    return { r, cpu: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await closeCore(core);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const load = () => `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
const line = (what: string, { r, cpu }: { r: DemoResult; cpu: number }) =>
  `${what}: ${r.manifest.counts.orders} orders in ${r.seconds.toFixed(1)} s = ${r.ordersPerSecond.toFixed(0)} orders/s; CPU ${cpu.toFixed(1)} s; ${load()}; books ${r.manifest.books.balanced ? 'balance' : 'DO NOT balance'}`;

console.log(`${values.customers} customers × ${values.months} months, seed ${values.seed}`);
const baseline = values['no-baseline'] ? null : await run('call');
if (baseline) console.log(line('baseline, each service call its own transaction', baseline));
const batched = await run('day');
console.log(line('demo generate, one transaction per simulated day', batched));
if (baseline) {
  const same = JSON.stringify([baseline.r.manifest.counts, baseline.r.manifest.totals]) === JSON.stringify([batched.r.manifest.counts, batched.r.manifest.totals]);
  console.log(`= ${(baseline.r.seconds / batched.r.seconds).toFixed(2)}× the baseline's speed (wall), ${(baseline.cpu / batched.cpu).toFixed(2)}× (CPU); same company: ${same ? 'yes' : 'NO'}`);
}
console.table(batched.r.profile);
