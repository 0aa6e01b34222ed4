import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { chromiumArgs, chromiumPath, hasChromium } from '../helpers/browser.ts';
import { buildServer } from '../../src/api/server.ts';
import { createPortalToken } from '../../src/api/keys.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment, updateShipmentStatus } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { createCreditNote, writeOffInvoice } from '../../src/invoicing/invoice.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';

/**
 * The portal in headless Chromium at 1440 px and on a 390 px phone: every page renders with
 * no console error and no request leaving the server, nothing sticks out sideways except
 * inside a scroll box, no "null", "NaN", "Infinity" or raw timestamp reaches the reader, the
 * open invoices are in the phone's first screen, and the statement's figures stand in
 * aligned columns on one line each. A dispute goes through the real form. Screenshots are
 * written to the temp folder (cashloop-portal-screens) for a person to look at.
 */
const SHOTS = path.join(os.tmpdir(), 'cashloop-portal-screens');
const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900, isMobile: false },
  { name: 'phone', width: 390, height: 844, isMobile: true },
] as const;
const PAGES = [
  ['overview', '/portal'],
  ['orders-2', '/portal/orders?page=2'],
  ['orders-3', '/portal/orders?page=3'],
  ['order-1', '/portal/orders/1'],
  ['invoice-1', '/portal/invoices/INV-2026-000001'],
  ['statement', '/portal/statement?from=2026-01-01&to=2026-04-20'],
] as const;

