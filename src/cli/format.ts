import { formatAmount, formatPercent } from '../shared/money.ts';
import type { Order } from '../orders/order.service.ts';
import type { Invoice, InvoiceDetail } from '../invoicing/invoice.service.ts';
import type { Payment } from '../payments/payment.service.ts';
import type { AccountStatement } from '../payments/account-statement.service.ts';
import type { Shipment } from '../shipping/shipment.service.ts';
import type { Customer } from '../customers/customer.service.ts';
import type { Product } from '../catalog/product.service.ts';
import { table } from './output.ts';

/**
 * Money as the CLI prints it: from the integer minor units, with thousands separators and
 * the currency's own decimals (`1,200.00` EUR, `5,000` JPY, `1.250` KWD), never cents.
 */
export function amount(minor: number, currency: string): string {
  const plain = formatAmount(Math.abs(minor), currency);
  const dot = plain.indexOf('.');
  const whole = (dot < 0 ? plain : plain.slice(0, dot)).replace(/\B(?=(\d{3})+$)/g, ',');
  return `${minor < 0 ? '-' : ''}${whole}${dot < 0 ? '' : plain.slice(dot)}`;
}

/** `money(120000, 'EUR')` → `"1,200.00 EUR"`. */
export const money = (minor: number, currency: string): string => `${amount(minor, currency)} ${currency}`;

