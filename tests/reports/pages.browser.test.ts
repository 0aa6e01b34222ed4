import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import ExcelJS from 'exceljs';
import { openCore, closeCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { addDays } from '../../src/shared/dates.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { serveStatic } from '../helpers/static-server.ts';
import { testDialect } from '../helpers/db.ts';
import { chromiumArgs, chromiumPath, hasChromium } from '../helpers/browser.ts';
import { readWarehouse } from '../pipelines/ledger.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';

const PAGES = ['index', 'aging', 'collections', 'customers', 'customer', 'cash', 'sales', 'fulfilment', 'health', 'definitions'];
const WIDTHS = [1440, 390] as const;
const LIMIT = 1.5 * 1024 * 1024;
const shots = path.resolve('test-output/reports');

/**
 * Tick labels of one axis that run into each other ("10,00020,00030,000"), as text for the
 * failure message. Level labels: their boxes on the screen must not intersect. Rotated labels
 * (month names at −45°) lie side by side like the lines of a page: their boxes on the screen
 * overlap anyway, so the test is that neighbours' anchors are at least a line of text apart
 * across the writing direction.
 */
const overlappingTicks = `(() => {
  const out = [];
  for (const axis of document.querySelectorAll('main svg g[aria-label$="tick label"]')) {
    const texts = [...axis.querySelectorAll('text')].filter((t) => t.textContent.trim() !== '');
    const rotation = Number(/rotate\\(([-\\d.]+)\\)/.exec(texts[0]?.getAttribute('transform') ?? '')?.[1] ?? 0);
    const name = (axis.closest('figure')?.querySelector('h2')?.textContent ?? axis.closest('svg')?.getAttribute('aria-label') ?? 'a chart') + ', ' + axis.getAttribute('aria-label');
    if (rotation % 180 !== 0) {
      const a = (rotation * Math.PI) / 180;
      const across = [-Math.sin(a), Math.cos(a)];
      const anchors = texts.map((t) => { const m = t.getScreenCTM(); return [m.e, m.f, t.getBBox().height]; });
      for (let i = 1; i < anchors.length; i++) {
        const [x0, y0, h] = anchors[i - 1];
        const [x1, y1] = anchors[i];
        const gap = Math.abs((x1 - x0) * across[0] + (y1 - y0) * across[1]);
        if (gap < h) out.push(name + ': "' + texts[i - 1].textContent + '" and "' + texts[i].textContent + '" ' + gap.toFixed(1) + ' px apart across the text, ' + h.toFixed(1) + ' px high');
      }
      continue;
    }
    const boxes = texts.map((t) => t.getBoundingClientRect());
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [p, q] = [boxes[i], boxes[j]];
        if (Math.min(p.right, q.right) - Math.max(p.left, q.left) > 0.5 && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 0.5) {
          out.push(name + ': "' + texts[i].textContent + '" overlaps "' + texts[j].textContent + '"');
        }
      }
    }
  }
  return out.slice(0, 8);
})()`;

/**
 * Every report page at desktop (1440 px) and phone (390 px) width, built from a demo company
 * whose data date is six days into a month (so the month-to-date panel shows): no console
 * error, no request leaving the machine, nothing wider than the screen outside a scroll
 * container, no two tick labels of an axis running together, no "null", "NaN", "Infinity" or
 * raw ISO date in the text, and no page loading
 * more than 1.5 MB when it opens. Then the drill-downs, the CSV and the month-end workbook.
 * Screenshots go to test-output/reports/<page>-<width>.png.
 */
// The site reads the warehouse, not the core database: it runs once, in the SQLite pass.
describe.skipIf(!hasChromium || testDialect === 'postgres')('every report page at desktop and phone width', () => {
  let dataDir: string;
  let site: { url: string; close(): Promise<void> };
  let browser: Browser;
  let dataDate: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-report-pages-'));
    const clock = new ManualClock('2025-01-01T07:00:00Z');
    const db = `sqlite:${path.join(dataDir, 'cashloop.db')}`;
    const core = await openCore({ url: db, clock });
    const demo = await generateDemo(core, clock, { seed: 5, customers: 14, months: 6, start: '2025-01-01' });
    for (const days of [-60, -35]) await runReminders(core, 'test', { asOf: addDays(demo.manifest.end, days), send: false });
    await closeCore(core);
    dataDate = addDays(demo.manifest.end, 6);
    await runPipeline({ dataDir, coreUrl: db, asOf: dataDate, quiet: true, site: true });
    site = await serveStatic(path.join(dataDir, 'site'));
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    fs.mkdirSync(shots, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A page that records console errors, requests to another host and the bytes it loads. */
  async function open(width: number, url: string): Promise<{ page: Page; problems: string[]; bytes: () => number; close(): Promise<void> }> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, isMobile: width < 500, acceptDownloads: true });
    const problems: string[] = [];
    let bytes = 0;
    await context.route('**/*', async (route) => {
      const u = new URL(route.request().url());
      if (u.hostname !== '127.0.0.1') {
        problems.push(`outside request: ${u.href}`);
        return route.abort();
      }
      // The plain static server has no icon; the browser asks for one on its own.
      if (u.pathname === '/favicon.ico') return route.fulfill({ status: 204 });
      return route.continue();
    });
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', async (r) => {
      const body = await r.body().catch(() => null);
      if (body) bytes += body.length;
    });
    await page.goto(url, { waitUntil: 'networkidle' });
    // The files are in by networkidle, but the page's cells may still be running on a busy
    // machine: every page but the definitions says its as-of date once they have.
    await page
      .waitForFunction(`location.pathname.endsWith('definitions.html') || /As of \\d/.test(document.querySelector('main')?.textContent ?? '')`, null, { timeout: 30_000 })
      .catch(() => undefined);
    return { page, problems, bytes: () => bytes, close: () => context.close() };
  }

  for (const width of WIDTHS) {
    for (const name of PAGES) {
      it(`shows ${name} at ${width} px with readable figures, inside the screen, with nothing from outside`, async () => {
        const { page, problems, bytes, close } = await open(width, `${site.url}/${name}.html`);
        try {
          await page.waitForTimeout(300);
          const text = await page.locator('main').innerText();
          expect(text.length).toBeGreaterThan(200);
          expect(text.match(/\bnull\b|\bNaN\b|Infinity|\bundefined\b/g), 'no missing value printed as such').toBeNull();
          expect(text.match(/\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2})?/g), 'no raw ISO date or timestamp').toBeNull();
          if (name !== 'definitions') expect(text).toMatch(/As of \d{1,2} [A-Z][a-z]{2} \d{4}/);
          // Nothing wider than the screen, except inside an element that scrolls sideways.
          const overflow = await page.evaluate<string[]>(`(() => {
            const out = [];
            if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page ' + document.documentElement.scrollWidth + ' px wide');
            for (const el of document.querySelectorAll('main *')) {
              const r = el.getBoundingClientRect();
              if (r.width === 0 || r.right <= window.innerWidth + 1) continue;
              let p = el.parentElement;
              let clipped = false;
              while (p && p !== document.body) {
                const s = getComputedStyle(p);
                if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && p.getBoundingClientRect().right <= window.innerWidth + 1) {
                  clipped = true;
                  break;
                }
                p = p.parentElement;
              }
              if (!clipped) out.push(el.tagName.toLowerCase() + '.' + el.getAttribute('class') + ' ends at ' + Math.round(r.right) + ' px');
            }
            return out.slice(0, 5);
          })()`);
          expect(overflow).toEqual([]);
          expect(await page.evaluate<string[]>(overlappingTicks), 'no two tick labels of an axis overlap').toEqual([]);
          if (name !== 'definitions') expect(await page.locator('main svg').count(), 'a chart').toBeGreaterThan(0);
          if (name === 'sales') {
            // The accuracy table counts forecasts and replays in whole numbers, measures with three decimals.
            const row = (label: string) => page.locator('main tr', { hasText: label }).first().innerText();
            expect(await row('forecasts scored as published')).toMatch(/forecasts replayed\s+\d+\s+\d+\s*$/);
            expect(await row('MASE as published (made to add up)')).toMatch(/\d\.\d{3}\s+\d\.\d{3}\s*$/);
          }
          expect(bytes(), 'bytes loaded on opening').toBeLessThan(LIMIT);
          await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
          expect(problems).toEqual([]);
        } finally {
          await close();
        }
      }, 60_000);
    }
  }

  it('labels the month not yet closed and shows month-based measures at the last month-end', async () => {
    const { page, problems, close } = await open(1440, `${site.url}/index.html`);
    try {
      const text = await page.locator('main').innerText();
      expect(text).toMatch(/Month to date: 1 [A-Z][a-z]{2} \d{4} – 6 [A-Z][a-z]{2} \d{4} \(not a closed month\)/);
      expect(text).toMatch(/month-based measures at the month-end \d{1,2} [A-Z][a-z]{2} \d{4}/);
      // A change is coloured by whether it is good for its measure.
      expect(await page.locator('.change.good, .change.bad').count()).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it('finds any customer by search and loads only its part of the rows', async () => {
    const { page, problems, close } = await open(390, `${site.url}/customer.html`);
    try {
      const options = await page.locator('main select option').allInnerTexts();
      expect(options.length).toBeGreaterThan(10);
      const name = options[3]!.replace(/ \(.*\)$/, '');
      await page.fill('main input[type=search]', name);
      await page.waitForTimeout(300);
      await expect.poll(() => page.locator('main h2.customer-name').innerText()).toContain(name);
      const requested: string[] = [];
      page.on('request', (r) => requested.push(new URL(r.url()).pathname));
      await page.locator('main select').selectOption({ index: 0 });
      await page.waitForLoadState('networkidle');
      expect(await page.locator('main table tbody tr').count()).toBeGreaterThan(0);
      expect(requested.filter((p) => p.includes('customer-detail/')).length).toBeLessThanOrEqual(1);
      // Every on-demand file stays under the limit on its own.
      for (const dir of ['_file/data', '_file/data/open-items', '_file/data/customer-search', '_file/data/customer-detail', '_file/data/kpi-months', '_file/data/sales-months', '_file/data/order-months', '_file/data/cash-weeks', '_file/data/cash-replay', '_file/data/delivery-months', '_file/data/reminder-months']) {
        for (const f of fs.readdirSync(path.join(dataDir, 'site', dir)).filter((x) => x.endsWith('.arrows'))) {
          expect(fs.statSync(path.join(dataDir, 'site', dir, f)).size, f).toBeLessThan(LIMIT);
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it("shows a customer's promises, disputes and reminders as the warehouse holds them", async () => {
    const snapshot = warehousePaths(dataDir).snapshot;
    const n = (table: string) => `(select count(*) from marts.${table} x where x.customer_key = c.customer_key)::int`;
    // The customer with the most of the three, and how many of each the page should list.
    const [want] = await readWarehouse(snapshot, `select * from (select c.customer_key as id, ${n('fct_promises')} as promises, ${n('fct_disputes')} as disputes, ${n('fct_reminders')} as reminders
      from marts.dim_customer c) order by sign(promises) + sign(disputes) + sign(reminders) desc, promises + disputes + reminders desc, id limit 1`);
    expect(Number(want!.reminders), 'the demo has reminders').toBeGreaterThan(0);
    for (const width of WIDTHS) {
      const { page, problems, close } = await open(width, `${site.url}/customer.html?id=${encodeURIComponent(String(want!.id))}`);
      try {
        await expect.poll(() => page.locator('main h2.customer-name').innerText()).toContain(String(want!.id));
        const listed = async (title: string) => {
          const card = page.locator('main .card', { has: page.locator('h2', { hasText: title }) });
          return (await card.locator('.table-bar span').count()) === 0 ? 0 : Number((await card.locator('.table-bar span').first().innerText()).replace(/\D/g, ''));
        };
        expect({ promises: await listed('Promises to pay'), disputes: await listed('Disputes'), reminders: await listed('Reminders sent') }).toEqual({
          promises: Number(want!.promises), disputes: Number(want!.disputes), reminders: Number(want!.reminders),
        });
        expect(await page.locator('main').innerText()).not.toContain('does not hold them');
        await page.screenshot({ path: path.join(shots, `customer-collections-${width}.png`), fullPage: true });
        expect(problems).toEqual([]);
      } finally {
        await close();
      }
    }
  }, 60_000);

  it('goes from a chart to the rows behind it: a bucket bar lists its invoices, a worklist bar opens the customer', async () => {
    const { page, problems, close } = await open(1440, `${site.url}/aging.html`);
    try {
      // Plot writes a mark's link as xlink:href, which CSS attribute selectors do not see.
      const links = async (sel: string) => {
        await page.waitForSelector(sel, { state: 'attached', timeout: 30_000 }).catch(() => undefined);
        return page.evaluate<string[]>(`[...document.querySelectorAll('${sel}')].map((a) => a.getAttribute('href')).filter(Boolean)`);
      };
      const href = (await links('main svg a')).find((h) => h.includes('bucket='));
      expect(href).toBeDefined();
      await page.goto(new URL(href!, `${site.url}/aging.html`).href, { waitUntil: 'networkidle' });
      const bucket = new URL(href!, site.url).searchParams.get('bucket')!;
      await page.waitForSelector('#items table tbody tr');
      const cells = await page.evaluate<string[]>(`(() => {
        const heads = [...document.querySelectorAll('#items table thead th')].map((th) => th.textContent?.trim());
        const i = heads.indexOf('Days past due');
        return [...document.querySelectorAll('#items table tbody tr')].map((tr) => tr.children[i]?.textContent ?? '');
      })()`);
      expect(cells.length).toBeGreaterThan(0);
      const days = cells.map((c) => Number(c.replace(/[,−]/g, (m) => (m === '−' ? '-' : ''))));
      for (const d of days) {
        if (bucket === 'current') expect(d).toBeLessThanOrEqual(0);
        else expect(d).toBeGreaterThan(0);
      }
      await page.goto(`${site.url}/collections.html`, { waitUntil: 'networkidle' });
      const link = (await links('main svg a')).find((h) => h.includes('customer.html?id='));
      expect(link).toBeDefined();
      await page.goto(new URL(link!, `${site.url}/collections.html`).href, { waitUntil: 'networkidle' });
      const id = new URL(link!, site.url).searchParams.get('id')!;
      expect(await page.locator('main h2.customer-name').innerText()).toContain(id);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  /** Plot writes a mark's link as xlink:href, which CSS attribute selectors do not see. */
  const chartLinks = async (page: Page, mark = '') => {
    // A busy machine may still be drawing the charts: wait for a link holding `mark`.
    await page
      .waitForFunction(`[...document.querySelectorAll('main svg a')].some((a) => (a.getAttribute('href') ?? '').includes(${JSON.stringify(mark)}))`, null, { timeout: 30_000 })
      .catch(() => undefined);
    return page.evaluate<string[]>(`[...document.querySelectorAll('main svg a')].map((a) => a.getAttribute('href')).filter(Boolean)`);
  };
  /** "1,234.56 EUR" or "−12.00" as a number of minor units. */
  const cents = (s: string) => Math.round(Number(s.replace(/[^\d.−-]/g, '').replace('−', '-')) * 100);
  const utcDay = (s: string) => Date.parse(`${s.trim()} UTC`);
  /** The visible cells of a column of the table inside `sel`, by its header. */
  const column = (page: Page, sel: string, head: string) =>
    page.evaluate<string[]>(`(() => {
      const heads = [...document.querySelectorAll('${sel} table thead th')].map((th) => th.textContent?.trim());
      const i = heads.indexOf(${JSON.stringify(head)});
      return i < 0 ? ['no column ' + ${JSON.stringify(head)}] : [...document.querySelectorAll('${sel} table tbody tr')].map((tr) => tr.children[i]?.textContent ?? '');
    })()`);

  for (const width of WIDTHS) {
    it(`goes from the DSO/CEI, cash, sales and fulfilment charts to the rows behind them at ${width} px`, async () => {
      const snapshot = warehousePaths(dataDir).snapshot;
      const { page, problems, close } = await open(width, `${site.url}/index.html`);
      try {
        // Overview: a month of the CEI chart lists the invoices open at its end; they add up to its receivables.
        const monthLink = (await chartLinks(page, 'month=')).find((h) => h.includes('month='));
        expect(monthLink, 'a month of the KPI charts links to its inputs').toBeDefined();
        const monthEnd = new URL(monthLink!, site.url).searchParams.get('month')!;
        await page.goto(new URL(monthLink!, `${site.url}/index.html`).href, { waitUntil: 'networkidle' });
        await page.waitForSelector('#month table tbody tr');
        const card = await page.locator('#month .kpi', { hasText: 'Receivables on' }).locator('.big').innerText();
        const sentence = await page.locator('#month p.sub').innerText();
        const [, n, total] = sentence.match(/^([\d,]+) invoices open on .*, adding up to ([\d,.]+ [A-Z]{3})/)!;
        expect(cents(total!), `open invoices at ${monthEnd} add up to its receivables`).toBe(cents(card));
        const [open] = await readWarehouse(snapshot, `select count(*)::int as n from metrics.ar_open_items where as_of = date '${monthEnd}' and currency = 'EUR'`);
        expect(Number(n!.replace(/,/g, ''))).toBe(Number(open!.n));
        await page.screenshot({ path: path.join(shots, `drill-kpi-month-${width}.png`), fullPage: true });

        // Aging: a month-end of the bucket chart leads to the same invoices open at its end.
        await page.goto(`${site.url}/aging.html`, { waitUntil: 'networkidle' });
        const agingLink = (await chartLinks(page, `index.html?month=${monthEnd}`)).find((h) => h.includes(`index.html?month=${monthEnd}`));
        expect(agingLink, 'a month-end of the aging chart links to its open invoices').toBeDefined();
        // Customers: every box of the payment-cycle chart opens its customer, as every dot of the quadrant does.
        await page.goto(`${site.url}/customers.html`, { waitUntil: 'networkidle' });
        const boxes = await page.evaluate<number>(`[...document.querySelectorAll('main svg')].filter((svg) => svg.querySelector('a')).length`);
        expect(boxes, 'both customer charts link to the customer page').toBeGreaterThanOrEqual(2);

        // Cash forecast: a week lists the open invoices whose predicted payment date falls in it.
        await page.goto(`${site.url}/cash.html`, { waitUntil: 'networkidle' });
        const weekLinks = (await chartLinks(page, 'week=')).filter((h) => h.includes('week='));
        expect(weekLinks.length, 'every forecast week links to its invoices').toBe(13);
        let listed = 0;
        for (const link of weekLinks.slice(0, 4)) {
          await page.goto(new URL(link, `${site.url}/cash.html`).href, { waitUntil: 'networkidle' });
          await page.waitForSelector('#week p.sub');
          const [, from, to] = (await page.locator('#week p.sub').innerText()).match(/^Week \d+, (\d{1,2} \w{3} \d{4}) – (\d{1,2} \w{3} \d{4})/)!;
          if ((await page.locator('#week table tbody tr').count()) === 0) continue;
          // A week with no invoice shows one "No results." row, whose cells hold no date.
          for (const d of (await column(page, '#week', 'Expected payment')).filter((c) => c.trim() !== '')) {
            expect(utcDay(d), `expected payment "${d}" in week ${from} – ${to}`).toBeGreaterThanOrEqual(utcDay(from!));
            expect(utcDay(d)).toBeLessThanOrEqual(utcDay(to!));
            listed++;
          }
        }
        expect(listed, 'the first weeks hold open invoices').toBeGreaterThan(0);
        await page.screenshot({ path: path.join(shots, `drill-cash-week-${width}.png`), fullPage: true });

        // Sales: a month of the total lists that month's invoices, as many as the warehouse issued then.
        await page.goto(`${site.url}/sales.html`, { waitUntil: 'networkidle' });
        const salesLink = (await chartLinks(page, 'month=')).filter((h) => h.includes('month=')).at(-2);
        expect(salesLink, 'a month of sales history links to its invoices').toBeDefined();
        const salesMonth = new URL(salesLink!, site.url).searchParams.get('month')!;
        await page.goto(new URL(salesLink!, `${site.url}/sales.html`).href, { waitUntil: 'networkidle' });
        await page.waitForSelector('#rows table tbody tr');
        const [, invoices] = (await page.locator('#rows p.sub').innerText()).match(/: ([\d,]+) invoices,/)!;
        const [issued] = await readWarehouse(snapshot, `select count(*)::int as n from marts.fct_invoices where not coalesce(is_cancelled, false) and currency = 'EUR' and date_trunc('month', invoice_date) = date '${salesMonth}'`);
        expect(Number(invoices!.replace(/,/g, ''))).toBe(Number(issued!.n));
        for (const d of await column(page, '#rows', 'Issued')) expect(new Date(utcDay(d)).toISOString().slice(0, 7)).toBe(salesMonth.slice(0, 7));
        await page.screenshot({ path: path.join(shots, `drill-sales-month-${width}.png`), fullPage: true });

        // Fulfilment: a step not yet complete for its month says how far it is, and a month lists its orders.
        await page.goto(`${site.url}/fulfilment.html`, { waitUntil: 'networkidle' });
        const hint = await page.locator('main .card').first().innerText();
        expect(hint).toMatch(/invoice → payment for \w{3} \d{4} \(\d+ of \d+ orders paid so far\)/);
        const orderLink = (await chartLinks(page, 'month=')).filter((h) => h.includes('month=')).at(-1);
        expect(orderLink, 'a month of the fulfilment charts links to its orders').toBeDefined();
        const orderMonth = new URL(orderLink!, site.url).searchParams.get('month')!;
        await page.goto(new URL(orderLink!, `${site.url}/fulfilment.html`).href, { waitUntil: 'networkidle' });
        await page.waitForSelector('#orders table tbody tr');
        const [, placed] = (await page.locator('#orders p.sub').innerText()).match(/^([\d,]+) orders placed in/)!;
        const [orders] = await readWarehouse(snapshot, `select count(*)::int as n from marts.fct_orders where date_trunc('month', order_date) = date '${orderMonth}' and order_date <= date '${dataDate}'`);
        expect(Number(placed!.replace(/,/g, ''))).toBe(Number(orders!.n));
        for (const d of await column(page, '#orders', 'Order date')) expect(new Date(utcDay(d)).toISOString().slice(0, 7)).toBe(orderMonth.slice(0, 7));
        await page.screenshot({ path: path.join(shots, `drill-fulfilment-month-${width}.png`), fullPage: true });
        expect(problems).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const width of WIDTHS) {
    it(`goes from the forecast-against-actual, on-time delivery and dunning charts to the rows behind them at ${width} px`, async () => {
      const snapshot = warehousePaths(dataDir).snapshot;
      const { page, problems, close } = await open(width, `${site.url}/cash.html`);
      try {
        // Cash: a replayed week lists the payments received in it; they add up to the week's actual, as the replay counted it.
        const replayLinks = (await chartLinks(page, 'replay=')).filter((h) => h.includes('replay='));
        expect(replayLinks.length, 'every replayed week links to its payments').toBeGreaterThan(2);
        let withPayments = 0;
        // The latest week, the first week of the earliest replay (it also holds the days before its Monday) and the next one.
        for (const link of [replayLinks.at(-1)!, replayLinks[0]!, replayLinks[1]!]) {
          const [origin, week] = new URL(link, site.url).searchParams.get('replay')!.split('_');
          await page.goto(new URL(link, `${site.url}/cash.html`).href, { waitUntil: 'networkidle' });
          await page.waitForSelector('#replay p.sub');
          const sentence = await page.locator('#replay p.sub').innerText();
          const [, received, n, total] = sentence.match(/; ([\d,.−]+ [A-Z]{3}) received in ([\d,]+) payments, adding up to ([\d,.−]+ [A-Z]{3})/)!;
          const [want] = await readWarehouse(snapshot, `select actual_cents::bigint as cents from forecast.cash_backtest
            where run_as_of = (select max(run_as_of) from forecast.cash_backtest) and as_of = date '${origin}' and week_start = date '${week}'`);
          expect(cents(received!), `the chart's actual for the week of ${week} (replay of ${origin})`).toBe(Number(want!.cents));
          expect(cents(total!), `the payments of the week of ${week} add up to its actual`).toBe(Number(want!.cents));
          const dates = await column(page, '#replay-payments', 'Payment date');
          if (Number(n!.replace(/,/g, '')) > 0) {
            withPayments++;
            for (const d of dates) {
              expect(utcDay(d)).toBeGreaterThan(Date.parse(`${origin}T00:00:00Z`));
              expect(utcDay(d)).toBeLessThanOrEqual(Date.parse(`${week}T00:00:00Z`) + 6 * 864e5);
            }
          }
        }
        expect(withPayments, 'a replayed week with payments').toBeGreaterThan(0);
        await page.screenshot({ path: path.join(shots, `drill-cash-replay-${width}.png`), fullPage: true });

        // Fulfilment: a shipping month of the on-time chart lists its delivered shipments, late ones first, and its share on time is the chart's.
        await page.goto(`${site.url}/fulfilment.html`, { waitUntil: 'networkidle' });
        const shippedLinks = (await chartLinks(page, 'shipped=')).filter((h) => h.includes('shipped='));
        expect(shippedLinks.length, 'the on-time delivery months link to their shipments').toBeGreaterThan(0);
        const shippedLink = shippedLinks.at(-2) ?? shippedLinks.at(-1)!;
        const shippedMonth = new URL(shippedLink, site.url).searchParams.get('shipped')!;
        await page.goto(new URL(shippedLink, `${site.url}/fulfilment.html`).href, { waitUntil: 'networkidle' });
        await page.waitForSelector('#deliveries table tbody tr');
        const [, shipments, onTime, share, chart] = (await page.locator('#deliveries p.sub').innerText()).match(/^([\d,]+) shipments left .*; ([\d,]+) within \d+ days, ([\d.]+) % on time \(the chart: ([\d.]+) %\)/)!;
        const [delivered] = await readWarehouse(snapshot, `select count(*)::int as n, count(*) filter (where days_in_transit <= 3)::int as on_time from marts.fct_shipments
          where shipped_at is not null and delivered_at is not null and date_trunc('month', shipped_at) = date '${shippedMonth}'`);
        expect([Number(shipments!.replace(/,/g, '')), Number(onTime!.replace(/,/g, ''))]).toEqual([Number(delivered!.n), Number(delivered!.on_time)]);
        expect(share).toBe(chart);
        const kinds = await column(page, '#deliveries', 'Delivery');
        expect(kinds.length).toBeGreaterThan(0);
        expect(kinds.slice(kinds.indexOf('on time') < 0 ? kinds.length : kinds.indexOf('on time')).every((k) => k === 'on time'), 'late ones first').toBe(true);
        await page.screenshot({ path: path.join(shots, `drill-delivery-month-${width}.png`), fullPage: true });

        // Collections: a level's point of the dunning chart lists its reminded invoices; those settled in the window match the chart's count.
        await page.goto(`${site.url}/collections.html`, { waitUntil: 'networkidle' });
        const levelLinks = (await chartLinks(page, 'level=')).filter((h) => h.includes('level='));
        expect(levelLinks.length, 'every point of the dunning chart links to its reminders').toBeGreaterThan(0);
        for (const link of [levelLinks[0]!, levelLinks.at(-1)!]) {
          const params = new URL(link, site.url).searchParams;
          const [level, windowDays] = [Number(params.get('level')), Number(params.get('window'))];
          await page.goto(new URL(link, `${site.url}/collections.html`).href, { waitUntil: 'networkidle' });
          await page.waitForSelector('#reminders table tbody tr');
          const text = await page.locator('#reminders p.sub').innerText();
          const [, settled, notices] = text.match(new RegExp(`within ${windowDays} days: ([\\d,]+) of ([\\d,]+)`))!;
          const [want] = await readWarehouse(snapshot, `select sum(notices)::int as notices, sum(settled)::int as settled from metrics.dunning_effectiveness where level = ${level} and window_days = ${windowDays}`);
          expect({ settled: Number(settled!.replace(/,/g, '')), notices: Number(notices!.replace(/,/g, '')) }, `level ${level}, ${windowDays} days`).toEqual({ settled: Number(want!.settled), notices: Number(want!.notices) });
          const [sent] = await readWarehouse(snapshot, `select count(*)::int as n from marts.fct_reminders where level = ${level}`);
          expect(Number(text.match(/^([\d,]+) reminders at level/)![1]!.replace(/,/g, ''))).toBe(Number(sent!.n));
          // An invoice settled within 30 days of its reminder was paid off within them, and one not settled was not.
          const [on = [], paid = [], in30 = []] = await Promise.all(['Reminded on', 'Paid off on', 'Settled in 30 days'].map((h) => column(page, '#reminders', h)));
          expect(in30.length).toBeGreaterThan(0);
          in30.forEach((s, i) => {
            // An empty cell: the balance has not reached zero by the as-of date.
            const days = /\d/.test(paid[i] ?? '') ? (utcDay(paid[i]!) - utcDay(on[i]!)) / 864e5 : null;
            if (s === 'yes') expect(days, `row ${i + 1}: reminded ${on[i]}, paid off ${paid[i]}`).toBeLessThanOrEqual(30);
            if (s === 'no' && days != null) expect(days, `row ${i + 1}: reminded ${on[i]}, paid off ${paid[i]}`).toBeGreaterThan(30);
          });
        }
        await page.screenshot({ path: path.join(shots, `drill-reminders-${width}.png`), fullPage: true });
        expect(problems).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  it('downloads a table as a formula-safe CSV and the month-end pack as a workbook', async () => {
    const { page, problems, close } = await open(1440, `${site.url}/collections.html`);
    try {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('main button.download').first().click()]);
      const csv = fs.readFileSync((await download.path())!, 'utf8');
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]).toBe('Invoice,Customer,Risk class,Due,Days past due,Open amount (EUR),Expected payment,Earliest (10 %),Latest (90 %),Chance of paying late,Amount at risk (EUR)');
      expect(lines.length).toBeGreaterThan(2);
      expect(lines[1]).toMatch(/^INV-[\w-]+,[^,]+,[A-E]?,\d{4}-\d{2}-\d{2},-?\d+,\d+(\.\d+)?,/);

      await page.goto(`${site.url}/index.html`, { waitUntil: 'networkidle' });
      const [pack] = await Promise.all([page.waitForEvent('download'), page.locator('a[download="month-end-pack.xlsx"]').click()]);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile((await pack.path())!);
      expect(wb.worksheets.map((w) => w.name)).toEqual([expect.stringMatching(/^Aging \d{4}-\d{2}-\d{2}$/), 'KPIs', 'Cash forecast']);
      const kpis = wb.getWorksheet('KPIs')!;
      expect(kpis.getRow(1).getCell(2).value).toBe('Receivables (EUR)');
      expect(kpis.rowCount).toBeGreaterThan(3);
      expect(typeof kpis.getRow(2).getCell(2).value).toBe('number');
      // The aging sheet adds up to the receivables at the last closed month-end.
      const aging = wb.worksheets[0]!;
      let total = 0;
      aging.eachRow((row, i) => {
        if (i > 1) total += Number(row.getCell(3).value);
      });
      expect(Math.round(total * 100)).toBe(Math.round(Number(kpis.getRow(kpis.rowCount).getCell(2).value) * 100));
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});
