import { sql } from 'kysely';
import type { Core } from '../core.ts';
import { IMPORTED_INVOICE_PREFIX } from '../invoicing/invoice-import.service.ts';
import { IMPORT_METHOD, SETTLEMENT_METHOD } from './entity.ts';

export interface CustomerTieOut {
  customerId: number;
  externalId: string | null;
  currency: string;
  /** Open receivables as the imported extract says: plain arithmetic over its rows. */
  expectedMinor: number;
  /** Open balance of the customer's imported invoices as cashloop now holds them. */
  actualMinor: number;
  agrees: boolean;
}

/**
 * Open receivables per customer, twice, by independent routes:
 *
 * - **as in the extract**: per imported invoice, 0 if the extract marks it settled, else its
 *   amount less the payment rows that name it; then the customer's payment rows that name no
 *   invoice (and what named rows paid beyond their invoice) are taken off, down to zero.
 * - **as in cashloop**: the sum of the balances of the customer's imported invoices, derived
 *   from the allocations that cash application actually wrote.
 *
 * They agree when every row landed where the extract says; any difference is a bug or a
 * document cashloop added on its own (a credit note, a native payment) to those invoices.
 */
export async function tieOut(core: Core, customerIds: Iterable<number>): Promise<CustomerTieOut[]> {
  const wanted = new Set(customerIds);
  if (wanted.size === 0) return [];
  const like = `${IMPORTED_INVOICE_PREFIX}%`;
  const expected = await sql<{ customer_id: number; open_sum: number; absorbed: number; paid: number }>`
    with named as (
      select customer_id, bank_reference as ref, sum(amount_minor) as amt
      from payments where method = ${IMPORT_METHOD} and status = 'received' and bank_reference is not null
      group by customer_id, bank_reference
    ), settled as (
      select distinct customer_id, bank_reference as ref from payments where method = ${SETTLEMENT_METHOD}
    ), inv as (
      select i.customer_id, i.total_minor as total, coalesce(n.amt, 0) as named, case when s.ref is null then 0 else 1 end as is_settled
      from invoices i
      left join named n on n.customer_id = i.customer_id and n.ref = i.external_ref
      left join settled s on s.customer_id = i.customer_id and s.ref = i.external_ref
      where i.number like ${like} and i.status <> 'cancelled'
    ), per_customer as (
      select customer_id,
        sum(case when is_settled = 1 then 0 when total > named then total - named else 0 end) as open_sum,
        sum(case when named < total then named else total end) as absorbed
      from inv group by customer_id
    ), paid as (
      select customer_id, sum(amount_minor) as amt from payments where method = ${IMPORT_METHOD} and status = 'received' group by customer_id
    )
    select coalesce(pc.customer_id, pd.customer_id) as customer_id, coalesce(pc.open_sum, 0) as open_sum, coalesce(pc.absorbed, 0) as absorbed, coalesce(pd.amt, 0) as paid
    from per_customer pc full outer join paid pd on pd.customer_id = pc.customer_id
  `.execute(core.db.kysely);
  const actual = await sql<{ customer_id: number; balance: number }>`
    with alloc as (select invoice_id, sum(amount_minor) as s from payment_allocations where reversed = 0 group by invoice_id),
    cn as (select invoice_id, sum(amount_minor) as s from credit_notes group by invoice_id),
    wo as (select invoice_id, sum(amount_minor) as s from write_offs group by invoice_id)
    select i.customer_id, sum(i.total_minor - coalesce(a.s, 0) - coalesce(c.s, 0) - coalesce(w.s, 0)) as balance
    from invoices i
    left join alloc a on a.invoice_id = i.id
    left join cn c on c.invoice_id = i.id
    left join wo w on w.invoice_id = i.id
    where i.number like ${like} and i.status <> 'cancelled'
    group by i.customer_id
  `.execute(core.db.kysely);
  const actualBy = new Map(actual.rows.map((r) => [Number(r.customer_id), Number(r.balance)]));
  const expectedBy = new Map(
    expected.rows.map((r) => {
      const pool = Number(r.paid) - Number(r.absorbed);
      return [Number(r.customer_id), Math.max(0, Number(r.open_sum) - pool)];
    }),
  );
  const ids = [...wanted].sort((a, b) => a - b);
  const customers = new Map<number, { external_id: string | null; currency: string }>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await core.db.kysely.selectFrom('customers').select(['id', 'external_id', 'currency']).where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) customers.set(r.id, r);
  }
  return ids.map((id) => {
    const expectedMinor = expectedBy.get(id) ?? 0;
    const actualMinor = actualBy.get(id) ?? 0;
    const c = customers.get(id);
    return { customerId: id, externalId: c?.external_id ?? null, currency: c?.currency ?? '', expectedMinor, actualMinor, agrees: expectedMinor === actualMinor };
  });
}
