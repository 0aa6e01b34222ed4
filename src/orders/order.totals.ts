import { MAX_AMOUNT_MINOR } from '../shared/bounds.ts';
import { invalid } from '../shared/errors.ts';
import { divRoundHalfUp } from '../shared/money.ts';

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

/**
 * Computed exactly in BigInt: quantity × price may pass 2^53 before the check below refuses
 * it, and a float product would round first. A line whose gross or total is above
 * MAX_AMOUNT_MINOR is refused (`amount_max`) naming `field` — the line's quantity, whose
 * size made it so (`lines.0.quantity`).
 */
export function lineAmounts(quantity: number, unitPriceMinor: number, discountBp: number, taxRateBp: number, field = 'quantity'): LineAmounts {
  const gross = BigInt(quantity) * BigInt(unitPriceMinor);
  const discount = divRoundHalfUp(gross * BigInt(discountBp), 10_000n);
  const net = gross - discount;
  const tax = divRoundHalfUp(net * BigInt(taxRateBp), 10_000n);
  const total = net + tax;
  const largest = gross > total ? gross : total;
  if (largest > BigInt(MAX_AMOUNT_MINOR) || -largest > BigInt(MAX_AMOUNT_MINOR)) {
    throw invalid(`${field}: ${quantity} × ${unitPriceMinor} minor units makes a line of ${largest} minor units, above the largest amount cashloop holds (${MAX_AMOUNT_MINOR})`, {
      field,
      value: quantity,
      rule: 'amount_max',
    });
  }
  return { gross: Number(gross), discount: Number(discount), net: Number(net), tax: Number(tax), total: Number(total) };
}

/**
 * The order's totals, refusing (`amount_max`) a document whose gross or total passes
 * MAX_AMOUNT_MINOR; `fieldOf(i)` names line i, the first one that carries it over.
 */
export function documentTotals(lines: LineAmounts[], fieldOf: (i: number) => string = (i) => `lines.${i}.quantity`): LineAmounts {
  let sum = sumAmounts([]);
  for (const [i, line] of lines.entries()) {
    sum = sumAmounts([sum, line]);
    // Each line is at most MAX_AMOUNT_MINOR, so the running sums stay exact until the first
    // one over the maximum stops the loop.
    if (sum.gross > MAX_AMOUNT_MINOR || sum.total > MAX_AMOUNT_MINOR) {
      throw invalid(`${fieldOf(i)}: the document's total passes the largest amount cashloop holds (${MAX_AMOUNT_MINOR} minor units) at line ${i + 1}`, {
        field: fieldOf(i),
        value: sum.total,
        rule: 'amount_max',
      });
    }
  }
  return sum;
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
