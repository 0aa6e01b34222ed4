import { formatAmount, formatPercent } from '../shared/money.ts';
import type { Order } from '../orders/order.service.ts';
import type { Invoice, InvoiceDetail } from '../invoicing/invoice.service.ts';
import type { Payment } from '../payments/payment.service.ts';
import type { AccountStatement } from '../payments/account-statement.service.ts';
import type { Shipment } from '../shipping/shipment.service.ts';
import type { Customer } from '../customers/customer.service.ts';
import type { Product } from '../catalog/product.service.ts';
import { table } from './output.ts';

/** Human text for the CLI; `--json` prints the objects themselves. */
export function customerText(c: Customer): string {
  return [
    `customer ${c.id}  ${c.name}  [${c.status}]`,
    `  currency ${c.currency}  terms ${c.paymentTermsDays} days  credit limit ${c.creditLimit}  risk class ${c.riskClass ?? '-'}`,
    c.externalId ? `  external id ${c.externalId}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function productText(p: Product): string {
  return `product ${p.sku}  ${p.name}  price ${p.listPrice} ${p.currency}  tax ${formatPercent(p.taxRateBp)}%  on hand ${p.onHand}  reserved ${p.reserved}  available ${p.available}`;
}

export function orderText(o: Order & { credit?: { approved: boolean; reasons: string[]; exposureMinor: number } }): string {
  const m = (v: number) => formatAmount(v, o.currency);
  const out = [
    `order ${o.id}  customer ${o.customerId}  status ${o.status}  date ${o.orderDate}`,
    `  subtotal ${m(o.subtotalMinor)}  discount ${m(o.discountMinor)}  tax ${m(o.taxMinor)}  total ${m(o.totalMinor)} ${o.currency}`,
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
    out.push(o.credit.approved ? `  credit check: approved (exposure ${m(o.credit.exposureMinor)})` : `  credit check: HOLD\n${o.credit.reasons.map((r) => `    - ${r}`).join('\n')}`);
  }
  if (o.cancelReason) out.push(`  cancelled: ${o.cancelReason}`);
  return out.join('\n');
}

export function shipmentText(s: Shipment): string {
  return [
    `shipment ${s.id}  order ${s.orderId}  status ${s.status}  carrier ${s.carrier}  tracking ${s.trackingNumber}`,
    `  lines: ${s.lines.map((l) => `${l.sku} × ${l.quantity}`).join(', ')}`,
    s.deliveredAt ? `  delivered ${s.deliveredAt}, signed by ${s.signedBy}` : '',
    s.invoiceNumber ? `  invoiced as ${s.invoiceNumber}` : '',
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
      total: i.total,
      balance: i.balance,
      currency: i.currency,
    })),
  );
}

export function invoiceText(i: InvoiceDetail): string {
  const m = (v: number) => formatAmount(v, i.currency);
  return [
    `invoice ${i.number}  customer ${i.customerId}  order ${i.orderId ?? '-'}  status ${i.status}${i.disputed ? '  DISPUTED' : ''}`,
    `  date ${i.invoiceDate}  due ${i.dueDate}${i.settledDate ? `  settled ${i.settledDate}` : ''}`,
    `  total ${m(i.totalMinor)}  credited ${m(i.creditedMinor)}  paid ${m(i.paidMinor)}  written off ${m(i.writtenOffMinor)}  balance ${m(i.balanceMinor)} ${i.currency}`,
    table(i.lines.map((l) => ({ description: l.description, qty: l.quantity, price: m(l.unitPriceMinor), net: m(l.netMinor), tax: m(l.taxMinor), total: m(l.totalMinor) }))),
    ...i.payments.map((p) => `  payment ${p.paymentId}: ${m(p.amountMinor)} on ${p.appliedOn} (${p.rule})${p.reversed ? ' REVERSED' : ''}`),
    ...i.creditNotes.map((n) => `  credit note ${n.number}: ${m(n.amountMinor)} on ${n.creditDate} (${n.kind}: ${n.reason})`),
  ].join('\n');
}

export function paymentText(p: Payment): string {
  const m = (v: number) => formatAmount(v, p.currency);
  return [
    `payment ${p.id}  customer ${p.customerId}  ${p.amount} ${p.currency} on ${p.paymentDate}  status ${p.status}`,
    ...p.allocations.map((a) => `  → ${a.invoiceNumber}: ${m(a.amountMinor)} (${a.rule})${a.reversed ? ' REVERSED' : ''}`),
    `  applied ${m(p.appliedMinor)}  unapplied ${m(p.unappliedMinor)}`,
  ].join('\n');
}

export function accountStatementText(s: AccountStatement): string {
  const m = (v: number) => formatAmount(v, s.currency);
  return [
    `statement of account — customer ${s.customerId} ${s.customerName} — ${s.from} to ${s.to} (${s.currency})`,
    `opening balance ${m(s.openingBalanceMinor)}`,
    table(s.lines.map((l) => ({ date: l.date, document: l.document, kind: l.kind, description: l.description, debit: l.debitMinor ? m(l.debitMinor) : '', credit: l.creditMinor ? m(l.creditMinor) : '', balance: m(l.balanceMinor) }))),
    `closing balance ${m(s.closingBalanceMinor)}`,
    `aging: ${Object.entries(s.aging).map(([b, v]) => `${b} ${m(v)}`).join('  ')}`,
  ].join('\n');
}
