import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { signedIn, textOf, type Browser } from '../helpers/workspace.ts';
import { buildServer } from '../../src/api/server.ts';
import { createCustomer, searchCustomers } from '../../src/customers/customer.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

/** The page's text with no space before a comma (a tag ends there). */
const flat = (body: string) => textOf(body).replace(/\s+([,.])/g, '$1');

describe(`order entry finds the customer by name or number (${testDialect})`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let sales: Browser;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    for (const [name, externalId] of [['Acme GmbH', 'K-1001'], ['Acme Nord AG', null], ['Nordic Acme Oy', null], ['Bolt & Nut 50% Ltd', 'K-2002'], ['Zeta_Works', null]] as const) {
      ids[name] = (await createCustomer(t.core, { name, externalId: externalId ?? undefined, creditLimit: '1000', currency: 'EUR' }, 'test')).id;
    }
    for (let i = 1; i <= 19; i++) await createCustomer(t.core, { name: `Filler ${String(i).padStart(2, '0')} Acme`, creditLimit: '1', currency: 'EUR' }, 'test');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    sales = await signedIn(app, t.core, 'sales', 'sam');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('ranks the customer of that number first, then names that start with the text, then the rest, a page at a time', async () => {
    const first = await searchCustomers(t.core, 'ACME', { limit: 8 });
    expect(first.customers.map((c) => c.name)).toEqual(['Acme GmbH', 'Acme Nord AG', 'Filler 01 Acme', 'Filler 02 Acme', 'Filler 03 Acme', 'Filler 04 Acme', 'Filler 05 Acme', 'Filler 06 Acme']);
    expect(first.next).toBe(8);
    const pages = [first.customers];
    let next = first.next;
    while (next !== null) {
      const p = await searchCustomers(t.core, 'acme', { from: String(next), limit: '8' });
      pages.push(p.customers);
      next = p.next;
    }
    expect(pages.map((p) => p.length)).toEqual([8, 8, 6]);
    expect(pages.flat().map((c) => c.name).at(-1)).toBe('Nordic Acme Oy');
    expect(new Set(pages.flat().map((c) => c.id)).size).toBe(22);
    // A number finds that customer first, and external ids are searched too.
    const byNumber = await searchCustomers(t.core, String(ids['Zeta_Works']));
    expect(byNumber.customers[0]!.name).toBe('Zeta_Works');
    expect((await searchCustomers(t.core, 'k-2002')).customers.map((c) => c.name)).toEqual(['Bolt & Nut 50% Ltd']);
    // LIKE's wildcards are searched as themselves.
    expect((await searchCustomers(t.core, '50%')).customers.map((c) => c.name)).toEqual(['Bolt & Nut 50% Ltd']);
    expect((await searchCustomers(t.core, 'a_w')).customers.map((c) => c.name)).toEqual(['Zeta_Works']);
    expect(await searchCustomers(t.core, '   ')).toEqual({ customers: [], next: null });
  });

  it('refuses bad search input with the field and the rule', async () => {
    for (const [text, options, field, rule] of [
      [7, {}, 'q', 'text'],
      ['x'.repeat(65), {}, 'q', 'max_length'],
      ['a', { limit: 51 }, 'limit', 'range'],
      ['a', { from: -1 }, 'from', 'non_negative_integer'],
      ['a', { from: '1e3' }, 'from', 'non_negative_integer'],
    ] as const) {
      const error = await searchCustomers(t.core, text, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).detail).toMatchObject({ field, rule });
    }
  });

  it('the order desk lists matches as buttons, pages them on the server, and choosing one fills the order', async () => {
    const desk = await sales.get('/app/orders');
    expect(desk.body).toMatch(/<label for="customer-q">Customer \(name or number\)<\/label>\s*<input id="customer-q" type="search" name="q" form="customer-search"/);
    expect(desk.body).toContain('<input type="hidden" name="customerId" value="">');
    const found = await sales.get('/app/orders/customers?q=acme');
    expect(found.statusCode).toBe(200);
    expect(found.body.match(/<li>/g)).toHaveLength(8);
    expect(found.body).toContain(`hx-get="/app/orders/customer?id=${ids['Acme GmbH']}"`);
    expect(flat(found.body)).toContain(`Acme GmbH no. ${ids['Acme GmbH']} · K-1001 · EUR`);
    expect(found.body).toContain('hx-get="/app/orders/customers?q=acme&amp;from=8"');
    expect(found.body).not.toContain('Previous customers');
    const last = await sales.get('/app/orders/customers?q=acme&from=16');
    expect(last.body.match(/<li>/g)).toHaveLength(6);
    expect(last.body).toContain('hx-get="/app/orders/customers?q=acme&amp;from=8"');
    expect(last.body).not.toContain('More customers');
    expect(textOf((await sales.get('/app/orders/customers?q=nobody')).body)).toContain('No customer matches “nobody”.');
    expect((await sales.get('/app/orders/customers?q=')).body).toBe('');
    const refused = await sales.get('/app/orders/customers?q=a&from=-2');
    expect(refused.statusCode).toBe(400);

    const chosen = await sales.get(`/app/orders/customer?id=${ids['Acme Nord AG']}`);
    expect(chosen.statusCode).toBe(200);
    expect(chosen.headers['hx-trigger']).toBe('customer-chosen');
    expect(chosen.body).toContain(`<input type="hidden" name="customerId" value="${ids['Acme Nord AG']}">`);
    expect(chosen.body).toMatch(/<input id="customer-q"[^>]*value="Acme Nord AG"[^>]*data-refocus/);
    expect(flat(chosen.body)).toContain(`Chosen: Acme Nord AG, no. ${ids['Acme Nord AG']}, EUR, risk class not set`);
    expect(chosen.body).toContain('<div id="customer-results" aria-live="polite"></div></div>');
    expect((await sales.get('/app/orders/customer?id=999999')).statusCode).toBe(404);

    // "New order" from a customer's page arrives with the customer chosen.
    const fromCustomer = await sales.get(`/app/orders?customer=${ids['Acme GmbH']}`);
    expect(fromCustomer.body).toContain(`<input type="hidden" name="customerId" value="${ids['Acme GmbH']}">`);
    expect(flat(fromCustomer.body)).toContain(`Chosen: Acme GmbH, no. ${ids['Acme GmbH']} (K-1001), EUR`);
  });
});
