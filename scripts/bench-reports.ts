// npm run bench:reports [-- --customers 200,5000] [--months 24] [--data-dir DIR]
//
// Builds the reports over demo companies of the given sizes (generated through the core,
// loaded by the pipelines, into temporary data directories) and prints, for each, the build
// time and every page's weight when it opens (HTML and everything it fetches on opening) and
// its largest on-demand file, beside a baseline built in the same run: the same site over an
// empty company (one customer, one month), so what the data adds shows apart from what
// Framework itself costs. Targets: a build of 30 s or less at 200 customers, no page over
// 1.5 MB when it opens and no on-demand file over 1.5 MB. With --data-dir it measures that data
// directory's published warehouse instead of generating companies (the 30 s target is judged
// when it holds 150 to 250 customers). Each build's steps and data loaders print with their
// seconds, so where the time goes shows beside the total.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildReports, type ReportsBuild } from '../reports/build.ts';
import { openCore, closeCore } from '../src/core.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { generateDemo } from '../src/demo/generator.ts';
import { runPipeline } from '../pipelines/run.ts';
import { openWarehouse, rowsJson } from '../src/warehouse/warehouse.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const LIMIT = 1.5 * 1024 * 1024;
const months = Number(arg('--months') ?? 24);
const sizes = (arg('--customers') ?? '200,5000').split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(months) || months < 2) {
  console.error('usage: npm run bench:reports -- [--customers 200,5000] [--months 24] [--data-dir DIR]');
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-bench-reports-'));

/** A demo company of `customers` customers and `months` months, loaded and published (no site). */
async function company(customers: number, span: number): Promise<string> {
  const dataDir = path.join(work, `c${customers}-m${span}`);
  fs.mkdirSync(dataDir, { recursive: true });
  const db = `sqlite:${path.join(dataDir, 'cashloop.db')}`;
  const clock = new ManualClock('2024-01-01T07:00:00Z');
  const core = await openCore({ url: db, clock });
  const t0 = performance.now();
  const demo = await generateDemo(core, clock, { seed: 42, customers, months: span, start: '2024-01-01' });
  await closeCore(core);
  await runPipeline({ dataDir, coreUrl: db, asOf: demo.manifest.end, quiet: true });
  console.log(`  ${customers} customers × ${span} months generated and loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return dataDir;
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} kB`;

/** Customers in a data directory's published warehouse. */
async function customersIn(dataDir: string): Promise<number> {
  const wh = await openWarehouse(path.join(dataDir, 'published', 'warehouse.duckdb'), { readOnly: true });
  try {
    return Number(((await rowsJson(wh.conn, 'select count(*) as n from marts.dim_customer')) as { n: unknown }[])[0]?.n ?? 0);
  } finally {
    wh.close();
  }
}

const secs = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ');

function print(label: string, customers: number, base: ReportsBuild, site: ReportsBuild): void {
  const target = customers >= 150 && customers <= 250 ? `target ≤ 30 s at 200 customers: ${site.seconds <= 30 ? 'met' : 'NOT met'}` : 'the 30 s target is for about 200 customers';
  console.log(`\n${label} (${customers} customers): build ${site.seconds.toFixed(1)} s, ${site.steps.cpuSeconds.toFixed(1)} s of processor (baseline ${base.seconds.toFixed(1)} s, ${base.steps.cpuSeconds.toFixed(1)} s of processor; ${target})`);
  console.log(`  steps: ${secs(site.steps.steps)}`);
  console.log(`  baseline steps: ${secs(base.steps.steps)}`);
  const slowest = Object.entries(site.steps.loaders).sort((a, b) => b[1] - a[1]);
  console.log(`  data loaders, slowest first: ${slowest.map(([k, v]) => `${k.replace(/\.ts$/, '')} ${v.toFixed(1)}`).join(', ')} (s)`);
  console.log(`  ${'page'.padEnd(18)} ${'on opening'.padStart(11)} ${'baseline'.padStart(9)} ${'largest on demand'.padStart(18)}  file`);
  for (const p of site.pages) {
    const b = base.pages.find((x) => x.page === p.page);
    console.log(`  ${p.page.padEnd(18)} ${kb(p.bytes).padStart(11)} ${(b ? kb(b.bytes) : '–').padStart(9)} ${(p.onDemand ? kb(p.onDemand) : '–').padStart(18)}  ${(p.onDemandFile ?? '').replace(/\.[0-9a-f]{8}\./, '.')}`);
  }
  // The largest file of each on-demand folder: what grows with the company, file by file.
  const folders = new Map<string, number>();
  const data = path.join(site.siteDir, '_file', 'data');
  for (const rel of fs.existsSync(data) ? fs.readdirSync(data, { recursive: true, encoding: 'utf8' }) : []) {
    const file = path.join(data, rel);
    if (!fs.statSync(file).isFile()) continue;
    const key = path.dirname(rel) === '.' ? rel.replace(/\.[0-9a-f]{8}\./, '.') : `${path.dirname(rel)}/`;
    folders.set(key, Math.max(folders.get(key) ?? 0, fs.statSync(file).size));
  }
  console.log(`  largest data file of each kind: ${[...folders].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${kb(v)}`).join(', ')}`);
  const heaviest = site.pages.reduce((a, p) => (p.bytes > a.bytes ? p : a));
  const demand = Math.max(...site.pages.map((p) => p.onDemand));
  console.log(`  heaviest on opening: ${heaviest.page} ${(heaviest.bytes / 1024 / 1024).toFixed(2)} MB; largest on-demand file ${(demand / 1024 / 1024).toFixed(2)} MB (limit 1.5 MB each): ${heaviest.bytes <= LIMIT && demand <= LIMIT ? 'within' : 'OVER'}`);
}

try {
  console.log('baseline: an empty company (1 customer, 1 month)');
  const base = await buildReports({ dataDir: await company(1, 2), siteDir: path.join(work, 'site-baseline'), quiet: true });
  console.log(`baseline build ${base.seconds.toFixed(1)} s, ${base.steps.cpuSeconds.toFixed(1)} s of processor (${secs(base.steps.steps)}); load average ${os.loadavg()[0]!.toFixed(1)}`);
  const given = arg('--data-dir');
  if (given) {
    const dataDir = path.resolve(given);
    console.log(`load average ${os.loadavg()[0]!.toFixed(1)}`);
    print(dataDir, await customersIn(dataDir), base, await buildReports({ dataDir, siteDir: path.join(work, 'site-given'), quiet: true }));
  } else {
    for (const n of sizes) {
      console.log(`\n${n} customers:`);
      const dataDir = await company(n, months);
      console.log(`  load average ${os.loadavg()[0]!.toFixed(1)}`);
      print(`${n} customers × ${months} months`, await customersIn(dataDir), base, await buildReports({ dataDir, quiet: true }));
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
