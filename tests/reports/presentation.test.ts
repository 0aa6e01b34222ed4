import { describe, expect, it } from 'vitest';
import { toCsv as sharedCsv } from '../../src/shared/csv.ts';
// @ts-expect-error -- a browser component in JavaScript, typed by JSDoc and checked by reports/tsconfig.json
import { toCsv } from '../../reports/components/csv.js';
// @ts-expect-error -- a browser component in JavaScript, typed by JSDoc and checked by reports/tsconfig.json
import { count, date, dateTime, days, exponent, money, month, num, pct, percent, seconds, sumMoney } from '../../reports/components/format.js';
// @ts-expect-error -- a browser component in JavaScript, typed by JSDoc and checked by reports/tsconfig.json
import { MONTHS, monthsBack } from '../../reports/components/months.js';
// @ts-expect-error -- a browser component in JavaScript, typed by JSDoc and checked by reports/tsconfig.json
import { formatOf, label, words } from '../../reports/components/table.js';
// @ts-expect-error -- a browser component in JavaScript, typed by JSDoc and checked by reports/tsconfig.json
import { RISK_CLASSES, RISK_COLORS, riskColor } from '../../reports/components/risk.js';

describe('the reports’ presentation layer', () => {
  it('writes CSV downloads by the same rule as the project’s CSV writer, formulas neutralised', () => {
    const rows = [
      { a: '=HYPERLINK("http://x")', b: -12.5, c: '-12.50', d: '+3' },
      { a: '@SUM(A1)', b: 0, c: 'plain, with comma', d: '\tTab' },
      { a: '－1', b: 1e21, c: 'line\nbreak', d: null },
      { a: 'Café "quoted"', b: 7, c: '', d: '＝1+1' },
    ];
    const columns = ['a', 'b', 'c', 'd'];
    expect(toCsv(columns, columns, rows)).toBe(sharedCsv(columns, rows));
    expect(toCsv(['x'], ['a'], [{ a: '=1+2' }])).toBe("x\n'=1+2\n");
  });

  it('formats money with separators and its currency’s decimals, and never prints a missing value', () => {
    expect(money(2213544.4, 'EUR')).toBe('2,213,544.40 EUR');
    expect(money(-36585.26, 'EUR')).toBe('−36,585.26 EUR');
    expect(money(1234567, 'JPY')).toBe('1,234,567 JPY');
    expect(money(1.2345, 'KWD')).toBe('1.235 KWD');
    expect(money(1234.5, 'EUR', { suffix: false })).toBe('1,234.50');
    expect([exponent('EUR'), exponent('JPY'), exponent(undefined)]).toEqual([2, 0, 2]);
    for (const missing of [null, undefined, Number.NaN, Infinity, '']) {
      for (const f of [money, days, pct, percent, num, count, seconds]) expect(f(missing as never)).toBe('–');
    }
    expect(num(-0.01, 1)).toBe('0.0');
  });

  it('shows dates in words, read as UTC, with no seconds or microseconds', () => {
    expect(date('2026-10-31')).toBe('31 Oct 2026');
    expect(month('2026-11-30')).toBe('Nov 2026');
    expect(dateTime('2026-12-07 01:31:49.183937')).toBe('7 Dec 2026, 01:31 UTC');
    expect(dateTime('2026-12-07T23:59:59Z')).toBe('7 Dec 2026, 23:59 UTC');
    expect(days(47)).toBe('47.0 days');
    expect(pct(0.382)).toBe('38.2 %');
    expect(seconds(13.94)).toBe('13.9 s');
    expect(seconds(600)).toBe('10.0 min');
  });

  it('labels columns in words and formats them by what they hold', () => {
    expect(label('expected_loss')).toBe('Expected loss');
    expect(label('days_past_due')).toBe('Days past due');
    expect(label('some_new_field')).toBe('Some new field');
    expect(formatOf('open_amount', 'EUR')(36585.26)).toBe('36,585.26');
    expect(formatOf('prob_late', 'EUR')(0.5)).toBe('50.0 %');
    expect(formatOf('due_date', 'EUR')('2026-03-01')).toBe('1 Mar 2026');
    expect(formatOf('started_at', 'EUR')('2026-03-01 10:11:12.123')).toBe('1 Mar 2026, 10:11 UTC');
    expect(words('mase_best_in_backtest')).toBe('MASE best in backtest');
    expect(formatOf('baseline', 'EUR')('seasonal_naive')).toBe('seasonal naive');
  });

  it('colours risk classes on one fixed scale, A green to E red, with no "null" entry', () => {
    const scored = riskColor([{ risk_class: 'E' }, { risk_class: 'A' }]);
    expect(scored.domain).toEqual(RISK_CLASSES);
    expect(scored.range).toEqual(RISK_COLORS);
    const some = riskColor([{ risk_class: 'C' }, { risk_class: null }]);
    expect(some.domain).toEqual([...RISK_CLASSES, 'not scored']);
    expect(some.domain).not.toContain(null);
  });

  it('adds amounts in their currency\'s minor units, so a drill-down total has no float error', () => {
    expect(sumMoney([0.1, 0.2], 'EUR')).toBe(0.3);
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sumMoney(Array.from({ length: 1000 }, () => 1234.01), 'EUR')).toBe(1234010);
    expect(sumMoney([100, 250, null], 'JPY')).toBe(350);
    expect(sumMoney([1.001, 2.002], 'KWD')).toBe(3.003);
    expect(money(sumMoney([0.1, 0.2], 'EUR'), 'EUR')).toBe('0.30 EUR');
  });

  it('finds the file of a month of the drill-downs by months back from the data date', () => {
    expect(monthsBack('2025-07-01', '2025-07-06')).toBe(0);
    expect(monthsBack('2025-06-30', '2025-07-06')).toBe(1);
    expect(monthsBack('2024-12-31', '2025-07-06')).toBe(7);
    expect(monthsBack('2023-08-31', '2025-07-31')).toBe(MONTHS - 1);
    expect(monthsBack('2023-07-31', '2025-07-31')).toBeNull();
    expect(monthsBack('2025-08-01', '2025-07-31')).toBeNull();
  });
});
