import { describe, expect, it } from 'vitest';
import { interestMinor, levelFor, parsePolicy, STANDARD_POLICY } from '../../src/collections/policy.ts';
import { planReminder, type ReminderCandidate } from '../../src/collections/reminder.rules.ts';
import { promiseOutcome } from '../../src/collections/promise.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

const inv = (n: number, dueDate: string, balanceMinor: number, extra: Partial<ReminderCandidate> = {}): ReminderCandidate => ({
  invoiceId: n, number: `INV-${n}`, invoiceDate: '2026-01-01', dueDate, balanceMinor, sentLevel: 0, disputed: false, promisedDate: null, ...extra,
});

describe('dunning levels', () => {
  it('picks the level around every boundary day of the standard policy (-3, +7, +21, +45)', () => {
    const cases: [number, number | null][] = [
      [-30, null], [-4, null], [-3, 1], [0, 1], [6, 1], [7, 2], [20, 2], [21, 3], [44, 3], [45, 4], [46, 4], [400, 4],
    ];
    for (const [days, level] of cases) expect(levelFor(STANDARD_POLICY, days)?.level ?? null, `${days} days past due`).toBe(level);
  });

  it('checks a policy and names the field and rule it breaks', () => {
    const bad = (levels: unknown, rule: string, field: string) => {
      try {
        parsePolicy({ name: 'strict', levels });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(DomainError);
        expect((e as DomainError).detail).toMatchObject({ rule, field });
      }
    };
    bad([{ name: 'a', days: 10 }, { name: 'b', days: 10 }], 'days_increasing', 'levels.1.days');
    bad([{ name: 'a', days: 10, fee: '5.123' }], 'amount_format', 'levels.0.fee');
    bad([{ name: 'a', days: 10, actions: ['sue'] }], 'one_of', 'levels.0.actions');
    bad([{ name: 'a', days: 'ten' }], 'days_range', 'levels.0.days');
    bad([], 'levels_listed', 'levels');
    const ok = parsePolicy({ name: 'strict', levels: [{ name: 'Before', days: -5 }, { name: 'Late', days: 1, fee: '2.50', interestRatePercent: 9.5, actions: ['credit_hold'] }] });
    expect(ok.levels.map((l) => [l.level, l.template, l.fee, l.interestBp, l.actions])).toEqual([[1, 'friendly', '0', 0, []], [2, 'reminder', '2.50', 950, ['credit_hold']]]);
  });

  it('computes interest by hand: simple interest on a 365-day year, rounded half up', () => {
    expect(interestMinor(100_000, 800, 45)).toBe(986); // 1,000.00 × 8 % × 45 / 365 = 9.863
    expect(interestMinor(36_500, 1000, 1)).toBe(10); // 365.00 × 10 % / 365 = 0.10
    expect(interestMinor(18_250, 1000, 1)).toBe(5); // 0.05 exactly
    expect(interestMinor(100_000, 800, 0)).toBe(0);
    expect(interestMinor(100_000, 0, 90)).toBe(0);
  });
});

describe('a reminder plan', () => {
  const asOf = '2026-03-31';
  const plan = (candidates: ReminderCandidate[]) => planReminder({ customerId: 1, currency: 'EUR', asOf, policy: STANDARD_POLICY, candidates });

  it('consolidates every invoice at a level into one letter, at the highest level, fee once', () => {
    const p = plan([
      inv(1, '2026-02-01', 10_000), // 58 days: final notice
      inv(2, '2026-03-10', 20_000), // 21 days: second reminder
      inv(3, '2026-04-02', 5_000), // due in 2 days: friendly
      inv(4, '2026-04-20', 7_000), // due in 20 days: nothing yet
    ])!;
    expect(p.lines.map((l) => [l.number, l.level.level, l.daysPastDue, l.isNew])).toEqual([['INV-1', 4, 58, true], ['INV-2', 3, 21, true], ['INV-3', 1, -2, true]]);
    expect(p.level.level).toBe(4);
    expect(p.feeMinor).toBe(1000); // the final notice's 10.00, once
    expect(p.interestMinor).toBe(interestMinor(10_000, 800, 58)); // only the final level charges interest
    expect(p.totalDueMinor).toBe(35_000 + 1000 + p.interestMinor);
    expect(p.actions).toEqual(['credit_hold', 'hand_over']);
  });

  it('plans nothing when every level was announced already, and only the new ones otherwise', () => {
    expect(plan([inv(1, '2026-03-10', 10_000, { sentLevel: 3 }), inv(2, '2026-02-01', 5_000, { sentLevel: 4 })])).toBeNull();
    const p = plan([inv(1, '2026-03-10', 10_000, { sentLevel: 2 }), inv(2, '2026-03-20', 5_000, { sentLevel: 2 })])!;
    expect(p.lines.map((l) => [l.number, l.level.level, l.isNew])).toEqual([['INV-1', 3, true], ['INV-2', 2, false]]);
    expect(p.feeMinor).toBe(500);
    expect(p.actions).toEqual([]);
  });

  it('leaves disputed and promised invoices out, and says so', () => {
    expect(plan([inv(1, '2026-02-01', 10_000, { disputed: true }), inv(2, '2026-02-01', 10_000, { promisedDate: '2026-04-05' })])).toBeNull();
    const p = plan([inv(1, '2026-02-01', 10_000, { disputed: true }), inv(2, '2026-03-20', 10_000)])!;
    expect(p.lines.map((l) => l.number)).toEqual(['INV-2']);
    expect(p.paused).toEqual([{ invoiceId: 1, number: 'INV-1', why: 'disputed', until: null }]);
  });
});

describe('a promise to pay', () => {
  const p = { promisedDate: '2026-04-10', amountMinor: 50_000, recordedOn: '2026-04-01' };
  it('is kept when the amount arrives (or the invoices settle), broken the day after its grace period', () => {
    expect(promiseOutcome(p, { paidMinor: 50_000, lastDate: '2026-04-09' }, false, '2026-04-20', 3)).toEqual({ status: 'kept', on: '2026-04-09' });
    expect(promiseOutcome(p, { paidMinor: 10_000, lastDate: '2026-04-09' }, true, '2026-04-12', 3)).toEqual({ status: 'kept', on: '2026-04-09' });
    expect(promiseOutcome(p, { paidMinor: 49_999, lastDate: '2026-04-09' }, false, '2026-04-13', 3)).toEqual({ status: 'open', on: null });
    expect(promiseOutcome(p, { paidMinor: 49_999, lastDate: '2026-04-09' }, false, '2026-04-14', 3)).toEqual({ status: 'broken', on: '2026-04-14' });
  });
});