describe.skipIf(!hasChromium || testDialect === 'postgres')('portal pages in a browser', () => {
  let t: TestCore;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
    const { core } = t;
    await setSetting(core, 'company.name', 'Nordlicht Handel GmbH', actor);
    await setSetting(core, 'company.iban', 'DE89370400440532013000', actor);
    await setSetting(core, 'company.bic', 'COBADEFFXXX', actor);
    await setSetting(core, 'company.bank_name', 'Commerzbank', actor);
    const { customer } = await seedBasics(core, { stock: 5000, creditLimit: '1000000', customer: { name: 'Acme Großhandel GmbH & Co. KG' } });
    // Five delivered orders of large amounts (invoices 1…5), one on its way, one failed
    // delivery, then 20 orders not yet sent: three pages of orders.
    for (const q of [3, 40, 900, 7, 12]) {
      const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: q }] }, actor);
      await submitOrder(core, o.id, actor);
      const s = await createShipment(core, { orderId: o.id, carrier: 'DHL', trackingNumber: `00340434${o.id}` }, actor);
      await deliverShipment(core, s.id, { signedBy: 'J. Doe' }, actor);
    }
    for (const status of ['in_transit', 'failed'] as const) {
      const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 2 }] }, actor);
      await submitOrder(core, o.id, actor);
      const s = await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: `1Z999${o.id}` }, actor);
      await updateShipmentStatus(core, s.id, status, status === 'failed' ? 'nobody at the door' : null, actor);
    }
    for (let i = 0; i < 20; i++) await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    // Payments, a credit note, a short payment written off: every kind of statement line.
    t.clock.set('2026-02-10T09:00:00Z');
    await recordPayment(core, { customerId: customer.id, amount: '45.00', reference: 'INV-2026-000001' }, actor);
    await createCreditNote(core, { invoice: 'INV-2026-000002', amount: '60.00', reason: 'four widgets returned', kind: 'return' }, actor);
    await recordPayment(core, { customerId: customer.id, amount: '102.94', reference: 'INV-2026-000004' }, actor);
    await writeOffInvoice(core, 'INV-2026-000004', 'bank charges deducted by the customer', actor);
    t.clock.set('2026-04-20T09:00:00Z');
    token = (await createPortalToken(core, customer.id, actor)).token;
    app = await buildServer(core);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    fs.mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.cleanup();
  });

  /**
   * Elements sticking out past the right edge of the window, except inside a box that scrolls
   * sideways. (Run in the page, so written as the page's JavaScript.)
   */
  const overflowing = (page: Page) =>
    page.evaluate<{ out: string[]; pageWidth: number; width: number }>(`(() => {
      const width = document.documentElement.clientWidth;
      const inScrollBox = (el) => {
        for (let p = el.parentElement; p; p = p.parentElement) if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
        return false;
      };
      const out = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 1 && !inScrollBox(el)).map((el) => el.tagName.toLowerCase() + '.' + el.className);
      return { out, pageWidth: document.documentElement.scrollWidth, width };
    })()`);

  for (const vp of VIEWPORTS) {
    it(`renders every portal page at ${vp.width} px without errors, outside requests, overflow or raw values`, async () => {
      const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, isMobile: vp.isMobile, deviceScaleFactor: 1 });
      try {
        const page = await context.newPage();
        const requests: string[] = [];
        const errors: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${base}/portal?token=${token}`, { waitUntil: 'networkidle' });
        expect(page.url()).toBe(`${base}/portal`);
        for (const [name, url] of PAGES) {
          const res = await page.goto(base + url, { waitUntil: 'networkidle' });
          expect(res?.status(), url).toBe(200);
          const text = await page.locator('body').innerText();
          expect(text, url).not.toMatch(/\bnull\b|\bNaN\b|\bInfinity\b|\bundefined\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
          const o = await overflowing(page);
          expect(o.out, `${url} at ${vp.width}`).toEqual([]);
          expect(o.pageWidth, url).toBeLessThanOrEqual(o.width);
          await page.screenshot({ path: path.join(SHOTS, `${name}-${vp.name}.png`), fullPage: true });
        }
        expect(errors).toEqual([]);
        expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('shows the open invoices in the first screen of a phone', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/portal?token=${token}`, { waitUntil: 'networkidle' });
      const heading = await page.locator('#open-invoices').boundingBox();
      const first = await page.locator('ul.items li').first().boundingBox();
      expect(heading!.y).toBeLessThan(844);
      expect(first!.y + first!.height).toBeLessThan(844);
      expect(await page.locator('ul.items').first().innerText()).toContain('INV-2026-000002');
      await page.screenshot({ path: path.join(SHOTS, 'overview-phone-first-screen.png') });
    } finally {
      await context.close();
    }
  });

  it("keeps the statement's figures in aligned columns, one line each, on a phone", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/portal?token=${token}`, { waitUntil: 'networkidle' });
      await page.goto(`${base}/portal/statement?from=2026-01-01&to=2026-04-20`, { waitUntil: 'networkidle' });
      // Per figure column (debit, credit, balance): where each figure's text ends, on how many lines.
      const columns = await page.evaluate<{ text: string; right: number; lines: number; cellRight: number }[][]>(`(() => {
        const rows = [...document.querySelectorAll('table.statement tbody tr')];
        return [1, 2, 3].map((col) =>
          rows
            .map((r) => r.children[col])
            .filter((td) => td && td.textContent.trim() !== '')
            .map((td) => {
              const range = document.createRange();
              range.selectNodeContents(td);
              const rects = [...range.getClientRects()].filter((r) => r.width > 0);
              return { text: td.textContent.trim(), right: Math.round(rects.at(-1).right), lines: new Set(rects.map((r) => Math.round(r.top))).size, cellRight: Math.round(td.getBoundingClientRect().right) };
            }),
        );
      })()`);
      for (const cells of columns) {
        expect(cells.length).toBeGreaterThan(0);
        // Every figure of a column ends at the same x, and none wraps.
        expect(new Set(cells.map((c) => c.right)).size, JSON.stringify(cells)).toBe(1);
        expect(cells.every((c) => c.lines === 1), JSON.stringify(cells)).toBe(true);
      }
      // The whole table fits the phone: the balance column is on screen.
      expect(Math.max(...columns[2]!.map((c) => c.cellRight))).toBeLessThanOrEqual(390);
      const labels = await page.locator('table.statement tbody tr td:first-child .small').allInnerTexts();
      expect(labels.length).toBeGreaterThan(5);
      expect(labels.every((l) => l.trim().length > 3)).toBe(true);
      expect(labels).toContain('Written off: bank charges deducted by the customer');
      expect(labels).toContain('Returned goods: four widgets returned');
    } finally {
      await context.close();
    }
  });

  it('sends a dispute through the form, as a customer would', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${base}/portal?token=${token}`, { waitUntil: 'networkidle' });
      await page.goto(`${base}/portal/invoices/INV-2026-000003`, { waitUntil: 'networkidle' });
      await page.locator('#dispute summary').click();
      // Sent empty first: the reason is refused beside its field.
      await page.locator('#dispute button[type=submit]').click();
      await page.waitForLoadState('networkidle');
      expect(await page.locator('#dispute-reason-error').innerText()).toBe('reason is required');
      await page.locator('#dispute-reason').fill('three boxes arrived crushed');
      await page.locator('#dispute-amount').fill('30.00');
      await page.locator('#dispute button[type=submit]').click();
      await page.waitForLoadState('networkidle');
      expect(page.url()).toBe(`${base}/portal/invoices/INV-2026-000003?done=dispute#dispute`);
      expect(await page.locator('[role=status]').innerText()).toContain('your dispute is recorded');
      expect(await page.locator('body').innerText()).toContain('three boxes arrived crushed');
      await page.screenshot({ path: path.join(SHOTS, 'invoice-disputed-phone.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
