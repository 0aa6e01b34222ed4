import { describe, expect, it } from 'vitest';
import { Random } from '../../src/demo/random.ts';
import { makeIban, planCompany } from '../../src/demo/company.ts';
import { addMonths } from '../../src/demo/generator.ts';

describe('demo randomness and plan', () => {
  it('gives the same sequence for a seed and another for another seed', () => {
    const draw = (seed: number) => {
      const r = new Random(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    const r = new Random(1);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(3, 5);
      expect(n >= 3 && n <= 5 && Number.isInteger(n)).toBe(true);
    }
  });

  it('writes IBANs whose check digits verify (ISO 13616 mod 97 = 1)', () => {
    const r = new Random(9);
    for (const country of ['DE', 'NL', 'FR', 'AT']) {
      const iban = makeIban(r, country);
      const moved = iban.slice(4) + iban.slice(0, 4);
      const numeric = moved.replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
      let rem = 0;
      for (const d of numeric) rem = (rem * 10 + Number(d)) % 97;
      expect(rem, iban).toBe(1);
    }
  });

  it('plans every habit once a company has seven customers, deterministically', () => {
    const a = planCompany(new Random(5), 15, 120);
    const b = planCompany(new Random(5), 15, 120);
    expect(a.customers.map((c) => [c.key, c.habit, c.creditLimitMinor])).toEqual(b.customers.map((c) => [c.key, c.habit, c.creditLimitMinor]));
    expect(new Set(a.customers.map((c) => c.habit)).size).toBe(7);
    expect(a.products.length).toBe(20);
  });

  it('adds months clamped to the month end', () => {
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2024-01-01', 24)).toBe('2026-01-01');
  });
});
