import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { signedIn, textOf, type Browser } from '../helpers/workspace.ts';
import { buildServer } from '../../src/api/server.ts';
import { createCustomer, getCustomer } from '../../src/customers/customer.service.ts';
import { applyCreditScores, scoreHistory, type CreditScoreInput } from '../../src/credit/score.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe(`the score history on the customer's 360° page (${testDialect})`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let credit: Browser;
  let logistics: Browser;
  let acme: number;
  let other: number;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    acme = (await createCustomer(t.core, { name: 'Acme GmbH', creditLimit: '5000', currency: 'EUR' }, 'test')).id;
    other = (await createCustomer(t.core, { name: 'Other AG', creditLimit: '100', currency: 'JPY' }, 'test')).id;
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    credit = await signedIn(app, t.core, 'credit', 'carla');
    logistics = await signedIn(app, t.core, 'logistics', 'lou');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  const score = (customerId: number, s: number, riskClass: CreditScoreInput['riskClass'], limitMinor: number, reasons: string[]): CreditScoreInput => ({ customerId, score: s, riskClass, suggestedLimitMinor: limitMinor, reasons });

  it('keeps one dated row per customer and as-of date; applying a date again replaces its row', async () => {
    await applyCreditScores(t.core, [score(acme, 91, 'A', 750_000, []), score(other, 60, 'C', 12_000, ['pays 20 days late on average (-40)'])], 'models', { asOf: '2026-01-31' });
    await applyCreditScores(t.core, [score(acme, 72, 'B', 500_000, ['two invoices more than 30 days late (-18)', 'no payment in 60 days (-10)'])], 'models', { asOf: '2026-02-28' });
    // Today's run, applied twice (a re-run after a fix): one row for the date, the second one's figures.
    await applyCreditScores(t.core, [score(acme, 50, 'D', 100_000, ['wrong'])], 'models');
    const r = await applyCreditScores(t.core, [score(acme, 48, 'D', 90_000, ['invoice 2026-0007 disputed (-12)', 'pays 35 days late on average (-40)'])], 'models');
    expect(r.updated).toBe(1);

    const history = await scoreHistory(t.core, acme);
    expect(history.map((h) => [h.asOf, h.score, h.riskClass, h.suggestedLimitMinor])).toEqual([
      ['2026-03-02', 48, 'D', 90_000],
      ['2026-02-28', 72, 'B', 500_000],
      ['2026-01-31', 91, 'A', 750_000],
    ]);
    expect(history[0]!.reasons).toEqual(['invoice 2026-0007 disputed (-12)', 'pays 35 days late on average (-40)']);
    expect((await getCustomer(t.core, acme)).riskClass).toBe('D');
    expect((await scoreHistory(t.core, other)).map((h) => h.asOf)).toEqual(['2026-01-31']);
    const rows = await sql<{ n: number }>`select count(*) as n from credit_score_history where customer_id = ${acme} and as_of = '2026-03-02'`.execute(t.core.db.kysely);
    expect(Number(rows.rows[0]!.n)).toBe(1);
  });

  it('refuses a bad score with the field and the rule, and writes nothing', async () => {
    const before = await scoreHistory(t.core, other);
    const refusals: [CreditScoreInput[], { asOf?: string }, string, string][] = [
      [[score(other, 101, 'A', 0, [])], {}, 'scores.0.score', 'range'],
      [[score(other, 70.5, 'B', 0, [])], {}, 'scores.0.score', 'range'],
      [[score(other, 70, 'B', -1, [])], {}, 'scores.0.suggestedLimitMinor', 'non_negative_integer'],
      [[score(other, 70, 'B', 0.5, [])], {}, 'scores.0.suggestedLimitMinor', 'non_negative_integer'],
      [[score(other, 70, 'F' as 'A', 0, [])], {}, 'scores.0.riskClass', 'one_of'],
      [[score(other, 70, 'B', 0, [7 as unknown as string])], {}, 'scores.0.reasons', 'string_list'],
      [[score(other, 70, 'B', 0, [])], { asOf: '2026-02-30' }, 'asOf', 'date_format'],
    ];
    for (const [scores, options, field, rule] of refusals) {
      const error = await applyCreditScores(t.core, scores, 'models', options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).detail).toMatchObject({ field, rule });
    }
    expect(await scoreHistory(t.core, other)).toEqual(before);
    expect((await getCustomer(t.core, other)).riskClass).toBe('C');
  });

  it("shows the history on the 360° page to those who read credit, as a bar per date and a table, in the customer's currency", async () => {
    const page = await credit.get(`/app/customers/${acme}`);
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain('Score history');
    expect(text).toContain('Latest 48 points, class D, down 24 since 2026-02-28.');
    // Oldest first in the bars, so the trend reads left to right.
    const bars = [...page.body.matchAll(/<meter min="0" max="100" low="55" high="85" optimum="100" value="(\d+)" aria-label="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    expect(bars).toEqual([
      ['91', '2026-01-31: 91 points, class A'],
      ['72', '2026-02-28: 72 points, class B'],
      ['48', '2026-03-02: 48 points, class D'],
    ]);
    expect(text).toMatch(/2026-03-02\s*48\s*D\s*900\.00 EUR\s*invoice 2026-0007 disputed \(-12\); pays 35 days late on average \(-40\)/);
    expect(text).toMatch(/2026-01-31\s*91\s*A\s*7,?500\.00 EUR\s*none/);
    // Minor units follow the currency: 12,000 yen have no decimals.
    expect(textOf((await credit.get(`/app/customers/${other}`)).body)).toMatch(/2026-01-31\s*60\s*C\s*12,?000 JPY/);
    // Logistics does not read credit: no history on its page.
    const theirs = await logistics.get(`/app/customers/${acme}`);
    expect(theirs.statusCode).toBe(200);
    expect(theirs.body).not.toContain('Score history');
  });

  it('a customer never scored says so', async () => {
    const fresh = (await createCustomer(t.core, { name: 'New Ltd', creditLimit: '10', currency: 'EUR' }, 'test')).id;
    expect(textOf((await credit.get(`/app/customers/${fresh}`)).body)).toContain('No score applied yet.');
  });
});
