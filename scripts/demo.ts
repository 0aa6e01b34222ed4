// npm run demo — the one-command tour: migrate, generate the demo company if the database is
// empty, run every pipeline step (and build the reports site), then start the API server with
// the reports, the API docs and a customer's portal, and print their addresses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCore, closeCore } from '../src/core.ts';
import { dataDir as defaultDataDir } from '../src/db/connection.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { generateDemo } from '../src/demo/generator.ts';
import { demoProgress, summaryText } from '../src/cli/commands/demo.ts';
import { parseCurrencyMix } from '../src/demo/currencies.ts';
import { loadRates, parseRatesCsv } from '../src/rates/rates.service.ts';
import { MANIFEST_FILE, type DemoManifest } from '../src/demo/manifest.ts';
import { runPipeline } from '../pipelines/run.ts';
import type { ReportsBuild } from '../reports/build.ts';
import { buildServer } from '../src/api/server.ts';
import { createApiKey, createPortalToken } from '../src/api/keys.service.ts';
import { writeBackScores } from '../models/credit-score/write-back.ts';
import { writeBackForecasts } from '../models/payment-date/write-back.ts';
import { replaceInvoiceForecasts } from '../src/forecasts/forecast.service.ts';
import { applyCreditScores } from '../src/credit/score.service.ts';
import { runReminders } from '../src/collections/reminder.service.ts';

const dataDir = path.resolve(process.env.CASHLOOP_DATA_DIR ?? defaultDataDir());
process.env.CASHLOOP_DATA_DIR = dataDir;
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const say = (line: string) => process.stdout.write(`${line}\n`);
const startedAt = performance.now();
/**
 * Where the time to the address went, stage by stage, printed with it for README/docs figures:
 * the wall-clock seconds and the processor seconds of this process (DuckDB's threads included)
 * plus those of the child processes the stage waited for (the reports site build). On a loaded
 * machine the wall-clock seconds mostly measure the wait for a processor; the CPU seconds do not.
 */
const stages: { name: string; seconds: number; cpu: number }[] = [];
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let stageStart = performance.now();
let stageCpu = cpuNow();
const stageDone = (name: string, childCpu = 0) => {
  const now = performance.now();
  const cpu = cpuNow();
  stages.push({ name, seconds: (now - stageStart) / 1000, cpu: cpu - stageCpu + childCpu });
  stageStart = now;
  stageCpu = cpu;
};
const RATES_SAMPLE = path.resolve(import.meta.dirname, '../data/samples/rates-eur.csv');

/** First day of the month 24 months before this one: the history ends at the last month-end. */
function defaultStart(today: Date): string {
  const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 24, 1));
  return d.toISOString().slice(0, 10);
}

