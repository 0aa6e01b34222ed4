import fs from 'node:fs';
import path from 'node:path';
import type { Core } from '../core.ts';
import { csvLines, type CsvCell } from '../shared/csv.ts';
import { formatAmount } from '../shared/money.ts';
import { invoiceBalances } from '../invoicing/invoice.repository.ts';

/**
 * Writes what cashloop holds as a canonical extract (DESIGN.md "The canonical extract"):
 * customers.csv, products.csv, order_lines.csv, invoices.csv, payments.csv — the folder a
 * company on another ERP would hand over. Together with `cashloop import` it proves the
 * migration path: export the demo company, import it into an empty database, and the open
 * receivables per customer come out the same.
 *
 * How cashloop's documents map onto the flat layout:
 * - customer_id is the customer's external id (the demo's `C00001`), else `C<id>`;
 *   product_id is the SKU; invoice_id is the invoice number.
 * - order_lines: every line of every order that was not rejected or cancelled.
 * - invoices: every invoice; `amount` is what the customer owes on it — its total less credit
 *   notes and write-offs (the layout has no credit notes); invoices credited in full are left
 *   out. `disputed` is true when a dispute ended in a credit note; `settled_date` is the day
 *   the balance reached zero.
 * - payments: one row per part of a receipt that paid an invoice (`<payment>-<n>`, naming
 *   the invoice), plus one row without an invoice for what is still unapplied (`<payment>-U`).
 *   Reversed (bounced) payments are left out: they never paid anything.
 */
export interface ExportSummary {
  dir: string;
  files: { file: string; rows: number }[];
}

const PAGE = 2000;

class CsvFile {
  rows = 0;
  private fd: number;
  constructor(
    readonly file: string,
    columns: string[],
  ) {
    this.fd = fs.openSync(file, 'w');
    fs.writeSync(this.fd, csvLines([columns]));
  }
  write(values: CsvCell[]) {
    fs.writeSync(this.fd, csvLines([values]));
    this.rows++;
  }
  close() {
    fs.closeSync(this.fd);
  }
}