/** Human text for the CLI; `--json` prints the objects themselves. */
export function customerText(c: Customer): string {
  return [
    `customer ${c.id}  ${c.name}  [${c.status}]`,
    `  currency ${c.currency}  terms ${c.paymentTermsDays} days  credit limit ${money(c.creditLimitMinor, c.currency)}  risk class ${c.riskClass ?? '-'}`,
    c.externalId ? `  external id ${c.externalId}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function productText(p: Product): string {
  return `product ${p.sku}  ${p.name}  price ${money(p.listPriceMinor, p.currency)}  tax ${formatPercent(p.taxRateBp)}%  on hand ${p.onHand}  reserved ${p.reserved}  available ${p.available}`;
}

export function orderText(o: Order & { credit?: { approved: boolean; reasons: string[]; exposureMinor: number } }): string {
  const m = (v: number) => amount(v, o.currency);
  const out = [
    `order ${o.id}  customer ${o.customerId}  status ${o.status}  date ${o.orderDate}`,
    `  subtotal ${m(o.subtotalMinor)}  discount ${m(o.discountMinor)}  tax ${m(o.taxMinor)}  total ${money(o.totalMinor, o.currency)}`,
    table(
      o.lines.map((l) => ({
        line: l.lineNo,
        sku: l.sku,
        qty: l.quantity,
        price: m(l.unitPriceMinor),
        disc: `${formatPercent(l.discountBp)}%`,
        net: m(l.netMinor),
        tax: m(l.taxMinor),
        total: m(l.totalMinor),
        reserved: l.reservedQty,
        shipped: l.shippedQty,
        backorder: l.backorderQty,
        invoiced: l.invoicedQty,
      })),
    ),
  ];
  if (o.credit) {
    out.push(o.credit.approved ? `  credit check: approved (exposure ${money(o.credit.exposureMinor, o.currency)})` : `  credit check: HOLD\n${o.credit.reasons.map((r) => `    - ${r}`).join('\n')}`);
  }
  if (o.cancelReason) out.push(`  cancelled: ${o.cancelReason}`);
  return out.join('\n');
}

/** A shipment; with the invoice its delivery made, that invoice's amount and due date. */
export function shipmentText(s: Shipment, invoice?: Pick<Invoice, 'number' | 'totalMinor' | 'currency' | 'dueDate'> | null): string {
  return [
    `shipment ${s.id}  order ${s.orderId}  status ${s.status}  carrier ${s.carrier}  tracking ${s.trackingNumber}`,
    `  lines: ${s.lines.map((l) => `${l.sku} × ${l.quantity}`).join(', ')}`,
    s.deliveredAt ? `  delivered ${s.deliveredAt}, signed by ${s.signedBy}` : '',
    s.invoiceNumber ? `  invoiced as ${s.invoiceNumber}${invoice ? `: ${money(invoice.totalMinor, invoice.currency)}, due ${invoice.dueDate}` : ''}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function invoicesText(list: Invoice[]): string {
  return table(
    list.map((i) => ({
      number: i.number,
      customer: i.customerId,
      date: i.invoiceDate,
      due: i.dueDate,
      status: i.status,
      total: amount(i.totalMinor, i.currency),
      balance: amount(i.balanceMinor, i.currency),
      currency: i.currency,
    })),
  );
}

export function invoiceText(i: InvoiceDetail): string {
  const m = (v: number) => amount(v, i.currency);
  return [
    `invoice ${i.number}  customer ${i.customerId}  order ${i.orderId ?? '-'}  status ${i.status}${i.disputed ? '  DISPUTED' : ''}`,
    `  date ${i.invoiceDate}  due ${i.dueDate}${i.settledDate ? `  settled ${i.settledDate}` : ''}`,
    `  total ${m(i.totalMinor)}  credited ${m(i.creditedMinor)}  paid ${m(i.paidMinor)}  written off ${m(i.writtenOffMinor)}  balance ${money(i.balanceMinor, i.currency)}`,
    table(i.lines.map((l) => ({ description: l.description, qty: l.quantity, price: m(l.unitPriceMinor), net: m(l.netMinor), tax: m(l.taxMinor), total: m(l.totalMinor) }))),
    ...i.payments.map((p) => `  payment ${p.paymentId}: ${m(p.amountMinor)} on ${p.appliedOn} (${p.rule})${p.reversed ? ' REVERSED' : ''}`),
    ...i.creditNotes.map((n) => `  credit note ${n.number}: ${m(n.amountMinor)} on ${n.creditDate} (${n.kind}: ${n.reason})`),
  ].join('\n');
}

export function paymentText(p: Payment): string {
  const m = (v: number) => money(v, p.currency);
  return [
    `payment ${p.id}  customer ${p.customerId}  ${money(p.amountMinor, p.currency)} on ${p.paymentDate}  status ${p.status}`,
    ...p.allocations.map((a) => `  → ${a.invoiceNumber}: ${m(a.amountMinor)} (${a.rule})${a.reversed ? ' REVERSED' : ''}`),
    `  applied ${m(p.appliedMinor)}  unapplied ${m(p.unappliedMinor)}`,
  ].join('\n');
}

export function accountStatementText(s: AccountStatement): string {
  const m = (v: number) => amount(v, s.currency);
  return [
    `statement of account — customer ${s.customerId} ${s.customerName} — ${s.from} to ${s.to} (${s.currency})`,
    `opening balance ${money(s.openingBalanceMinor, s.currency)}`,
    table(s.lines.map((l) => ({ date: l.date, document: l.document, kind: l.kind, description: l.description, debit: l.debitMinor ? m(l.debitMinor) : '', credit: l.creditMinor ? m(l.creditMinor) : '', balance: m(l.balanceMinor) }))),
    `closing balance ${money(s.closingBalanceMinor, s.currency)}`,
    `aging: ${Object.entries(s.aging).map(([b, v]) => `${b} ${m(v)}`).join('  ')}`,
  ].join('\n');
}

/** Orders on credit hold, each with why it is held. */
export function holdsText(holds: { id: number; customerId: number; customerName: string; totalMinor: number; currency: string; submittedAt: string | null; reasons: string[] }[]): string {
  if (holds.length === 0) return 'no order is on credit hold';
  return holds
    .map((h) => [`order ${h.id}  customer ${h.customerId} ${h.customerName}  total ${money(h.totalMinor, h.currency)}  submitted ${h.submittedAt ?? '-'}`, ...(h.reasons.length ? h.reasons : ['(no reason recorded)']).map((r) => `  - ${r}`)].join('\n'))
    .join('\n');
}

/** An order's credit decisions, amounts in the order's currency. */
export function decisionsText(decisions: { decidedAt: string; decision: string; automatic: boolean; decidedBy: string; exposureMinor: number; creditLimitMinor: number; reasons: string[] }[], currency: string): string {
  if (decisions.length === 0) return 'no credit decision yet';
  return decisions
    .map((d) => `${d.decidedAt} ${d.decision}${d.automatic ? ' (automatic)' : ''} by ${d.decidedBy}: exposure ${money(d.exposureMinor, currency)} vs limit ${money(d.creditLimitMinor, currency)}; ${d.reasons.join('; ') || 'all rules passed'}`)
    .join('\n');
}
