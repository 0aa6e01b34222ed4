import { sql, type Kysely } from 'kysely';

/**
 * The customer's exposure, maintained: the credit check used to sum every open invoice,
 * every unapplied payment and every approved order of the customer on each check, so it
 * slowed as a customer's history grew. Now two tables carry the running figures, written in
 * the same transaction as every change that moves them (src/exposure):
 * - `customer_exposure_items`: one row per invoice, payment or order while it counts
 *   (an open invoice's balance, a received payment's unapplied cash, an approved order's
 *   unbilled amount), deleted when it reaches zero — so it holds only what is open;
 * - `customer_exposure`: per customer, the sums of those items by kind, in minor units.
 * The overdue figures need dates: they read the open invoices' items joined to their due
 * dates (`customer_exposure_items (customer_id, kind)`), not the paid history.
 * The backfill computes both from the rows, as `cashloop credit exposure --verify` does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const run = (text: string) => sql.raw(text).execute(db);
  await run(`create table customer_exposure_items (
    kind text not null check (kind in ('invoice', 'payment', 'order')),
    entity_id integer not null,
    customer_id integer not null references customers(id),
    amount_minor bigint not null,
    primary key (kind, entity_id)
  )`);
  await run(`create index customer_exposure_items_customer on customer_exposure_items (customer_id, kind)`);
  await run(`create table customer_exposure (
    customer_id integer primary key references customers(id),
    open_ar_minor bigint not null default 0,
    unapplied_cash_minor bigint not null default 0,
    unbilled_minor bigint not null default 0
  )`);
  await run(`insert into customer_exposure_items (kind, entity_id, customer_id, amount_minor)
    select 'invoice', id, customer_id, balance from (
      select i.id, i.customer_id, i.total_minor
        - coalesce((select sum(cn.amount_minor) from credit_notes cn where cn.invoice_id = i.id), 0)
        - coalesce((select sum(pa.amount_minor) from payment_allocations pa where pa.invoice_id = i.id and pa.reversed = 0), 0)
        - coalesce((select sum(w.amount_minor) from write_offs w where w.invoice_id = i.id), 0) as balance
      from invoices i where i.status in ('open', 'partially_paid')) b
    where balance > 0`);
  await run(`insert into customer_exposure_items (kind, entity_id, customer_id, amount_minor)
    select 'payment', id, customer_id, unapplied from (
      select p.id, p.customer_id, p.amount_minor
        - coalesce((select sum(pa.amount_minor) from payment_allocations pa where pa.payment_id = p.id and pa.reversed = 0), 0) as unapplied
      from payments p where p.status = 'received') u
    where unapplied > 0`);
  await run(`insert into customer_exposure_items (kind, entity_id, customer_id, amount_minor)
    select 'order', id, customer_id, unbilled from (
      select o.id, o.customer_id, o.total_minor
        - coalesce((select sum(i.total_minor) from invoices i where i.order_id = o.id and i.status <> 'cancelled'), 0) as unbilled
      from orders o where o.status in ('approved', 'partially_shipped', 'shipped', 'delivered')) u
    where unbilled > 0`);
  await run(`insert into customer_exposure (customer_id, open_ar_minor, unapplied_cash_minor, unbilled_minor)
    select c.id,
      coalesce((select sum(x.amount_minor) from customer_exposure_items x where x.customer_id = c.id and x.kind = 'invoice'), 0),
      coalesce((select sum(x.amount_minor) from customer_exposure_items x where x.customer_id = c.id and x.kind = 'payment'), 0),
      coalesce((select sum(x.amount_minor) from customer_exposure_items x where x.customer_id = c.id and x.kind = 'order'), 0)
    from customers c`);
}
