import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { chromiumArgs, chromiumPath, hasChromium } from '../helpers/browser.ts';
import { buildServer } from '../../src/api/server.ts';
import { createPortalToken } from '../../src/api/keys.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';

/** The portal page in headless Chromium on a phone-sized screen: it renders, and nothing leaves the server. */
describe.skipIf(!hasChromium || testDialect === 'postgres')('portal page in a browser', () => {
  let t: TestCore;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { customer } = await seedBasics(t.core, { stock: 20 });
    const o = await createOrder(t.core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 3 }] }, actor);
    await submitOrder(t.core, o.id, actor);
    const s = await createShipment(t.core, { orderId: o.id, carrier: 'DHL', trackingNumber: '00340434' }, actor);
    await deliverShipment(t.core, s.id, { signedBy: 'J. Doe' }, actor);
    token = (await createPortalToken(t.core, customer.id, actor)).token;
    app = await buildServer(t.core);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });

  it('shows the order, tracking, delivery and invoice with no outside request', async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    try {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const page = await context.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${base}/portal?token=${token}`, { waitUntil: 'networkidle' });
      const text = await page.locator('body').innerText();
      expect(text).toContain('Acme GmbH');
      expect(text).toContain('DHL 00340434');
      expect(text).toContain('signed by J. Doe');
      expect(text).toContain('INV-2026-000001');
      expect(text).toMatch(/Balance\s+45\.00 EUR/);
      expect(requests.every((u) => u.startsWith(base))).toBe(true);
      expect(errors).toEqual([]);
      // No horizontal scrolling on a phone.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
      fs.mkdirSync('test-output/portal', { recursive: true });
      await page.screenshot({ path: path.join('test-output/portal', 'portal-phone.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
