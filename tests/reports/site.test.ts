import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { openCore, closeCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { addDays } from '../../src/shared/dates.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { pageWeights } from '../../reports/build.ts';
import { serveStatic } from '../helpers/static-server.ts';
import { testDialect } from '../helpers/db.ts';
import { chromiumArgs, chromiumPath, hasChromium } from '../helpers/browser.ts';
import { tableFromIPC } from 'apache-arrow';
import { readWarehouse } from '../pipelines/ledger.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
// @ts-expect-error -- a browser component in JavaScript, typed by JSDoc and checked by reports/tsconfig.json
import { BUCKETS } from '../../reports/components/buckets.js';
// @ts-expect-error -- a browser component in JavaScript, typed by JSDoc and checked by reports/tsconfig.json
import { SEARCH_PARTS, searchPartOf } from '../../reports/components/shard.js';
import { TOP } from '../../reports/data/customer-list.ts';

const PAGES = ['index', 'aging', 'collections', 'customers', 'cash', 'sales', 'fulfilment', 'health', 'definitions'];
const shots = path.resolve('test-output/reports');

/**
 * Builds the site from a small demo company (generated through the core, loaded by the
 * pipelines) and reads every page in headless Chromium: no console error, no request
 * leaving the machine, the main chart and table drawn with data.
 */
// The site reads the warehouse, not the core database: it runs once, in the SQLite pass.
describe.skipIf(!hasChromium || testDialect === 'postgres')('published reports in a browser', () => {
  let dataDir: string;
  let site: { url: string; close(): Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-reports-'));
    const clock = new ManualClock('2025-01-01T07:00:00Z');
    const core = await openCore({ url: `sqlite:${path.join(dataDir, 'cashloop.db')}`, clock });
    const demo = await generateDemo(core, clock, { seed: 7, customers: 12, months: 5, start: '2025-01-01' });
    // Two reminder runs, old enough for the dunning-effectiveness windows to have ended.
    for (const days of [-60, -35]) await runReminders(core, 'test', { asOf: addDays(demo.manifest.end, days), send: false });
    await closeCore(core);
    // The pipeline publishes and then rebuilds the site, as `cashloop pipeline run` and the scheduler do.
    const run = await runPipeline({ dataDir, coreUrl: `sqlite:${path.join(dataDir, 'cashloop.db')}`, asOf: demo.manifest.end, quiet: true, site: true });
    expect(run.steps.map((s) => s.name)).toEqual(['ingest', 'transform', 'forecast', 'reconcile', 'publish', 'site']);
    site = await serveStatic(path.join(dataDir, 'site'));
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    fs.mkdirSync(shots, { recursive: true });
    // Generous: a company, a pipeline run and a site build take minutes on a busy 2-core machine.
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every page under 1.5 MB with links that work on a plain static server', () => {
    const weights = pageWeights(path.join(dataDir, 'site'));
    expect(weights.map((w) => w.page).sort()).toEqual(expect.arrayContaining(PAGES.map((p) => `${p}.html`)));
    for (const w of weights) expect(w.bytes, w.page).toBeLessThan(1.5 * 1024 * 1024);
    const html = fs.readFileSync(path.join(dataDir, 'site', 'index.html'), 'utf8');
    expect(html).toContain('href="./aging.html"');
    expect(html).not.toMatch(/cdn\.jsdelivr|fonts\.googleapis|unpkg\.com/);
  });

  it('writes the open invoices one file per bucket and the customer list in parts, the customer page opening with the largest balances', async () => {
    const data = path.join(dataDir, 'site', '_file', 'data');
    // Built files carry a content hash: part-3.0123abcd.arrows.
    const parts = (dir: string, stem: string) =>
      new Map(fs.readdirSync(path.join(data, dir)).flatMap((f) => {
        const m = new RegExp(`^${stem}-(\\d+)\\.[0-9a-f]{8}\\.arrows$`).exec(f);
        return m ? [[Number(m[1]), tableFromIPC(fs.readFileSync(path.join(data, dir, f))).toArray().map((r) => ({ ...r }) as Record<string, unknown>)] as const] : [];
      }));
    const one = (stem: string) => fs.readdirSync(data).find((f) => new RegExp(`^${stem}\\.[0-9a-f]{8}\\.`).test(f))!;

    const buckets = parts('open-items', 'bucket');
    expect([...buckets.keys()].sort()).toEqual((BUCKETS as string[]).map((_, i) => i));
    for (const [n, rows] of buckets) for (const r of rows) expect(r.bucket, String(r.invoice)).toBe(BUCKETS[n]);
    const collections = JSON.parse(fs.readFileSync(path.join(data, one('collections')), 'utf8')) as { openCount: number };
    expect([...buckets.values()].reduce((a, rows) => a + rows.length, 0)).toBe(collections.openCount);
    expect(collections.openCount).toBeGreaterThan(0);

    const customers = (await readWarehouse(warehousePaths(dataDir).snapshot, 'select customer_key from marts.dim_customer')).map((r) => String(r.customer_key));
    const search = parts('customer-search', 'part');
    expect(search.size).toBe(SEARCH_PARTS);
    for (const [n, rows] of search) for (const r of rows) expect(searchPartOf(String(r.customer_id))).toBe(n);
    expect([...search.values()].flat().map((r) => String(r.customer_id)).sort()).toEqual([...customers].sort());
    const opening = tableFromIPC(fs.readFileSync(path.join(data, one('customer-index'))));
    expect(opening.numRows).toBe(Math.min(TOP, customers.length));
    expect(Number(opening.schema.metadata.get('customers'))).toBe(customers.length);
    const balances = opening.getChild('open_amount')!.toArray() as Float64Array;
    expect([...balances]).toEqual([...balances].sort((a, b) => b - a));
  });

  for (const page of PAGES) {
    it(`renders ${page} with data, no console error and no outside request`, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const p = await context.newPage();
      const errors: string[] = [];
      const outside: string[] = [];
      p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      p.on('pageerror', (e) => errors.push(e.message));
      await context.route('**/*', (route) => {
        const u = new URL(route.request().url());
        if (u.hostname !== '127.0.0.1' && u.protocol !== 'data:') {
          outside.push(u.href);
          return route.abort();
        }
        return route.continue();
      });
      await p.goto(`${site.url}/${page}.html`, { waitUntil: 'networkidle' });
      if (page !== 'definitions') {
        await p.waitForSelector('svg[role="img"], figure svg, .plot-d6a7b5 svg, svg.plot-d6a7b5', { timeout: 15_000 }).catch(() => undefined);
        const charts = await p.locator('main svg').count();
        expect(charts, 'a chart is drawn').toBeGreaterThan(0);
        const marks = await p.locator('main svg rect, main svg path, main svg circle').count();
        expect(marks, 'the chart has marks').toBeGreaterThan(3);
        const text = await p.locator('main').innerText();
        expect(text).toMatch(/As of \d{1,2} [A-Z][a-z]{2} \d{4}/);
      }
      if (page === 'collections') expect(await p.locator('main svg').count(), 'the worklist and the dunning effectiveness charts').toBeGreaterThanOrEqual(2);
      if (['aging', 'collections', 'customers', 'fulfilment', 'health'].includes(page)) {
        expect(await p.locator('main table tbody tr').count(), 'a table with rows').toBeGreaterThan(0);
      }
      await p.screenshot({ path: path.join(shots, `${page}.png`), fullPage: true });
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
      await context.close();
    });
  }
});
