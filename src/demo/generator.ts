import fs from 'node:fs';
import { sql } from 'kysely';
import path from 'node:path';
import type { Core } from '../core.ts';
import type { ManualClock } from '../shared/clock.ts';
import { conflict, invalid } from '../shared/errors.ts';
import { addDays, daysBetween, isBusinessDate } from '../shared/dates.ts';
import { getSettings } from '../settings/settings.service.ts';
import { Random } from './random.ts';
import { planCompany } from './company.ts';
import { DEFAULT_CURRENCIES, parseCurrencyMix, formatCurrencyMix, type CurrencyMix } from './currencies.ts';
import { addMonths, newSimulation } from './state.ts';

export { addMonths };
import { liveThrough } from './simulation.ts';
import { buildManifest, MANIFEST_FILE, type DemoManifest } from './manifest.ts';

/**
 * The demo company generator: draws a company (company.ts), then walks the clock day by day
 * from `start` for `months` months and lets the company live through the core's own
 * services — customers and products created, orders entered and credit-checked, holds
 * released or rejected, stock bought, shipped, delivered (invoiced at delivery), paid late
 * or early, bounced, disputed, credited, written off. Nothing is written to a table except
 * through a service, so every document and event is what the core would have recorded.
 *
 * The database must be empty: the generator refuses otherwise (see README: mixing a demo
 * history into real data would corrupt both).
 */
export interface DemoOptions {
  seed: number;
  customers: number;
  months: number;
  /** First day of the history, `YYYY-MM-DD`. */
  start: string;
  /** Where to write `demo-manifest.json`; no manifest when absent. */
  dataDir?: string;
  actor?: string;
  /** Customers' currencies and their shares (default: everyone in EUR); see currencies.ts. */
  currencies?: CurrencyMix;
  /**
   * How the service calls commit: `day` (default) — a simulated day's calls in one
   * transaction, each call a savepoint in it; `call` — each call its own transaction, as the
   * core does for the CLI and the API (the generator before batching: `npm run bench:demo`
   * runs it as the same-run baseline). The company is the same either way.
   */
  commit?: 'day' | 'call';
  /** Called once per simulated day. */
  onProgress?: (day: number, totalDays: number, orders: number) => void;
}

export interface DemoResult {
  manifest: DemoManifest;
  /** Wall-clock seconds and where they went (per service), for docs/demo.md. */
  seconds: number;
  ordersPerSecond: number;
  profile: { call: string; count: number; totalMs: number; meanMs: number }[];
}

export function validateOptions(o: Pick<DemoOptions, 'seed' | 'customers' | 'months' | 'start' | 'currencies'>): void {
  if (o.currencies !== undefined) parseCurrencyMix(formatCurrencyMix(o.currencies));
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw invalid(`seed must be a whole number ≥ 0, got ${o.seed}`, { field: 'seed', value: o.seed, rule: 'integer' });
  if (!Number.isInteger(o.customers) || o.customers < 1 || o.customers > 100_000) {
    throw invalid(`customers must be a whole number from 1 to 100000, got ${o.customers}`, { field: 'customers', value: o.customers, rule: 'range' });
  }
  if (!Number.isInteger(o.months) || o.months < 1 || o.months > 120) throw invalid(`months must be a whole number from 1 to 120, got ${o.months}`, { field: 'months', value: o.months, rule: 'range' });
  if (!isBusinessDate(o.start)) throw invalid(`start must be a date written YYYY-MM-DD, got ${JSON.stringify(o.start)}`, { field: 'start', value: o.start, rule: 'date_format' });
}

/** Refuses to run on a database that already holds business documents. */
export async function assertEmpty(core: Core): Promise<void> {
  const db = core.db.kysely;
  for (const table of ['customers', 'products', 'orders', 'invoices', 'payments'] as const) {
    const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const n = Number(row.n);
    if (n > 0) {
      throw conflict(`the database at ${core.db.location} is not empty (${n} ${table}); the demo company is generated into an empty database only — point CASHLOOP_DATA_DIR or DATABASE_URL at a new one`, {
        entity: 'database', id: core.db.location, field: table, value: n, rule: 'empty_database',
      });
    }
  }
}

/**
 * The history is written through the services, each change its own transaction; on SQLite
 * (synchronous=full by default) every one of those commits waits for the disk, which was most
 * of the generation's time. A demo history can be generated again, so while it is written the
 * commits are not synced one by one (`synchronous=normal`: the file never corrupts, the
 * writes reach the disk at checkpoints); at the end a checkpoint writes everything to the
 * database file and the connection's own mode is set back before anything else is written.
 * PostgreSQL is left as it is.
 */
async function syncAtTheEnd(core: Core): Promise<{ restore(): Promise<void> }> {
  if (core.db.dialect !== 'sqlite') return { async restore() {} };
  const db = core.db.kysely;
  const mode = (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous ?? 2;
  await sql`pragma synchronous = normal`.execute(db);
  return {
    async restore() {
      await sql.raw(`pragma synchronous = ${Number(mode)}`).execute(db);
      await sql`pragma wal_checkpoint(full)`.execute(db);
    },
  };
}

/**
 * Generates the demo company into `core`, whose clock must be a ManualClock (the generator
 * moves it). Returns the manifest (also written to `dataDir`) and timing figures.
 */
export async function generateDemo(core: Core, clock: ManualClock, options: DemoOptions): Promise<DemoResult> {
  validateOptions(options);
  await assertEmpty(core);
  const startedAt = performance.now();
  const actor = options.actor ?? 'demo';
  const rng = new Random(options.seed);
  const end = addMonths(options.start, options.months);
  const totalDays = daysBetween(options.start, end);
  const currencies = options.currencies ?? DEFAULT_CURRENCIES;
  const plan = planCompany(rng.fork('plan'), options.customers, totalDays, currencies);
  const sim = rng.fork('simulation');
  // The collections desk's own stream, seeded apart: reminders, promises and disputes do not
  // shift any other draw, so orders, deliveries and payments are those of the seed as before.
  const desk = new Random(`${options.seed}:collections`);
  const settings = await getSettings(core.db.kysely);
  const ctx = newSimulation(core, clock, { start: options.start, actor, totalDays, rng, sim, desk, settings, plan });
  const durability = await syncAtTheEnd(core);
  try {
    await liveThrough(ctx, plan, options.onProgress, options.commit ?? 'day');
  } finally {
    await durability.restore();
  }
  const { counts, customers, profile } = ctx;

  const seconds = (performance.now() - startedAt) / 1000;
  clock.set(`${addDays(end, -1)}T20:00:00.000Z`);
  const manifest = await buildManifest(core, { seed: options.seed, customers: options.customers, months: options.months, start: options.start, end: addDays(end, -1) }, plan, customers.map((c) => ({ key: c.plan.key, id: c.id })), counts, currencies);
  if (options.dataDir) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    fs.writeFileSync(path.join(options.dataDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return {
    manifest,
    seconds,
    ordersPerSecond: counts.orders / Math.max(seconds, 1e-9),
    profile: [...profile.entries()].map(([call, p]) => ({ call, count: p.count, totalMs: Math.round(p.ms), meanMs: Math.round((p.ms / p.count) * 100) / 100 })).sort((a, b) => b.totalMs - a.totalMs),
  };
}
