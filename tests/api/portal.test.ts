import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents, seedBasics } from '../helpers/fixtures.ts';
import { embeddedFonts, pdfLines } from '../helpers/pdf.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey, createPortalToken } from '../../src/api/keys.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { writeOffInvoice } from '../../src/invoicing/invoice.service.ts';
import { getSettings, setSetting } from '../../src/settings/settings.service.ts';
import { importBankStatement } from '../../src/bank/bank.service.ts';
import { fontFor } from '../../src/documents/pdf.ts';
import { money } from '../../src/documents/format.ts';

/**
 * The customer portal over HTTP, in-process (app.inject), on SQLite and PostgreSQL: orders
 * newest first a page at a time, what is owed on top from one summary, the dispute and
 * promise forms with their CSRF protection reaching the collector's worklist and pausing
 * dunning, the invoice and statement PDFs (their figures read back with pdf.js), and the
 * "how to pay" reference the bank import matches on.
 */
describe(`customer portal on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  const tokens: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const ids: Record<'a' | 'b' | 'c', number> = { a: 0, b: 0, c: 0 };
  const keys: Record<'collector' | 'finance' | 'viewer', string> = { collector: '', finance: '', viewer: '' };
  const HTML = { accept: 'text/html,application/xhtml+xml' };
  const FORM = { ...HTML, 'content-type': 'application/x-www-form-urlencoded' };
  const INV = (n: number) => `INV-2026-${String(n).padStart(6, '0')}`;
  const JP = 'やまだ商事株式会社';
  const CN = '深圳华为技术有限公司';

  const bearer = (who: 'a' | 'b' | 'c') => ({ authorization: `Bearer ${tokens[who]}` });
  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  /** A browser's portal session: the link with the token, swapped for a cookie. */
  async function session(who: 'a' | 'b' | 'c'): Promise<string> {
    const r = await get(`/portal?token=${tokens[who]}`, HTML);
    expect(r.statusCode).toBe(303);
    return r.cookies.find((c) => c.name === 'cashloop_portal')!.value;
  }
  const csrfIn = (html: string) => /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const countRows = async (table: 'disputes' | 'promises_to_pay') => Number((await t.core.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const orderIdsIn = (html: string) => [...html.matchAll(/<li id="order-(\d+)">/g)].map((m) => Number(m[1]));
  const figure = (html: string, name: string) => new RegExp(`data-figure="${name}"[^>]*>([^<]*)<`).exec(html)?.[1];

  async function deliveredOrder(customerId: number, quantity: number): Promise<void> {
    const o = await createOrder(t.core, { customerId, lines: [{ sku: 'WIDGET', quantity }] }, actor);
    await submitOrder(t.core, o.id, actor);
    const s = await createShipment(t.core, { orderId: o.id, carrier: 'DHL', trackingNumber: `00340${o.id}` }, actor);
    await deliverShipment(t.core, s.id, { signedBy: 'J. Doe' }, actor);
  }

  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
    const { core } = t;
    await setSetting(core, 'company.name', 'Nordlicht Handel GmbH', actor);
    await setSetting(core, 'company.iban', 'DE89 3704 0044 0532 0130 00', actor);
    await setSetting(core, 'company.bic', 'COBADEFFXXX', actor);
    await setSetting(core, 'company.bank_name', 'Commerzbank', actor);
    const { customer: a } = await seedBasics(core, { stock: 1000 });
    ids.a = a.id;
    // Customer A: three delivered orders (INV-2026-000001…3: 45.00, 60.00 and 75.00, due
    // 2026-02-04), then 71 orders not yet sent: 74 in all, order 74 the newest.
    for (const q of [3, 4, 5]) await deliveredOrder(a.id, q);
    for (let i = 0; i < 71; i++) await createOrder(core, { customerId: a.id, lines: [{ sku: 'WIDGET', quantity: 1 + (i % 3) }] }, actor);
    // Customer B (Japanese name): INV-2026-000004, 30.00, overpaid later. Customer C (Chinese
    // name): INV-2026-000005, 15.00, paid short and the rest written off.
    ids.b = (await createCustomer(core, { name: JP, creditLimit: '10000', paymentTermsDays: 30, currency: 'EUR' }, actor)).id;
    ids.c = (await createCustomer(core, { name: CN, creditLimit: '10000', paymentTermsDays: 30, currency: 'EUR' }, actor)).id;
    await deliveredOrder(ids.b, 2);
    await deliveredOrder(ids.c, 1);
    t.clock.set('2026-01-10T09:00:00Z');
    await recordPayment(core, { customerId: ids.b, amount: '50.00' }, actor);
    await recordPayment(core, { customerId: ids.c, amount: '12.94' }, actor);
    await writeOffInvoice(core, INV(5), 'bank charges deducted by the customer', actor);
    for (const who of ['a', 'b', 'c'] as const) tokens[who] = (await createPortalToken(core, ids[who], actor)).token;
    for (const role of ['collector', 'finance', 'viewer'] as const) keys[role] = (await createApiKey(core, { role, name: `portal-test-${role}` }, actor)).key;
    app = await buildServer(core);
    await app.ready();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('shows a customer with 74 orders its newest first, ten to a page, each with its delivery', async () => {
    const home = await get('/portal', { ...bearer('a'), ...HTML });
    expect(home.statusCode).toBe(200);
    expect(orderIdsIn(home.body)).toEqual([74, 73, 72, 71, 70, 69, 68, 67, 66, 65]);
    expect(home.body).toContain('Page 1 of 8 · 74 orders');
    expect(home.body).toContain('href="/portal/orders?page=2"');
    expect(orderIdsIn((await get('/portal/orders?page=2', { ...bearer('a'), ...HTML })).body)).toEqual([64, 63, 62, 61, 60, 59, 58, 57, 56, 55]);
    const last = await get('/portal/orders?page=8', { ...bearer('a'), ...HTML });
    expect(orderIdsIn(last.body)).toEqual([4, 3, 2, 1]);
    // The oldest orders, delivered, carry their proof of delivery; the order has its own page.
    expect(last.body).toMatch(/<li id="order-1">[\s\S]*?Delivered 5 Jan 2026<\/span>, signed by J\. Doe · DHL 003401/);
    const order = await get('/portal/orders/1', { ...bearer('a'), ...HTML });
    expect(order.body).toContain('<dt>Proof of delivery</dt><dd>signed by J. Doe</dd>');
    expect(order.body).toContain('href="/portal/invoices/INV-2026-000001"');
    // A page past the last one, or not a page number, is refused naming the field.
    for (const [page, rule] of [['9', 'page_exists'], ['0', 'positive'], ['x', 'integer']]) {
      const r = await get(`/portal/orders?page=${page}`, bearer('a'));
      expect(r.statusCode, page).toBe(400);
      expect(r.json()).toMatchObject({ field: 'page', rule });
    }
    // Another customer's order answers as a missing one does.
    const theirs = await get('/portal/orders/1', bearer('b'));
    const missing = await get('/portal/orders/99999', bearer('b'));
    expect([theirs.statusCode, missing.statusCode]).toEqual([404, 404]);
    expect(theirs.json().detail).toBe('order 1 does not exist');
  });

  it('puts what is owed first, the balance and the open invoices from one summary', async () => {
    const home = (await get('/portal', { ...bearer('a'), ...HTML })).body;
    expect(home.indexOf('id="open-invoices"')).toBeLessThan(home.indexOf('id="orders"'));
    const open = [...home.matchAll(/<a class="title" href="\/portal\/invoices\/(INV-[\d-]+)">/g)].map((m) => m[1]);
    expect(open).toEqual([INV(1), INV(2), INV(3)]);
    expect(figure(home, 'open-count')).toBe('3');
    expect(figure(home, 'balance')).toBe('180.00 EUR');
    // B paid 50.00 on a 30.00 invoice: nothing open, 20.00 paid ahead, and the card says so.
    const b = (await get('/portal', { ...bearer('b'), ...HTML })).body;
    expect(figure(b, 'open-count')).toBe('0');
    expect(b).toContain('Paid ahead');
    expect(figure(b, 'balance')).toBe('20.00 EUR');
    expect(b).toMatch(/<dt>Credit on account<\/dt><dd class="amount good">−20\.00 EUR<\/dd>/);
    const statement = (await get('/portal/api/account-statement', bearer('b'))).json();
    expect(statement.closingBalanceMinor).toBe(-2000);
  });

  it('lays the statement out as a statement: a label on every line, figures in their own columns', async () => {
    const r = await get('/portal/statement?from=2026-01-01&to=2026-01-31', { ...bearer('c'), ...HTML });
    expect(r.statusCode).toBe(200);
    const rows = [...r.body.matchAll(/<tr><td><span class="muted small">([^<]+)<\/span> <span class="doc">([^<]+)<\/span><div class="small">([^<]*)<\/div><\/td><td class="num">([^<]*)<\/td><td class="num">([^<]*)<\/td><td class="num">([^<]*)<\/td><\/tr>/g)].map((m) => m.slice(1));
    expect(rows).toEqual([
      ['5 Jan 2026', INV(5), 'Invoice, due 4 Feb 2026', '15.00', '', '15.00'],
      ['10 Jan 2026', 'PAY-2', 'Payment: bank transfer', '', '12.94', '2.06'],
      ['10 Jan 2026', INV(5), 'Written off: bank charges deducted by the customer', '', '2.06', '0.00'],
    ]);
    expect(figure(r.body, 'closing')).toBe('0.00');
    // A period that ends before it starts, or a date that is not one, is refused naming the field.
    expect((await get('/portal/statement?from=2026-02-01&to=2026-01-01', bearer('c'))).json()).toMatchObject({ field: 'from', rule: 'from_not_after_to' });
    expect((await get('/portal/statement?from=2026-02-30', bearer('c'))).json()).toMatchObject({ field: 'from', rule: 'date_format' });
    const page = await get('/portal/statement?from=2026-02-30', { ...bearer('c'), ...HTML });
    expect([page.statusCode, page.headers['content-type']]).toEqual([400, 'text/html; charset=utf-8']);
    expect(page.body).toContain('from must be a date written YYYY-MM-DD');
  });

  it('refuses a form post without a portal session and its CSRF token, and writes nothing', async () => {
    const cookie = await session('a');
    const page = await get(`/portal/invoices/${INV(1)}`, { ...HTML, cookie: `cashloop_portal=${cookie}` });
    const csrf = csrfIn(page.body);
    expect(csrf).toMatch(/^[\w-]{20,}$/);
    const otherCsrf = csrfIn((await get(`/portal/invoices/${INV(4)}`, { ...HTML, cookie: `cashloop_portal=${await session('b')}` })).body);
    const before = [await countRows('disputes'), await countRows('promises_to_pay'), await countEvents(t.core)];
    const post = (what: 'dispute' | 'promise', fields: Record<string, string>, cookies: string | null) =>
      app.inject({ method: 'POST', url: `/portal/invoices/${INV(1)}/${what}`, headers: { ...FORM, ...(cookies ? { cookie: cookies } : {}) }, payload: form(fields) });
    const cases: [string, Promise<LightMyRequestResponse>, number, string][] = [
      ['no token', post('dispute', { reason: 'damaged' }, `cashloop_portal=${cookie}`), 403, 'csrf_token'],
      ['a wrong token', post('dispute', { _csrf: 'x'.repeat(43), reason: 'damaged' }, `cashloop_portal=${cookie}`), 403, 'csrf_token'],
      ["another session's token", post('promise', { _csrf: otherCsrf, date: '2026-01-20' }, `cashloop_portal=${cookie}`), 403, 'csrf_token'],
      ['no session', post('dispute', { _csrf: csrf, reason: 'damaged' }, null), 401, 'portal_token'],
      ['an unknown session', post('dispute', { _csrf: csrf, reason: 'damaged' }, 'cashloop_portal=cls_forged'), 401, 'session'],
    ];
    for (const [what, res, status, rule] of cases) {
      const r = await res;
      expect(r.statusCode, what).toBe(status);
      expect(r.json().rule, what).toBe(rule);
    }
    expect([await countRows('disputes'), await countRows('promises_to_pay'), await countEvents(t.core)]).toEqual(before);
    // B's session with its own token on A's invoice: not found, as if it did not exist.
    const bCookie = await session('b');
    const bCsrf = csrfIn((await get('/portal', { ...HTML, cookie: `cashloop_portal=${bCookie}` })).body);
    const foreign = await post('dispute', { _csrf: bCsrf, reason: 'not mine' }, `cashloop_portal=${bCookie}`);
    expect(foreign.statusCode).toBe(404);
    expect(await countRows('disputes')).toBe(before[0]);
  });

  it('shows a refused field beside the field, keeps what was typed, and writes nothing', async () => {
    const cookie = `cashloop_portal=${await session('a')}`;
    const csrf = csrfIn((await get(`/portal/invoices/${INV(3)}`, { ...HTML, cookie })).body);
    const before = await countEvents(t.core);
    const post = (what: string, fields: Record<string, string>) => app.inject({ method: 'POST', url: `/portal/invoices/${INV(3)}/${what}`, headers: { ...FORM, cookie }, payload: form({ _csrf: csrf, ...fields }) });

    // A browser gets the form back (200, as the sign-in page answers a wrong key), the field marked.
    const noReason = await post('dispute', { reason: '  ', line: '', amount: '' });
    expect(noReason.statusCode).toBe(200);
    expect(noReason.body).toMatch(/<textarea maxlength="500" required id="dispute-reason" name="reason" aria-invalid="true" aria-describedby="dispute-reason-hint dispute-reason-error">/);
    expect(noReason.body).toContain('<p class="error" id="dispute-reason-error">reason is required</p>');
    const tooMuch = await post('dispute', { reason: 'damaged', amount: '75.01' });
    expect(tooMuch.body).toMatch(/<p class="error" id="dispute-amount-error">amount 75\.01 EUR is more than the open balance 75\.00 EUR of invoice INV-2026-000003<\/p>/);
    expect(tooMuch.body).toContain('>damaged</textarea>');
    const past = await post('promise', { date: '2026-01-09', amount: '', promisedBy: 'Ann' });
    expect(past.statusCode).toBe(200);
    expect(past.body).toContain('<p class="error" id="promise-date-error">date 2026-01-09 is in the past; a promise is for today or later (today is 2026-01-10)</p>');
    expect(past.body).toContain('value="Ann"');
    const cents = await post('promise', { date: '2026-01-20', amount: '12.345' });
    expect(cents.body).toContain('<p class="error" id="promise-amount-error">amount has 3 decimals; EUR allows 2</p>');
    // A program sending JSON gets problem+json naming the field; a field the form lacks is refused.
    const json = await app.inject({ method: 'POST', url: `/portal/invoices/${INV(3)}/promise`, headers: bearer('a'), payload: { date: 'soon' } });
    expect([json.statusCode, json.json().field, json.json().rule]).toEqual([400, 'date', 'date_format']);
    const extra = await app.inject({ method: 'POST', url: `/portal/invoices/${INV(3)}/dispute`, headers: bearer('a'), payload: { reason: 'x', customerId: 2 } });
    expect([extra.statusCode, extra.json().field, extra.json().rule]).toEqual([400, 'customerId', 'unknown_field']);
    // A move the invoice's state refuses is said at the top of the page (a settled invoice has no forms).
    const settled = await app.inject({ method: 'POST', url: `/portal/invoices/${INV(5)}/dispute`, headers: { ...FORM, ...bearer('c') }, payload: form({ reason: 'late' }) });
    expect(settled.statusCode).toBe(200);
    expect(settled.body).toContain('<div class="alert error" role="alert">invoice INV-2026-000005 cannot move from paid to disputed: only an invoice with an open balance can be disputed</div>');
    expect(settled.body).not.toContain('id="dispute-reason"');
    expect(await countEvents(t.core)).toBe(before);
  });

  it('sends a dispute and a promise made in the portal to the collector and pauses their reminders', async () => {
    // 16 days after the due date: every invoice of A is due a first reminder.
    t.clock.set('2026-02-20T09:00:00Z');
    const cookie = `cashloop_portal=${await session('a')}`;
    const csrf = csrfIn((await get(`/portal/invoices/${INV(1)}`, { ...HTML, cookie })).body);
    const dispute = await app.inject({ method: 'POST', url: `/portal/invoices/${INV(1)}/dispute`, headers: { ...FORM, cookie }, payload: form({ _csrf: csrf, reason: 'two widgets arrived broken', line: '', amount: '' }) });
    expect(dispute.statusCode).toBe(303);
    expect(dispute.headers.location).toBe(`/portal/invoices/${INV(1)}?done=dispute#dispute`);
    const promise = await app.inject({ method: 'POST', url: `/portal/invoices/${INV(2)}/promise`, headers: { ...FORM, cookie }, payload: form({ _csrf: csrf, date: '2026-03-01', amount: '', promisedBy: 'Ann (AP)', note: '' }) });
    expect([promise.statusCode, promise.headers.location]).toEqual([303, `/portal/invoices/${INV(2)}?done=promise#promise`]);
    const after = await get(`/portal/invoices/${INV(1)}?done=dispute`, { ...HTML, cookie });
    expect(after.body).toContain('your dispute is recorded');
    expect(after.body).toContain('two widgets arrived broken');

    const list = await get('/collections/worklist?asOf=2026-02-20&limit=100', { authorization: `Bearer ${keys.collector}` });
    expect(list.statusCode).toBe(200);
    const mine = (list.json().items as { invoice: string; disputed: boolean; promise: { date: string } | null; lastAction: { kind: string } | null }[]).filter((i) => [INV(1), INV(2), INV(3)].includes(i.invoice));
    const byNumber = Object.fromEntries(mine.map((i) => [i.invoice, i]));
    expect(byNumber[INV(1)]).toMatchObject({ disputed: true, promise: null });
    expect(byNumber[INV(2)]).toMatchObject({ disputed: false, promise: { date: '2026-03-01' } });
    expect(byNumber[INV(3)]).toMatchObject({ disputed: false, promise: null });
    const disputes = (await get(`/disputes?customerId=${ids.a}`, { authorization: `Bearer ${keys.collector}` })).json();
    const promises = (await get(`/promises?customerId=${ids.a}`, { authorization: `Bearer ${keys.collector}` })).json();
    expect((Array.isArray(disputes) ? disputes : disputes.items)[0]).toMatchObject({ invoice: INV(1), openedBy: `portal:customer-${ids.a}`, status: 'open', amountMinor: 4500 });
    expect((Array.isArray(promises) ? promises : promises.items)[0]).toMatchObject({ invoices: [INV(2)], recordedBy: `portal:customer-${ids.a}`, promisedBy: 'Ann (AP)', amountMinor: 6000 });

    // The day's reminders: the disputed and the promised invoice get no notice, the third one does.
    const run = await app.inject({ method: 'POST', url: '/collections/runs', headers: { authorization: `Bearer ${keys.finance}` }, payload: { asOf: '2026-02-20', send: false } });
    expect(run.statusCode).toBe(200);
    const message = run.json().messages.find((m: { customerId: number }) => m.customerId === ids.a);
    expect(message).toMatchObject({ invoices: 1, newNotices: 1, paused: 2 });
    const noticed = await t.core.db.kysely.selectFrom('dunning_notices').innerJoin('invoices', 'invoices.id', 'dunning_notices.invoice_id').select('invoices.number').where('invoices.customer_id', '=', ids.a).execute();
    expect(noticed.map((n) => n.number)).toEqual([INV(3)]);
    // The overview says which invoices wait on what.
    const home = (await get('/portal', { ...HTML, cookie })).body;
    expect(home).toMatch(new RegExp(`${INV(1)}[\\s\\S]*?<span class="paused">disputed</span>`));
    expect(home).toMatch(new RegExp(`${INV(2)}[\\s\\S]*?<span class="paused">payment promised by 1 Mar 2026</span>`));
  });

  it('prints the invoice as a PDF whose total is the invoice total; another customer gets 404', async () => {
    const r = await get(`/portal/invoices/${INV(3)}.pdf`, bearer('a'));
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/pdf');
    expect(r.headers['content-disposition']).toBe(`inline; filename="${INV(3)}.pdf"`);
    expect(r.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const invoice = (await get(`/portal/api/invoices/${INV(3)}`, bearer('a'))).json();
    const lines = await pdfLines(r.rawPayload);
    const total = lines.map((l) => /^Total ([\d,.]+ EUR)$/.exec(l)?.[1]).filter(Boolean);
    expect(total).toEqual([money(invoice.totalMinor, 'EUR')]);
    expect(total).toEqual(['75.00 EUR']);
    expect(lines).toContain('1 WIDGET Widget 5 12.50 62.50 20 % 12.50 75.00');
    expect(lines).toContain('Tax 20 % on 62.50 12.50 EUR');
    expect(lines).toContain('Due date 4 Feb 2026');
    expect(lines).toContain('How to pay: 75.00 EUR by 4 Feb 2026');
    expect(lines).toContain('Account holder Nordlicht Handel GmbH');
    expect(lines).toContain('IBAN DE89 3704 0044 0532 0130 00');
    expect(lines).toContain(`Reference ${INV(3)}`);

    const theirs = await get(`/portal/invoices/${INV(3)}.pdf`, bearer('b'));
    const missing = await get('/portal/invoices/INV-2099-000001.pdf', bearer('b'));
    expect([theirs.statusCode, missing.statusCode]).toEqual([404, 404]);
    expect(theirs.json().rule).toBe(missing.json().rule);
    expect(theirs.body).not.toContain('%PDF');
  });

  it('prints Japanese and Chinese names in a font embedded in the PDF', async () => {
    expect(fontFor(JP)).toBe('cjk');
    expect(fontFor(CN)).toBe('cjk');
    expect(fontFor('Nordlicht Handel GmbH, Łódź')).toBe('latin');
    const jp = await get(`/portal/invoices/${INV(4)}.pdf`, bearer('b'));
    expect(jp.statusCode).toBe(200);
    expect(await pdfLines(jp.rawPayload)).toContain(JP);
    const cn = await get(`/customers/${ids.c}/account-statement.pdf?from=2026-01-01&to=2026-01-31`, { authorization: `Bearer ${keys.viewer}` });
    expect(cn.statusCode).toBe(200);
    expect(await pdfLines(cn.rawPayload)).toContain(CN);
    for (const bytes of [jp.rawPayload, cn.rawPayload]) {
      const fonts = embeddedFonts(bytes);
      // Subsets of Noto Sans Hans (CFF) and Noto Sans (TrueType), each with its font program.
      expect(fonts.filter((f) => /^[A-Z]{6}\+NotoSansHans-(Regular|Bold)$/.test(f.name)).map((f) => f.program)).toContain('FontFile3');
      expect(fonts.filter((f) => /^[A-Z]{6}\+NotoSans-Regular$/.test(f.name)).map((f) => f.program)).toEqual(['FontFile2']);
      expect(fonts.every((f) => f.program !== null)).toBe(true);
      // Only the glyphs used: the 8 MB font becomes a few kilobytes.
      expect(bytes.length).toBeLessThan(200_000);
    }
  });

  it('asks for the payment reference the bank import matches on', async () => {
    const page = (await get(`/portal/invoices/${INV(3)}`, { ...bearer('a'), ...HTML })).body;
    const reference = /<dt>Reference<\/dt><dd><span class="ref">([^<]+)<\/span>/.exec(page)?.[1];
    expect(reference).toBe(INV(3));
    expect(page).toContain('<dt>IBAN</dt><dd><span class="ref">DE89 3704 0044 0532 0130 00</span>');
    // The customer pays part of it, quoting that reference in the transfer's text.
    const file = path.join(t.dataDir, 'statement-2026-02-20.csv');
    fs.writeFileSync(file, `entry_ref,booking_date,amount,currency,payer_name,remittance\nE-1,2026-02-20,10.00,EUR,Someone Else Ltd,Payment ${reference} thank you\n`);
    const report = await importBankStatement(t.core, { file, actor });
    expect(report.matched).toBe(1);
    const after = (await get('/portal/api/invoices', bearer('a'))).json().items as { number: string; paidMinor: number }[];
    expect(after.map((i) => [i.number, i.paidMinor])).toEqual([[INV(1), 0], [INV(2), 0], [INV(3), 1000]]);
  });

  it('gives staff the same documents, with their permissions', async () => {
    const pdf = await get(`/invoices/${INV(3)}/pdf`, { authorization: `Bearer ${keys.viewer}` });
    expect([pdf.statusCode, pdf.headers['content-type']]).toEqual([200, 'application/pdf']);
    const lines = await pdfLines(pdf.rawPayload);
    expect(lines).toContain('Less paid −10.00 EUR');
    expect(lines).toContain('Balance due 65.00 EUR');
    expect((await get(`/invoices/${INV(3)}/pdf`)).statusCode).toBe(401);
    expect((await get('/invoices/INV-2099-000001/pdf', { authorization: `Bearer ${keys.viewer}` })).statusCode).toBe(404);
    const statement = await get(`/customers/${ids.a}/account-statement.pdf?from=2026-01-01&to=2026-02-20`, { authorization: `Bearer ${keys.finance}` });
    expect(statement.statusCode).toBe(200);
    const text = await pdfLines(statement.rawPayload);
    const api = (await get(`/customers/${ids.a}/account-statement?from=2026-01-01&to=2026-02-20`, { authorization: `Bearer ${keys.finance}` })).json();
    const closing = text.map((l) => /Closing balance ([\d,.]+)$/.exec(l)?.[1]).filter(Boolean);
    expect(closing).toEqual([money(api.closingBalanceMinor, 'EUR').replace(' EUR', '')]);
    expect(closing).toEqual(['170.00']);
    expect(text).toContain('3 open invoices: 170.00 EUR · overdue: 170.00 EUR');
    // The payment's label wraps inside its column; its figures stay on its first line.
    expect(text.some((l) => /^20 Feb 2026 PAY-\d+ Payment: bank transfer, ref\. 10\.00 170\.00$/.test(l))).toBe(true);
    const portalPdf = await get('/portal/statement.pdf?from=2026-01-01&to=2026-02-20', bearer('a'));
    expect(await pdfLines(portalPdf.rawPayload)).toEqual(text);
  });

  it('checks the company bank details before printing them', async () => {
    const bad: [string, string, string][] = [
      ['company.iban', 'DE89 3704 0044 0532 0130 01', 'iban_checksum'],
      ['company.iban', 'Commerzbank', 'iban_format'],
      ['company.bic', 'COBA DE', 'bic_format'],
      ['company.bank_name', ' ', 'text'],
    ];
    for (const [key, value, rule] of bad) await expect(setSetting(t.core, key, value, actor), `${key}=${value}`).rejects.toMatchObject({ kind: 'invalid', detail: { field: key, rule } });
    const s = await getSettings(t.core.db.kysely);
    expect([s['company.iban'], s['company.bic'], s['company.bank_name']]).toEqual(['DE89370400440532013000', 'COBADEFFXXX', 'Commerzbank']);
    await setSetting(t.core, 'company.iban', 'gb82 west 1234 5698 7654 32', actor);
    expect((await getSettings(t.core.db.kysely))['company.iban']).toBe('GB82WEST12345698765432');
  });
});
