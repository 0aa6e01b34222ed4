import { applyRate } from '../shared/money.ts';

/**
 * Money of one order line, all in integer minor units, rounded half up at each step in this
 * order: gross = quantity × unit price; discount = round(gross × discount rate);
 * net = gross − discount; tax = round(net × tax rate); total = net + tax.
 * Rounding per line (not per order) is what the invoice prints, so the order's totals are
 * the sums of its lines and always tie out.
 *
 * @example lineAmounts(3, 333, 1000, 2000) // gross 999, discount 100, net 899, tax 180, total 1079
 */
export interface LineAmounts {
  gross: number;
  discount: number;
  net: number;
  tax: number;
  total: number;
}

export function lineAmounts(quantity: number, unitPriceMinor: number, discountBp: number, taxRateBp: number): LineAmounts {
  const gross = quantity * unitPriceMinor;
  if (!Number.isSafeInteger(gross)) throw new RangeError('line amount exceeds the safe integer range');
  const discount = applyRate(gross, discountBp);
  const net = gross - discount;
  const tax = applyRate(net, taxRateBp);
  return { gross, discount, net, tax, total: net + tax };
}

export function sumAmounts(lines: LineAmounts[]): LineAmounts {
  return lines.reduce(
    (a, l) => ({ gross: a.gross + l.gross, discount: a.discount + l.discount, net: a.net + l.net, tax: a.tax + l.tax, total: a.total + l.total }),
    { gross: 0, discount: 0, net: 0, tax: 0, total: 0 },
  );
}

/**
 * Amounts for part of a line (a partial shipment's invoice). The last part of a line takes
 * what is left of the line's amounts, so a line invoiced in pieces adds up to the line.
 */
export function partAmounts(
  line: { quantity: number; unit_price_minor: number; discount_bp: number; tax_rate_bp: number; net_minor: number; tax_minor: number },
  partQuantity: number,
  alreadyInvoiced: { quantity: number; net: number; tax: number },
): LineAmounts {
  if (alreadyInvoiced.quantity + partQuantity === line.quantity) {
    const net = line.net_minor - alreadyInvoiced.net;
    const tax = line.tax_minor - alreadyInvoiced.tax;
    return { gross: net, discount: 0, net, tax, total: net + tax };
  }
  return lineAmounts(partQuantity, line.unit_price_minor, line.discount_bp, line.tax_rate_bp);
}
