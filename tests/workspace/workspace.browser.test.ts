import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { chromiumArgs, chromiumPath, hasChromium } from '../helpers/browser.ts';
import { camtStatement, importUnmatchedCredits } from '../helpers/workspace.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { createOrder, getOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { assignCustomer } from '../../src/collections/policy.service.ts';
import type { Role } from '../../src/api/permissions.ts';
import { createUser } from '../../src/users/user.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { applyCreditScores } from '../../src/credit/score.service.ts';

const shots = path.join(os.tmpdir(), 'cashloop-workspace-shots');
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const VIEWPORTS = [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844 }],
] as const;

/**
 * The workspace in headless Chromium behind the real server, used only through its pages:
 * the order-to-cash walk (entry → credit hold → release → partial shipment → delivery with
 * signature → invoice → bank statement imported → bank line matched → paid), a collector's promise and dispute moving
 * the worklist, a salesperson's page following a status change without reloading — each at
 * 1440 and 390 px — and axe-core over every page. No page logs an error, breaks its
 * Content-Security-Policy or asks another host for anything. Screenshots go to
 * `$TMPDIR/cashloop-workspace-shots`.
 */
// The pages do not depend on the database: one pass, on SQLite, like the other browser suites.
describe.skipIf(!hasChromium || testDialect === 'postgres')('the workspace in a browser', () => {
  let t: TestCore;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  const keys = {} as Record<'admin' | 'sales' | 'credit' | 'logistics' | 'finance' | 'collector', string>;
  let heldId: number;
  let acmeId: number;
  let prepaidId: number;
  /** A customer with two invoices 26 days late, one per viewport's run (a promise stands on an invoice once). */
  const late: Record<string, { id: number; name: string }> = {};
  const problems: string[] = [];

  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
    const { core } = t;
    acmeId = (await createCustomer(core, { name: 'Acme GmbH', creditLimit: '500', paymentTermsDays: 30, currency: 'EUR', salesRep: 'sam', email: 'ap@acme.example' }, 'test')).id;
    // Three months of scores, so the 360° page has a score history to show.
    for (const [asOf, score, riskClass] of [['2025-12-31', 92, 'A'], ['2026-01-31', 84, 'B'], ['2026-02-28', 78, 'B']] as const) {
      await applyCreditScores(core, [{ customerId: acmeId, score, riskClass, suggestedLimitMinor: score * 1000_00, reasons: score < 85 ? [`pays ${100 - score} days late on average (-${100 - score})`] : [] }], 'test', { asOf });
    }
    const heldCustomer = (await createCustomer(core, { name: 'Watchful SARL', creditLimit: '0', paymentTermsDays: 30, currency: 'EUR', salesRep: 'sam' }, 'test')).id;
    await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'test');
    await createProduct(core, { sku: 'GADGET', name: 'Gadget', price: '99.00', taxRate: '20' }, 'test');
    await receiveStock(core, { sku: 'WIDGET', quantity: 400 }, 'test');
    await receiveStock(core, { sku: 'GADGET', quantity: 10 }, 'test');
    // Two invoices of each late customer fall due on 2026-02-04; on 2026-03-02 they are 26 days late.
    for (const [label, name] of [['desktop', 'Latecomer AG'], ['phone', 'Tardy BV']] as const) {
      const id = (await createCustomer(core, { name, creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR', salesRep: 'sam', email: 'ap@late.example' }, 'test')).id;
      late[label] = { id, name };
      for (const qty of [2, 3]) {
        const o = await submitOrder(core, (await createOrder(core, { customerId: id, lines: [{ sku: 'GADGET', quantity: qty }] }, 'test')).id, 'test');
        await deliverShipment(core, (await createShipment(core, { orderId: o.id, carrier: 'DHL', trackingNumber: `L-${id}-${qty}` }, 'test')).id, { signedBy: 'R. Late' }, 'test');
      }
      await assignCustomer(core, { customerId: id, collector: 'cole' }, 'test');
    }
    t.clock.set('2026-03-02T09:00:00Z');
    heldId = (await submitOrder(core, (await createOrder(core, { customerId: heldCustomer, lines: [{ sku: 'WIDGET', quantity: 1 }] }, 'test')).id, 'test')).id;
    const names: Record<keyof typeof keys, string> = { admin: 'ada', sales: 'sam', credit: 'carla', logistics: 'leo', finance: 'fin', collector: 'cole' };
    for (const [role, name] of Object.entries(names)) keys[role as keyof typeof keys] = (await createApiKey(core, { role: role as Role, name }, 'test')).key;
    // A salesperson with a user account, and a customer of class E, on prepayment terms.
    await createUser(core, { name: 'Sam', role: 'sales', password: 'sam-sells-widgets' }, 'test');
    await setSetting(core, 'credit.prepayment_classes', 'E', 'test');
    prepaidId = (await createCustomer(core, { name: 'Prepaid Oy', creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR', riskClass: 'E', salesRep: 'Sam' }, 'test')).id;
    app = await buildServer(core, { rateLimitPerMinute: 1_000_000, workspace: { live: { pollMs: 100 } } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    fs.mkdirSync(shots, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.cleanup();
  });

  /** A signed-in page of `role` that records console errors, policy violations and any request to another host. */
  async function open(role: keyof typeof keys, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, isMobile: viewport.width < 500 });
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`${role}: console: ${m.text()} at ${page.url()}`));
    page.on('pageerror', (e) => problems.push(`${role}: page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`${role}: outside request: ${r.url()}`);
    });
    await page.exposeFunction('__violation', (v: string) => problems.push(`${role}: policy: ${v}`));
    await page.addInitScript("document.addEventListener('securitypolicyviolation', (e) => window.__violation(e.violatedDirective + ' ' + e.blockedURI))");
    await page.goto(`${base}/app?key=${keys[role]}`);
    expect(new URL(page.url()).pathname).toBe('/app');
    return { context, page };
  }

  async function shot(page: Page, name: string, width: number): Promise<void> {
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
    // Usable on a phone: nothing wider than the screen.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'), `${name} at ${width} px is wider than the screen`).toBe(true);
    // A date is never broken at its hyphens: each <time> sits on one line box.
    const broken = await page.evaluate("[...document.querySelectorAll('time')].filter((t) => t.getClientRects().length > 1).map((t) => t.textContent)");
    expect(broken, `${name} at ${width} px breaks a date across lines`).toEqual([]);
  }

  const notice = (page: Page) => page.locator('.alert.ok').innerText();

  for (const [label, viewport] of VIEWPORTS) {
    it(`walks an order from entry to paid through the workspace on a ${label} (${viewport.width} px)`, async () => {
      const desk = await open('sales', viewport);
      const { page } = desk;
      await page.goto(`${base}/app/orders`);
      // The customer by name, with the keyboard: type, Tab to the match, Enter; focus comes back to the field.
      await page.locator('#customer-q').pressSequentially('acme g');
      // Typing slowly fires a search for a part of the text too ("acme"), whose list also offers
      // Acme GmbH; Tab only once the list for the whole text is in, or the next list to land
      // replaces the button Tab reached.
      await page.getByRole('list', { name: 'Customers matching acme g' }).getByRole('button', { name: 'Choose Acme GmbH' }).waitFor();
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Choose Acme GmbH');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#customer-chosen').innerText()).toContain(`Chosen: Acme GmbH, no. ${acmeId}, EUR`);
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('customer-q');
      expect(await page.locator('input[name=customerId]').inputValue()).toBe(String(acmeId));
      await page.fill('#product-q', 'widg');
      await page.getByRole('button', { name: 'Add WIDGET' }).click();
      const qty = page.locator('#lines input[name=quantity]');
      await qty.fill('60');
      await qty.press('Tab');
      await expect.poll(() => page.locator('#credit-preview').innerText()).toContain('Would go on credit hold');
      expect(await page.locator('#credit-preview').innerText()).toContain('exposure 900.00 EUR exceeds credit limit 500.00 EUR');
      await shot(page, 'order-entry', viewport.width);
      await page.getByRole('button', { name: 'Submit order' }).click();
      await page.waitForURL(/\/app\/orders\/\d+\?done=submitted/);
      const orderId = Number(/\/app\/orders\/(\d+)/.exec(page.url())![1]);
      expect(await page.locator('#order-status').innerText()).toBe('credit hold');
      await shot(page, 'order', viewport.width);

      const controller = await open('credit', viewport);
      await controller.page.goto(`${base}/app/credit`);
      const card = controller.page.locator(`#hold-${orderId}`);
      expect(await card.innerText()).toContain('exposure 900.00 EUR exceeds credit limit 500.00 EUR');
      await shot(controller.page, 'credit', viewport.width);
      await card.getByLabel(`Reason for order ${orderId}`).fill('long-standing customer');
      await card.getByRole('button', { name: 'Release' }).click();
      expect(await notice(controller.page)).toBe(`Order ${orderId} released.`);
      // The order desk's page saw it without a reload.
      await expect.poll(() => page.locator('#order-status').innerText(), { timeout: 10_000 }).toBe('approved');

      const warehouse = await open('logistics', viewport);
      const w = warehouse.page;
      await w.goto(`${base}/app/logistics`);
      await w.getByLabel('Quantity of WIDGET to ship').last().fill('40');
      await w.locator(`form[action="/app/logistics/orders/${orderId}/ship"]`).getByLabel('Carrier').fill('DHL');
      await w.locator(`form[action="/app/logistics/orders/${orderId}/ship"]`).getByLabel('Tracking number').fill('00340434');
      await shot(w, 'logistics-ship', viewport.width);
      await w.locator(`form[action="/app/logistics/orders/${orderId}/ship"]`).getByRole('button', { name: 'Ship' }).click();
      expect(await notice(w)).toMatch(new RegExp(`^Shipment \\d+ created for order ${orderId}\\.$`));
      expect((await getOrder(t.core, orderId)).status).toBe('partially_shipped');
      const first = Number(/Shipment (\d+)/.exec(await notice(w))![1]);
      await w.getByLabel(`Signed for shipment ${first} by`).fill('J. Doe');
      await shot(w, 'logistics-deliver', viewport.width);
      await w.getByLabel(`Signed for shipment ${first} by`).locator('xpath=ancestor::form').getByRole('button', { name: 'Record delivery' }).click();
      const invoice = /invoiced as (INV-\d{4}-\d{6})/.exec(await notice(w))![1]!;
      // The rest: 20 reserved are left, the form offers them.
      await w.goto(`${base}/app/logistics`);
      const rest = w.locator(`form[action="/app/logistics/orders/${orderId}/ship"]`);
      expect(await rest.getByLabel('Quantity of WIDGET to ship').inputValue()).toBe('20');
      await rest.getByLabel('Carrier').fill('DHL');
      await rest.getByLabel('Tracking number').fill('00340435');
      await rest.getByRole('button', { name: 'Ship' }).click();
      const second = Number(/Shipment (\d+)/.exec(await notice(w))![1]);
      await w.getByLabel(`Signed for shipment ${second} by`).fill('J. Doe');
      await w.getByLabel(`Signed for shipment ${second} by`).locator('xpath=ancestor::form').getByRole('button', { name: 'Record delivery' }).click();
      expect(await notice(w)).toContain('invoiced as INV-');
      expect((await getOrder(t.core, orderId)).status).toBe('invoiced');

      // Finance imports the bank's statement: 900.00 from a payer nobody knows, naming no invoice; then matches it.
      const cash = await open('finance', viewport);
      await cash.page.goto(`${base}/app/cash`);
      await cash.page.setInputFiles('#f-file', { name: `statement-${label}.xml`, mimeType: 'application/xml', buffer: Buffer.from(camtStatement(`WALK-${label}`, [{ ref: 'W1', amount: '900.00', date: '2026-03-02' }])) });
      await cash.page.getByRole('button', { name: 'Import' }).click();
      expect(await notice(cash.page)).toBe('Statement imported: 1 entry read, 0 matched, 1 waiting for a match, 0 returned, 0 other debits.');
      const line = cash.page.locator('article', { hasText: '900.00 EUR on 2026-03-02' }).first();
      await shot(cash.page, 'cash', viewport.width);
      await line.getByLabel(/Invoice number for bank line/).fill(invoice);
      await line.getByRole('button', { name: 'Match' }).click();
      expect(await notice(cash.page)).toMatch(new RegExp(`^Bank line \\d+ matched to ${invoice}\\.$`));
      await expect.poll(() => page.locator('#order-status').innerText(), { timeout: 10_000 }).toBe('paid');
      await page.goto(`${base}/app/customers/${acmeId}`);
      expect(await page.locator('#shipments-h').locator('xpath=..').innerText()).toContain('signed by J. Doe');
      expect(await page.locator('#scores-h').locator('xpath=..').innerText()).toContain('Latest 78 points, class B, down 6 since 2026-01-31.');
      expect(await page.locator('ol.sparkline meter').count()).toBe(3);
      await shot(page, 'customer-360', viewport.width);
      for (const c of [desk, controller, warehouse, cash]) await c.context.close();
      expect(problems).toEqual([]);
    }, 120_000);

    it(`lets a collector record a promise and a dispute and see the worklist change on a ${label} (${viewport.width} px)`, async () => {
      const { context, page } = await open('collector', viewport);
      await page.goto(`${base}/app/collections?mine=1`);
      const { id: lateId, name: lateName } = late[label]!;
      const rows = () => page.locator('#worklist tbody tr', { hasText: lateName });
      // One row per account, first of the collector's two equally late accounts until the promise and the dispute.
      await expect.poll(() => rows().count()).toBe(1);
      expect(await rows().locator('td').first().innerText()).toBe('1');
      await shot(page, 'worklist', viewport.width);
      const before = await page.locator('#worklist').innerText();
      await rows().first().getByRole('link', { name: lateName }).click();
      await page.waitForURL(new RegExp(`/app/collections/customers/${lateId}$`));
      const [one, two] = (await page.locator('#promise-invoices option').allTextContents()).slice(1).map((x) => x.split(' · ')[0]!);
      // A date in the past is refused with the field and the rule.
      await page.fill('#promise-date', '2026-01-01');
      await page.selectOption('#promise-invoices', one!);
      await page.getByRole('button', { name: 'Record promise' }).click();
      expect(await page.locator('#promise-date').getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator('#f-promise-date-error, #promise-date-error').innerText()).toContain('(rule: not_in_past)');
      await shot(page, 'promise-refused', viewport.width);
      if (await page.locator('.alert.ok').count()) throw new Error('a refused promise must not say it was saved');
      const promiseDate = '2026-03-20';
      await page.fill('#promise-date', promiseDate);
      await page.selectOption('#promise-invoices', one!);
      await page.getByRole('button', { name: 'Record promise' }).click();
      expect(await notice(page)).toContain('Promise recorded');
      await page.selectOption('#dispute-invoice', two!);
      await page.fill('#dispute-reason', 'one box damaged');
      await page.fill('#dispute-amount', '10.00');
      await page.getByRole('button', { name: 'Open dispute' }).click();
      expect(await notice(page)).toContain('Dispute opened');
      await page.getByRole('button', { name: 'Preview the next reminder' }).click();
      await expect.poll(() => page.locator('#reminder-preview').innerText()).toMatch(/reminder|no reminder to send/i);
      await shot(page, 'collections-customer', viewport.width);
      await page.goto(`${base}/app/collections?mine=1`);
      const after = await page.locator('#worklist').innerText();
      expect(after).not.toBe(before);
      expect(await rows().innerText()).toContain(`by ${promiseDate}`);
      expect(await rows().innerText()).toContain('1 open');
      expect(await rows().locator('td').first().innerText()).toBe('2');
      await context.close();
      expect(problems).toEqual([]);
    }, 60_000);

    it(`shows a salesperson their customer's status change without reloading on a ${label} (${viewport.width} px)`, async () => {
      const { context, page } = await open('sales', viewport);
      const target = label === 'desktop' ? heldId : (await submitOrder(t.core, (await createOrder(t.core, { customerId: (await getOrder(t.core, heldId)).customerId, lines: [{ sku: 'WIDGET', quantity: 1 }] }, 'test')).id, 'test')).id;
      await page.goto(`${base}/app/sales`);
      const badge = page.locator('#portfolio li', { hasText: `Order ${target}` });
      expect(await badge.innerText()).toContain('credit hold');
      await page.evaluate('window.__same = true');
      const controller = await open('credit', viewport);
      await controller.page.goto(`${base}/app/credit`);
      await controller.page.locator(`#hold-${target}`).getByLabel(`Reason for order ${target}`).fill('paid in advance');
      await controller.page.locator(`#hold-${target}`).getByRole('button', { name: 'Release' }).click();
      await expect.poll(() => badge.innerText(), { timeout: 10_000 }).toContain('approved');
      expect(await page.evaluate('window.__same')).toBe(true);
      await shot(page, 'sales', viewport.width);
      await controller.context.close();
      await context.close();
      expect(problems).toEqual([]);
    }, 60_000);
  }

  for (const [label, viewport] of VIEWPORTS) {
    it(`signs a user in with name and password, shows prepayment terms at entry, and refuses a write without its CSRF token or session on a ${label} (${viewport.width} px)`, async () => {
      const context = await browser.newContext({ viewport, isMobile: viewport.width < 500 });
      const page = await context.newPage();
      page.on('console', (m) => m.type() === 'error' && problems.push(`user: console: ${m.text()} at ${page.url()}`));
      page.on('pageerror', (e) => problems.push(`user: page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`user: outside request: ${r.url()}`);
      });
      await page.goto(`${base}/app/orders`);
      expect(new URL(page.url()).pathname).toBe('/sign-in');
      await page.evaluate(axeSource);
      const axe = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as { violations: { id: string; impact: string }[] };
      expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
      await page.fill('#name', 'Sam');
      await page.fill('#password', 'not-the-password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      expect(await page.locator('.alert.error').innerText()).toContain('That name and password do not match.');
      expect(await page.locator('#password').getAttribute('aria-invalid')).toBe('true');
      await shot(page, 'sign-in-refused', viewport.width);
      await page.fill('#password', 'sam-sells-widgets');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${base}/app/orders`);

      // Order entry for a customer on prepayment terms: the terms show before submitting.
      // A quick typist moves on to the product search while the chosen customer is still on its
      // way (held back here for 600 ms, as a slow server would): the swap that shows the customer
      // lands in the middle of the word and must leave the focus, and the typing, where they are.
      await page.fill('#customer-q', String(prepaidId));
      const slowChoice = (url: URL) => url.pathname === '/app/orders/customer';
      await page.route(slowChoice, async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 600));
        await route.continue();
      });
      await page.getByRole('button', { name: 'Choose Prepaid Oy' }).click();
      await page.locator('#product-q').pressSequentially('widg', { delay: 200 });
      await expect.poll(() => page.locator('#customer-chosen').innerText()).toContain('Chosen: Prepaid Oy');
      await page.unroute(slowChoice);
      expect(await page.locator('#product-q').inputValue()).toBe('widg');
      expect(await page.locator('#customer-q').inputValue()).toBe('Prepaid Oy');
      expect(await page.evaluate('document.activeElement?.id')).toBe('product-q');
      await page.getByRole('button', { name: 'Add WIDGET' }).click();
      const qty = page.locator('#lines input[name=quantity]');
      await qty.fill('8');
      await qty.press('Tab');
      await expect.poll(() => page.locator('#credit-preview').innerText()).toContain('Prepayment terms');
      expect(await page.locator('#credit-preview').innerText()).toContain('waits for a payment of 120.00 EUR');
      await shot(page, 'order-entry-prepayment', viewport.width);
      await page.getByRole('button', { name: 'Submit order' }).click();
      await page.waitForURL(/\/app\/orders\/\d+\?done=submitted/);
      const orderId = Number(/\/app\/orders\/(\d+)/.exec(page.url())![1]);
      expect(await page.locator('#order-status').innerText()).toBe('awaiting prepayment');
      expect((await getOrder(t.core, orderId)).status).toBe('awaiting_prepayment');
      await shot(page, 'order-prepayment', viewport.width);

      // A write with this browser's session cookie but without the CSRF token is refused, and so
      // is one with the token after signing out (the browser context's own cookies, sent as a page would).
      const cancel = (headers: Record<string, string>) => context.request.post(`${base}/app/orders/${orderId}/cancel`, { headers, form: { reason: 'forged' }, maxRedirects: 0 });
      const forged = await cancel({});
      expect(forged.status()).toBe(403);
      expect(((await forged.json()) as { rule: string }).rule).toBe('csrf_token');
      const csrf = (await context.cookies()).find((c) => c.name === 'cashloop_csrf')!.value;
      const session = (await context.cookies()).find((c) => c.name === 'cashloop_session')!.value;
      await page.goto(`${base}/`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/sign-in/);
      expect((await context.cookies()).find((c) => c.name === 'cashloop_session')).toBeUndefined();
      // Even the old cookie, put back, opens nothing: the session ended on the server.
      await context.addCookies([{ name: 'cashloop_session', value: session, url: base }]);
      const afterSignOut = await cancel({ 'x-csrf-token': csrf });
      expect(afterSignOut.status()).toBe(401);
      expect((await getOrder(t.core, orderId)).status).toBe('awaiting_prepayment');
      await context.close();
      expect(problems).toEqual([]);
    }, 120_000);
  }

  it('has no serious or critical accessibility violation on any page (axe-core), at 1440 and 390 px', async () => {
    // A hold, an unmatched bank line and a refused form, so every kind of card is on a page.
    const o = await submitOrder(t.core, (await createOrder(t.core, { customerId: acmeId, lines: [{ sku: 'WIDGET', quantity: 80 }] }, 'test')).id, 'test');
    await importUnmatchedCredits(t.core, t.dataDir, [{ amount: '12.34', ref: 'A11Y', date: '2026-03-02' }]);
    const pages = ['/app', '/app/orders', `/app/orders/${o.id}`, '/app/credit', '/app/logistics', '/app/logistics?view=deliver', '/app/cash', '/app/collections', `/app/collections/customers/${late.desktop!.id}`, '/app/sales?rep=sam', '/app/customers', `/app/customers/${acmeId}`, '/app/notifications'];
    for (const [, viewport] of VIEWPORTS) {
      const { context, page } = await open('admin', viewport);
      const found: string[] = [];
      const check = async (where: string) => {
        await page.evaluate(axeSource);
        const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
        for (const v of result.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) found.push(`${where} @${viewport.width}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      };
      for (const p of pages) {
        await page.goto(base + p);
        await page.waitForLoadState('load');
        await check(p);
        await shot(page, `page${p.replace(/[^a-z0-9]+/gi, '-')}`, viewport.width);
      }
      // A form the core refused: the error beside its field.
      await page.goto(`${base}/app/credit`);
      // Blank to the core (it trims), not to the browser's own check of a required field.
      await page.locator(`#reason-${o.id}`).fill('   ');
      await page.locator(`#hold-${o.id}`).getByRole('button', { name: 'Release' }).click();
      expect(await page.locator(`#reason-${o.id}`).getAttribute('aria-invalid')).toBe('true');
      await check('/app/credit (refused)');
      // The customer search at order entry: its results, then a customer chosen.
      await page.goto(`${base}/app/orders`);
      await page.locator('#customer-q').pressSequentially('a');
      await page.locator('#customer-results li').first().waitFor();
      await check('/app/orders (customer search)');
      await shot(page, 'order-entry-customer-search', viewport.width);
      await page.locator('#customer-results button').first().click();
      await page.locator('#customer-chosen strong').waitFor();
      await check('/app/orders (customer chosen)');
      await context.close();
      expect(found).toEqual([]);
    }
    expect(problems).toEqual([]);
    // Thirty-odd pages, each loaded, scanned by axe-core and photographed twice: on the shared
    // 2-core machine under load this ran past two minutes without any failure of its own.
  }, 300_000);
});