export async function exportCanonical(core: Core, dir: string): Promise<ExportSummary> {
  fs.mkdirSync(dir, { recursive: true });
  const db = core.db.kysely;
  const files: CsvFile[] = [];
  const open = (name: string, columns: string[]) => {
    const f = new CsvFile(path.join(dir, name), columns);
    files.push(f);
    return f;
  };
  try {
    const customerKey = new Map<number, string>();
    const customers = open('customers.csv', ['customer_id', 'name', 'country', 'segment', 'currency', 'credit_limit', 'payment_terms_days', 'email', 'iban']);
    for (let after = 0; ; ) {
      const rows = await db.selectFrom('customers').selectAll().where('id', '>', after).orderBy('id').limit(PAGE).execute();
      if (rows.length === 0) break;
      for (const c of rows) {
        const key = c.external_id ?? `C${c.id}`;
        customerKey.set(c.id, key);
        customers.write([key, c.name, c.country, c.segment, c.currency, formatAmount(c.credit_limit_minor, c.currency), c.payment_terms_days, c.email, c.iban]);
      }
      after = rows.at(-1)!.id;
    }

    const products = open('products.csv', ['product_id', 'name', 'category', 'unit_price', 'unit_cost', 'currency']);
    const skus = new Map<number, string>();
    for (const p of await db.selectFrom('products').selectAll().orderBy('id').execute()) {
      skus.set(p.id, p.sku);
      products.write([p.sku, p.name, p.category, formatAmount(p.list_price_minor, p.currency), formatAmount(p.unit_cost_minor, p.currency), p.currency]);
    }

    const lines = open('order_lines.csv', ['order_id', 'line_no', 'customer_id', 'order_date', 'product_id', 'quantity', 'unit_price', 'currency']);
    for (let after = 0; ; ) {
      const rows = await db
        .selectFrom('order_lines as l')
        .innerJoin('orders as o', 'o.id', 'l.order_id')
        .select(['l.id', 'l.order_id', 'l.line_no', 'l.product_id', 'l.quantity', 'l.unit_price_minor', 'o.customer_id', 'o.order_date', 'o.currency', 'o.status'])
        .where('l.id', '>', after)
        .orderBy('l.id')
        .limit(PAGE)
        .execute();
      if (rows.length === 0) break;
      for (const l of rows) {
        if (l.status === 'rejected' || l.status === 'cancelled' || l.status === 'draft') continue;
        lines.write([`SO-${l.order_id}`, l.line_no, customerKey.get(l.customer_id), l.order_date, skus.get(l.product_id), l.quantity, formatAmount(l.unit_price_minor, l.currency), l.currency]);
      }
      after = rows.at(-1)!.id;
    }

    const invoices = open('invoices.csv', ['invoice_id', 'customer_id', 'invoice_date', 'due_date', 'amount', 'currency', 'disputed', 'settled_date']);
    const exported = new Set<number>();
    for (let after = 0; ; ) {
      const ids = (await db.selectFrom('invoices').select('id').where('id', '>', after).orderBy('id').limit(PAGE).execute()).map((r) => r.id);
      if (ids.length === 0) break;
      const rows = (await invoiceBalances(db, { invoiceIds: ids })).sort((a, b) => a.id - b.id);
      const disputed = new Set((await db.selectFrom('credit_notes').select('invoice_id').where('kind', '=', 'dispute').where('invoice_id', 'in', ids).execute()).map((r) => r.invoice_id));
      for (const i of rows) {
        if (i.status === 'cancelled') continue;
        const owed = i.total_minor - i.credited_minor - i.written_off_minor;
        if (owed <= 0) continue;
        exported.add(i.id);
        invoices.write([i.number, customerKey.get(i.customer_id), i.invoice_date, i.due_date, formatAmount(owed, i.currency), i.currency, disputed.has(i.id) ? 'true' : 'false', i.balance_minor === 0 ? i.settled_date : '']);
      }
      after = rows.at(-1)!.id;
    }

    const payments = open('payments.csv', ['payment_id', 'customer_id', 'payment_date', 'amount', 'currency', 'invoice_id']);
    for (let after = 0; ; ) {
      const rows = await db.selectFrom('payments').selectAll().where('id', '>', after).where('status', '=', 'received').orderBy('id').limit(PAGE).execute();
      if (rows.length === 0) break;
      const allocations = await db
        .selectFrom('payment_allocations as a')
        .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
        .select(['a.payment_id', 'a.invoice_id', 'a.amount_minor', 'i.number'])
        .where('a.reversed', '=', 0)
        .where('a.payment_id', 'in', rows.map((r) => r.id))
        .orderBy('a.id')
        .execute();
      const byPayment = new Map<number, typeof allocations>();
      for (const a of allocations) byPayment.set(a.payment_id, [...(byPayment.get(a.payment_id) ?? []), a]);
      for (const p of rows) {
        const key = customerKey.get(p.customer_id);
        let applied = 0;
        for (const [n, a] of (byPayment.get(p.id) ?? []).entries()) {
          applied += a.amount_minor;
          if (!exported.has(a.invoice_id)) continue;
          payments.write([`P${p.id}-${n + 1}`, key, p.payment_date, formatAmount(a.amount_minor, p.currency), p.currency, a.number]);
        }
        if (p.amount_minor > applied) payments.write([`P${p.id}-U`, key, p.payment_date, formatAmount(p.amount_minor - applied, p.currency), p.currency, '']);
      }
      after = rows.at(-1)!.id;
    }
  } finally {
    for (const f of files) f.close();
  }
  return { dir: path.resolve(dir), files: files.map((f) => ({ file: path.basename(f.file), rows: f.rows })) };
}
