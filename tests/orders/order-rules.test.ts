import { describe, expect, it } from 'vitest';
import { ORDER_TRANSITIONS, assertOrderMove, canMove } from '../../src/orders/order.state.ts';
import { SHIPMENT_TRANSITIONS, assertShipmentMove } from '../../src/shipping/shipment.state.ts';
import { lineAmounts, partAmounts, sumAmounts } from '../../src/orders/order.totals.ts';
import { DomainError } from '../../src/shared/errors.ts';
import type { OrderStatus, ShipmentStatus } from '../../src/db/schema.ts';

const allowedOrderMoves = [
  'draft→submitted', 'draft→cancelled',
  'submitted→approved', 'submitted→credit_hold', 'submitted→rejected', 'submitted→cancelled',
  'credit_hold→approved', 'credit_hold→rejected', 'credit_hold→cancelled',
  'submitted→awaiting_prepayment', 'awaiting_prepayment→approved', 'awaiting_prepayment→cancelled',
  'approved→partially_shipped', 'approved→shipped', 'approved→cancelled', 'approved→awaiting_prepayment',
  'partially_shipped→shipped',
  'shipped→delivered', 'shipped→invoiced', 'shipped→paid',
  'delivered→invoiced', 'delivered→paid',
  'invoiced→paid', 'paid→invoiced',
];

describe('order state machine', () => {
  const states = Object.keys(ORDER_TRANSITIONS) as OrderStatus[];
  it('allows exactly the documented moves and refuses every other with a transition error', () => {
    for (const from of states) {
      for (const to of states) {
        const key = `${from}→${to}`;
        expect(canMove(from, to), key).toBe(allowedOrderMoves.includes(key));
        if (!allowedOrderMoves.includes(key)) {
          const err = (() => { try { assertOrderMove(7, from, to); } catch (e) { return e; } })();
          expect(err, key).toBeInstanceOf(DomainError);
          expect((err as DomainError).kind).toBe('transition');
          expect((err as DomainError).message).toBe(`order 7 cannot move from ${from} to ${to}`);
        }
      }
    }
  });
  it('cannot cancel after the first shipment', () => {
    for (const s of ['partially_shipped', 'shipped', 'delivered', 'invoiced', 'paid'] as const) expect(canMove(s, 'cancelled')).toBe(false);
  });
});

describe('shipment state machine', () => {
  const allowed = ['picked→shipped', 'shipped→in_transit', 'shipped→delivered', 'shipped→failed', 'in_transit→delivered', 'in_transit→failed', 'failed→in_transit', 'failed→delivered'];
  it('allows exactly the carrier moves', () => {
    const states = Object.keys(SHIPMENT_TRANSITIONS) as ShipmentStatus[];
    for (const from of states) for (const to of states) {
      const key = `${from}→${to}`;
      if (allowed.includes(key)) expect(() => assertShipmentMove(1, from, to)).not.toThrow();
      else expect(() => assertShipmentMove(1, from, to), key).toThrow(/shipment 1 cannot move/);
    }
  });
});

describe('line rounding', () => {
  it('rounds discount then tax half up, per line', () => {
    // 3 × 3.33 = 9.99; 10 % off = 0.999 → 1.00; net 8.99; 20 % tax = 1.798 → 1.80
    expect(lineAmounts(3, 333, 1000, 2000)).toEqual({ gross: 999, discount: 100, net: 899, tax: 180, total: 1079 });
    // 1 × 0.05 at 10 % tax = 0.005 → 0.01 (half up)
    expect(lineAmounts(1, 5, 0, 1000)).toEqual({ gross: 5, discount: 0, net: 5, tax: 1, total: 6 });
    // 7.5 % discount of 0.20 = 0.015 → 0.02
    expect(lineAmounts(1, 20, 750, 0).discount).toBe(2);
    // no tax, no discount
    expect(lineAmounts(4, 1250, 0, 0)).toEqual({ gross: 5000, discount: 0, net: 5000, tax: 0, total: 5000 });
  });
  it('order totals are the sums of rounded lines', () => {
    const a = lineAmounts(1, 5, 0, 1000);
    const b = lineAmounts(1, 5, 0, 1000);
    // per-order rounding would give 0.01 tax on 0.10; per-line gives 0.02, as printed on the invoice
    expect(sumAmounts([a, b]).tax).toBe(2);
  });
  it('partial invoices of a line add up to the line', () => {
    const line = { quantity: 3, unit_price_minor: 333, discount_bp: 1000, tax_rate_bp: 2000, ...(() => { const x = lineAmounts(3, 333, 1000, 2000); return { net_minor: x.net, tax_minor: x.tax }; })() };
    const first = partAmounts(line, 1, { quantity: 0, net: 0, tax: 0 });
    const second = partAmounts(line, 1, { quantity: 1, net: first.net, tax: first.tax });
    const third = partAmounts(line, 1, { quantity: 2, net: first.net + second.net, tax: first.tax + second.tax });
    expect(first.net + second.net + third.net).toBe(line.net_minor);
    expect(first.tax + second.tax + third.tax).toBe(line.tax_minor);
    expect(first.total + second.total + third.total).toBe(1079);
  });
});
