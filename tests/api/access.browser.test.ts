import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openCore, closeCore, type Core } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { testDialect } from '../helpers/db.ts';
import { chromiumArgs, chromiumPath, hasChromium } from '../helpers/browser.ts';

const shots = path.join(os.tmpdir(), 'cashloop-access-shots');

/**
 * The sign-in flow, the API docs and the reports in headless Chromium behind the real server:
 * with its Content-Security-Policy in force, no page breaks a rule of it, logs an error, or
 * asks another host for anything. Screenshots of the sign-in page (1440 and 390 px wide) go
 * to `$TMPDIR/cashloop-access-shots`.
 */
// The pages do not depend on the database: one pass, on SQLite, like the other browser suites.
describe.skipIf(!hasChromium || testDialect === 'postgres')('sign-in, docs and reports in a browser, under the security policy', () => {
  let dataDir: string;
  let core: Core;
  let app: FastifyInstance;
  let base: string;
  let key: string;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-access-browser-'));
    const db = `sqlite:${path.join(dataDir, 'cashloop.db')}`;
    const clock = new ManualClock('2025-01-01T07:00:00Z');
    core = await openCore({ url: db, clock });
    const demo = await generateDemo(core, clock, { seed: 11, customers: 8, months: 4, start: '2025-01-01' });
    await runPipeline({ dataDir, coreUrl: db, asOf: demo.manifest.end, quiet: true, site: true });
    key = (await createApiKey(core, { role: 'viewer', name: 'Vera' }, 'test')).key;
    app = await buildServer(core, { siteDir: path.join(dataDir, 'site') });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    fs.mkdirSync(shots, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (core) await closeCore(core);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A page that records console errors, policy violations and any request to another host. */
  async function watched(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`outside request: ${r.url()}`);
    });
    await page.exposeFunction('__violation', (v: string) => problems.push(`policy: ${v}`));
    await page.addInitScript("document.addEventListener('securitypolicyviolation', (e) => window.__violation(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber))");
    return { page, problems };
  }

  for (const [label, viewport] of [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
    it(`signs in from the sign-in page on a ${label} (${viewport.width} px) and lands where it was going`, async () => {
      const context = await browser.newContext({ viewport, isMobile: label === 'phone' });
      try {
        const { page, problems } = await watched(context);
        await page.goto(`${base}/reports/`, { waitUntil: 'networkidle' });
        expect(new URL(page.url()).pathname).toBe('/sign-in');
        expect(new URL(page.url()).searchParams.get('next')).toBe('/reports/');
        await expect(page.locator('h1').innerText()).resolves.toBe('Sign in');
        expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
        // The field and the button are large enough to hit on a phone.
        const button = (await page.locator('form:has(#key) button[type=submit]').boundingBox())!;
        expect(button.height).toBeGreaterThanOrEqual(36);
        await page.screenshot({ path: path.join(shots, `sign-in-${viewport.width}.png`), fullPage: true });
        await page.fill('#key', 'clk_wrong');
        await page.click('form:has(#key) button[type=submit]');
        await expect(page.locator('.alert.error').innerText()).resolves.toBe('That API key is not valid.');
        await page.screenshot({ path: path.join(shots, `sign-in-error-${viewport.width}.png`), fullPage: true });
        await page.fill('#key', key);
        await Promise.all([page.waitForURL(`${base}/reports/`), page.click('form:has(#key) button[type=submit]')]);
        await page.waitForSelector('main svg', { timeout: 15_000 });
        expect(await page.locator('main svg').count()).toBeGreaterThan(0);
        const cookies = await context.cookies();
        expect(cookies.find((c) => c.name === 'cashloop_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
        expect(cookies.some((c) => c.value === key)).toBe(false);
        // A browser that is already signed in skips the form.
        await page.goto(`${base}/sign-in?next=/docs/`, { waitUntil: 'networkidle' });
        expect(new URL(page.url()).pathname).toBe('/docs/');
        // Home, then sign out.
        await page.goto(`${base}/`, { waitUntil: 'networkidle' });
        await expect(page.locator('main').innerText()).resolves.toContain('Vera');
        await page.screenshot({ path: path.join(shots, `home-${viewport.width}.png`), fullPage: true });
        await Promise.all([page.waitForURL(/\/sign-in\?reason=signed-out$/), page.click('text=Sign out')]);
        await expect(page.locator('.alert.info').innerText()).resolves.toBe('You are signed out.');
        await page.goto(`${base}/reports/`, { waitUntil: 'networkidle' });
        expect(new URL(page.url()).pathname).toBe('/sign-in');
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    }, 60_000);
  }

  it('opens /docs?key=… with the API definition loaded on the first load, and "Try it out" writes with the session', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const { page, problems } = await watched(context);
      const admin = (await createApiKey(core, { role: 'admin', name: 'Ada' }, 'test')).key;
      await page.goto(`${base}/docs?key=${admin}`, { waitUntil: 'networkidle' });
      expect(page.url()).not.toContain(admin);
      expect(new URL(page.url()).pathname).toMatch(/^\/docs\/?$/);
      await page.waitForSelector('.opblock', { timeout: 15_000 });
      const text = await page.locator('body').innerText();
      expect(text).toContain('cashloop API');
      expect(text).not.toMatch(/Failed to load API definition|Unauthorized/);
      expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
      await page.screenshot({ path: path.join(shots, 'docs-1440.png') });
      // The docs page sends the session's CSRF token with its writes (a request interceptor reading the cookie).
      const op = '#operations-customers-post_customers';
      await page.click(op);
      await page.click(`${op} button.try-out__btn`);
      await page.fill(`${op} textarea.body-param__text`, '{"name":"Made in the docs","currency":"EUR"}');
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${base}/customers`), page.click(`${op} button.execute`)]);
      expect(response.status()).toBe(201);
      expect(response.request().headers()['x-csrf-token']).toMatch(/^[\w-]{43}$/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('draws the reports with their inline scripts allowed by hash, and nothing outside the policy', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const { page, problems } = await watched(context);
      await page.goto(`${base}/reports/?key=${key}`, { waitUntil: 'networkidle' });
      // Aging and Customers hold Inputs tables (the htl placeholders), the Overview Plot's styles.
      for (const name of ['index', 'aging', 'customers', 'collections']) {
        await page.goto(`${base}/reports/${name}.html`, { waitUntil: 'networkidle' });
        await page.waitForSelector('main svg', { timeout: 15_000 });
        if (name !== 'index') expect(await page.locator('main table tbody tr').count(), name).toBeGreaterThan(0);
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
