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
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { assignCustomer } from '../../src/collections/policy.service.ts';
import { importBankStatement } from '../../src/bank/bank.service.ts';
import type { Role } from '../../src/api/permissions.ts';

const shots = path.join(os.tmpdir(), 'cashloop-workspace-shots');
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const MAPPING = path.resolve(import.meta.dirname, '../fixtures/bank/bank-export.mapping.json');
const VIEWPORTS = [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844 }],
] as const;

/**
 * The money pages in headless Chromium behind the real server, through the pages only: a
 * collector moves an account down the worklist with a promise and a dispute; finance
 * applies a suggested match in a click, has a split refused beside its field, splits it and
 * keeps a line on account; a salesperson reads their portfolio — at 1440 and 390 px, with
 * axe-core on each page, no console error and no request to another host. Screenshots go to
 * `$TMPDIR/cashloop-workspace-shots` (money-*.png).
 */
describe.skipIf(!hasChromium || testDialect === 'postgres')('the money pages in a browser', () => {
  let t: TestCore;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  const keys = {} as Record<'finance' | 'collector' | 'sales', string>;
  const problems: string[] = [];
  const axeFound: string[] = [];
  /** Per viewport: two equally late accounts of the collector, and a customer whose two invoices a bank line pays. */
  const setup: Record<string, { first: string; second: string; payer: string }> = {};

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { core } = t;
    const lines: string[] = [];
    for (const [label] of VIEWPORTS) {
      const names = { first: `Early ${label} AG`, second: `Later ${label} AG`, payer: `Payer ${label} GmbH` };
      setup[label] = names;
      for (const name of [names.first, names.second]) {
        const id = (await createCustomer(core, { name, creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR', salesRep: 'sam' }, 'test')).id;
        await assignCustomer(core, { customerId: id, collector: `cole-${label}` }, 'test');
        await importHistoricalInvoice(core, { customerId: id, externalRef: `${name.slice(0, 5)}-${label}-1`, invoiceDate: '2026-01-01', dueDate: '2026-02-10', amount: '300.00' }, 'test');
      }
      const payer = (await createCustomer(core, { name: names.payer, creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR', salesRep: 'sam' }, 'test')).id;
      for (const [n, amount] of [[1, '120.00'], [2, '80.00'], [3, '55.00']] as const) await importHistoricalInvoice(core, { customerId: payer, externalRef: `PAY-${label}-${n}`, invoiceDate: '2026-01-15', dueDate: `2026-02-1${n}`, amount }, 'test');
      lines.push(`02.03.2026;02.03.2026;200,00;EUR;PAYER ${label.toUpperCase()} GMBH.;;Sammelzahlung;S-${label}`, `02.03.2026;02.03.2026;90,00;EUR;PAYER ${label.toUpperCase()} GMBH.;;Teilzahlung;P-${label}`);
    }
    const file = path.join(t.dataDir, 'day.csv');
    fs.writeFileSync(file, ['Buchungstag;Valuta;Betrag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Buchungsreferenz', ...lines].join('\n') + '\n');
    await importBankStatement(core, { file, mapping: MAPPING, actor: 'test' });
    keys.finance = (await createApiKey(core, { role: 'finance' as Role, name: 'fin' }, 'test')).key;
    keys.sales = (await createApiKey(core, { role: 'sales' as Role, name: 'sam' }, 'test')).key;
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

  async function open(key: string, who: string, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, isMobile: viewport.width < 500 });
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`${who}: console: ${m.text()} at ${page.url()}`));
    page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`${who}: outside request: ${r.url()}`);
    });
    await page.goto(`${base}/app?key=${key}`);
    expect(new URL(page.url()).pathname).toBe('/app');
    return { context, page };
  }

  /** A screenshot, the page no wider than the screen, and axe-core's serious and critical findings. */
  async function look(page: Page, name: string, width: number): Promise<void> {
    await page.screenshot({ path: path.join(shots, `money-${name}-${width}.png`), fullPage: true });
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'), `${name} at ${width} px is wider than the screen`).toBe(true);
    await page.evaluate(axeSource);
    const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
    for (const v of result.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) axeFound.push(`${name} @${width}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  const notice = (page: Page) => page.locator('.alert.ok').innerText();
  const rankOf = (page: Page, name: string) => page.locator('#worklist tbody tr', { hasText: name }).locator('td').first().innerText();

  for (const [label, viewport] of VIEWPORTS) {
    it(`lets a collector move an account down the worklist with a promise and a dispute on a ${label} (${viewport.width} px)`, async () => {
      const { first, second } = setup[label]!;
      const key = (await createApiKey(t.core, { role: 'collector' as Role, name: `cole-${label}` }, 'test')).key;
      const { context, page } = await open(key, 'collector', viewport);
      await page.goto(`${base}/app/collections`);
      await page.getByLabel(/Assigned to me/).check();
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/mine=1/);
      expect(await page.locator('#worklist tbody tr').count()).toBe(2);
      expect([await rankOf(page, first), await rankOf(page, second)]).toEqual(['1', '2']);
      await look(page, 'worklist', viewport.width);
      await page.locator('#worklist').getByRole('link', { name: first }).click();
      const invoice = (await page.locator('#promise-invoices option').allTextContents())[1]!.split(' · ')[0]!;
      await page.fill('#promise-date', '2026-03-16');
      await page.selectOption('#promise-invoices', invoice);
      await page.getByRole('button', { name: 'Record promise' }).click();
      expect(await notice(page)).toContain('Promise recorded');
      await page.getByRole('link', { name: 'Back to the worklist' }).click();
      await page.goto(`${base}/app/collections?mine=1`);
      // The promise halves the account's weight: it drops below the other one at once.
      expect([await rankOf(page, second), await rankOf(page, first)]).toEqual(['1', '2']);
      expect(await page.locator('#worklist tbody tr', { hasText: first }).innerText()).toContain('300.00 by 2026-03-16');
      await page.locator('#worklist').getByRole('link', { name: second }).click();
      await page.selectOption('#dispute-invoice', { index: 1 });
      await page.fill('#dispute-reason', 'goods never arrived');
      await page.getByRole('button', { name: 'Open dispute' }).click();
      expect(await notice(page)).toContain('Dispute opened');
      await look(page, 'collections-customer', viewport.width);
      await page.goto(`${base}/app/collections?mine=1`);
      // Disputed, the other account weighs nothing for collections: the promised one is first again.
      expect([await rankOf(page, first), await rankOf(page, second)]).toEqual(['1', '2']);
      expect(await page.locator('#worklist tbody tr', { hasText: second }).innerText()).toContain('1 open · 300.00');
      await look(page, 'worklist-after', viewport.width);
      await context.close();
      expect(problems).toEqual([]);
    }, 60_000);

    it(`lets finance apply a suggested match, split a line and see a refusal beside its field on a ${label} (${viewport.width} px)`, async () => {
      const { payer } = setup[label]!;
      const { context, page } = await open(keys.finance, 'finance', viewport);
      await page.goto(`${base}/app/cash`);
      const card = (ref: string) => page.locator('article.card', { hasText: `/ ${ref}${label}` });
      const whole = card('S-');
      await expect.poll(() => whole.innerText()).toContain(`reads as ${payer}, and IMP-PAY-${label}-1 + IMP-PAY-${label}-2 together are exactly 200.00 EUR.`);
      await look(page, 'cash', viewport.width);
      await whole.getByRole('button', { name: /Apply suggestion 1/ }).click();
      expect(await notice(page)).toMatch(/^Bank line \d+ recorded as payment \d+\.$/);
      expect((await getInvoice(t.core, `IMP-PAY-${label}-1`)).status).toBe('paid');
      expect((await getInvoice(t.core, `IMP-PAY-${label}-2`)).status).toBe('paid');
      // The part payment: 90.00 against an invoice open for 55.00 is refused beside the amount.
      const part = card('P-');
      await part.getByText('Split across invoices, or keep on account').click();
      await part.getByLabel('Invoice 1', { exact: true }).fill(`IMP-PAY-${label}-3`);
      await part.getByLabel(/^Amount 1/).fill('90.00');
      await part.getByRole('button', { name: 'Apply split' }).click();
      const amount = page.locator('input[id$="-amount-0"][aria-invalid="true"]');
      expect(await amount.count()).toBe(1);
      expect(await page.locator(`#${await amount.getAttribute('id')}-error`).innerText()).toContain('(rule: within_balance)');
      expect(await amount.inputValue()).toBe('90.00');
      await look(page, 'cash-refused', viewport.width);
      await amount.fill('55.00');
      await page.getByRole('button', { name: 'Apply split' }).click();
      expect(await notice(page)).toMatch(/^Bank line \d+ recorded as payment \d+\.$/);
      expect((await getInvoice(t.core, `IMP-PAY-${label}-3`)).status).toBe('paid');
      await context.close();
      expect(problems).toEqual([]);
    }, 60_000);

    it(`shows a salesperson their portfolio on a ${label} (${viewport.width} px)`, async () => {
      const { context, page } = await open(keys.sales, 'sales', viewport);
      await page.goto(`${base}/app/sales`);
      const text = await page.locator('#portfolio').innerText();
      expect(text).toContain('6 customers in EUR: sales 1,710.00');
      expect(await page.locator('#portfolio tbody tr', { hasText: setup[label]!.first }).innerText()).toContain('300.00 EUR');
      await look(page, 'sales', viewport.width);
      await context.close();
      expect(problems).toEqual([]);
    }, 60_000);
  }

  it('finds no serious or critical accessibility violation on the money pages', () => {
    expect(axeFound).toEqual([]);
  });
});