say(`cashloop demo — data directory ${dataDir}`);
const probe = await openCore();
const customers = Number((await probe.db.kysely.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
await closeCore(probe);
stageDone('opening the database');

let manifest: DemoManifest | null = null;
const manifestFile = path.join(dataDir, MANIFEST_FILE);
if (customers === 0) {
  const start = process.env.DEMO_START ?? defaultStart(new Date());
  const size = { seed: Number(process.env.DEMO_SEED ?? 42), customers: Number(process.env.DEMO_CUSTOMERS ?? 200), months: Number(process.env.DEMO_MONTHS ?? 24), start };
  const currencies = parseCurrencyMix(process.env.DEMO_CURRENCIES ?? 'EUR');
  say(`1/3 generating the demo company (${size.customers} customers, ${size.months} months from ${start}) through the core services…`);
  const clock = new ManualClock(`${start}T07:00:00Z`);
  const core = await openCore({ clock });
  const bar = demoProgress();
  try {
    const result = await generateDemo(core, clock, { ...size, currencies, dataDir, actor: 'demo', onProgress: (day, total, orders) => bar.update(day, total, orders) });
    bar.stop();
    stageDone('generating');
    manifest = result.manifest;
    say(summaryText(result, core.db.location, manifestFile));
    // The sample's reference rates, so the warehouse can convert every currency into the reporting one.
    const rates = await loadRates(core, parseRatesCsv(fs.readFileSync(RATES_SAMPLE, 'utf8'), 'EUR', path.basename(RATES_SAMPLE)), path.basename(RATES_SAMPLE), 'demo');
    stageDone('rates');
    say(`    exchange rates loaded from ${path.relative(process.cwd(), RATES_SAMPLE)}: ${rates.currencies.join(', ')} per 1 EUR, ${rates.firstDate} … ${rates.lastDate}`);
  } finally {
    bar.stop();
    await closeCore(core);
  }
} else {
  say(`1/3 the database already holds ${customers} customers: keeping them (delete ${dataDir} to start over)`);
  if (fs.existsSync(manifestFile)) manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as DemoManifest;
}

const asOf = manifest?.end;
say(`2/3 running every pipeline step${asOf ? ` as of ${asOf}` : ''}, then publishing the warehouse and building the reports…`);
stageStart = performance.now();
stageCpu = cpuNow();
const run = await runPipeline({ dataDir, steps: ['all'], asOf, site: true, job: 'demo' });
for (const s of run.steps) say(`    ${s.name.padEnd(10)} ${(s.ms / 1000).toFixed(1).padStart(6)} s`);
// The site is built in a child process, which reports its steps and its own processor seconds.
const site = run.steps.find((s) => s.name === 'site')?.detail as ReportsBuild | undefined;
if (site) say(`    (site: ${Object.entries(site.steps.steps).filter(([, sec]) => sec >= 0.05).map(([n, sec]) => `${n} ${sec.toFixed(1)} s`).join(', ')}; CPU ${site.steps.cpuSeconds.toFixed(1)} s)`);
stageDone('pipeline and site', Number.isFinite(site?.steps.cpuSeconds) ? site!.steps.cpuSeconds : 0);
{
  // The credit scores go back to the core, so the next orders are checked against them.
  const core = await openCore();
  try {
    const scores = await writeBackScores((s) => applyCreditScores(core, s, 'demo'), path.join(dataDir, 'published', 'warehouse.duckdb'));
    say(`    risk classes set from the credit scores: ${Object.entries(scores.byClass).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
    // The invoice forecasts too: the collectors' worklist ranks by their amount at risk.
    const forecasts = await writeBackForecasts((rows) => replaceInvoiceForecasts(core, rows, 'demo'), path.join(dataDir, 'published', 'warehouse.duckdb'));
    say(`    invoice forecasts handed back to the core: ${forecasts.written}`);
    // The morning's reminder run, once: one letter per customer with invoices at a new dunning level.
    const reminders = await runReminders(core, 'demo', { asOf, send: false });
    say(`    reminder run as of ${reminders.asOf}: ${reminders.messages.length} reminders in the outbox (cashloop collections outbox · cashloop collections worklist)`);
  } finally {
    await closeCore(core);
  }
  stageDone('scores, forecasts, reminders');
}

say('3/3 starting the server…');
const siteDir = path.join(dataDir, 'site');
const urls = await startServer();
stageDone('server');
say('');
const totalCpu = stages.reduce((sum, s) => sum + s.cpu, 0);
say(
  `cashloop is running (${((performance.now() - startedAt) / 1000).toFixed(1)} s from the start of npm run demo to this address, CPU ${totalCpu.toFixed(1)} s: ${stages.map((s) => `${s.name} ${s.seconds.toFixed(1)} s (CPU ${s.cpu.toFixed(1)} s)`).join(', ')}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}):`,
);
for (const [what, url] of urls) say(`  ${what.padEnd(26)} ${url}`);
say('');
say(`warehouse for analysts: ${run.published?.snapshot ?? path.join(dataDir, 'published', 'warehouse.duckdb')} (cashloop query "select * from metrics.ar_kpis_monthly")`);
say('stop with Ctrl-C');

/**
 * Starts the API with the reports at /reports; a demo admin key and one customer's portal token
 * open them. The links carry the key once: the server swaps it for a session and drops it from
 * the address.
 */
async function startServer(): Promise<[string, string][]> {
  const core = await openCore();
  // A new key each start; it expires so the keys of old demo runs do not stay valid for ever.
  const { key } = await createApiKey(core, { role: 'admin', name: `demo-${Date.now()}`, expiresIn: '30d' }, 'demo');
  const customer = await core.db.kysely.selectFrom('customers').select('id').orderBy('id').executeTakeFirst();
  const portal = customer ? await createPortalToken(core, customer.id, 'demo') : null;
  const app = await buildServer(core, { siteDir });
  try {
    await app.listen({ port, host });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    // The company and the warehouse are ready; only the address is taken. Say so, not a stack.
    await app.close();
    await closeCore(core);
    say(`port ${port} on ${host} is in use (another cashloop, or another program): the demo data in ${dataDir} is ready — start again with PORT=<free port> npm run demo, which keeps it`);
    process.exit(1);
  }
  const base = `http://${host}:${port}`;
  return [
    ['workspace', `${base}/app?key=${key}`],
    ['reports', `${base}/reports/?key=${key}`],
    ['API docs', `${base}/docs?key=${key}`],
    ...(portal ? ([[`portal (customer ${portal.customerId})`, `${base}/portal?token=${portal.token}`]] as [string, string][]) : []),
    ['sign in (paste the key below; opens the workspace)', `${base}/sign-in?next=%2Fapp`],
    ['API key (admin, 30 days)', key],
  ];
}
