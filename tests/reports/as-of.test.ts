import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore, closeCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { addDays } from '../../src/shared/dates.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { testDialect } from '../helpers/db.ts';

interface Overview {
  asOf: string;
  monthEnd: string;
  kpis: { month_end: string; is_month_end: boolean; dso_countback: number | null; cei: number | null; ar_total: number }[];
}

/** Runs a data loader the way the site build does, against a data directory's published snapshot. */
function load(dataDir: string, loader: string): Overview {
  const tsx = path.resolve('node_modules/.bin/tsx');
  return JSON.parse(execFileSync(tsx, [path.resolve('reports/data', loader)], { env: { ...process.env, CASHLOOP_DATA_DIR: dataDir }, encoding: 'utf8' })) as Overview;
}

/**
 * The as-of rule: the demo publishes as of its last day (a month-end), a later `pipeline run`
 * as of a day six days into the next month. Month-based measures are shown at the same
 * month-end in both, with the same values; only balances move with the data date.
 */
describe.skipIf(testDialect === 'postgres')('one as-of rule for the demo and a later pipeline run', () => {
  let dataDir: string;
  let end: string;
  let atMonthEnd: Overview;
  let sixDaysOn: Overview;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-as-of-'));
    const clock = new ManualClock('2025-01-01T07:00:00Z');
    const db = `sqlite:${path.join(dataDir, 'cashloop.db')}`;
    const core = await openCore({ url: db, clock });
    const demo = await generateDemo(core, clock, { seed: 3, customers: 8, months: 4, start: '2025-01-01' });
    await closeCore(core);
    end = demo.manifest.end;
    await runPipeline({ dataDir, coreUrl: db, asOf: end, quiet: true });
    atMonthEnd = load(dataDir, 'overview.json.ts');
    await runPipeline({ dataDir, coreUrl: db, asOf: addDays(end, 6), quiet: true });
    sixDaysOn = load(dataDir, 'overview.json.ts');
  }, 240_000);

  afterAll(() => {
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows month-based measures at the last closed month-end in both', () => {
    expect(atMonthEnd.asOf).toBe(end);
    expect(atMonthEnd.monthEnd).toBe(end);
    expect(sixDaysOn.asOf).toBe(addDays(end, 6));
    expect(sixDaysOn.monthEnd).toBe(end);
    const a = atMonthEnd.kpis.find((r) => r.month_end === end)!;
    const b = sixDaysOn.kpis.find((r) => r.month_end === end)!;
    expect(b.is_month_end).toBe(true);
    expect({ dso: b.dso_countback, cei: b.cei, ar: b.ar_total }).toEqual({ dso: a.dso_countback, cei: a.cei, ar: a.ar_total });
  });

  it('keeps the unfinished month apart, as the month-to-date row', () => {
    const last = sixDaysOn.kpis.at(-1)!;
    expect(last.month_end).toBe(addDays(end, 6));
    expect(last.is_month_end).toBe(false);
    expect(atMonthEnd.kpis.every((r) => r.is_month_end)).toBe(true);
  });
});
