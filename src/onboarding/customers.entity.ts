/** Onboarding's customers file: one customer per row, keyed by `customer_id` (customers.external_id); an existing customer is not updated. */
import { createCustomer } from '../customers/customer.service.ts';
import { formatAmount } from '../shared/money.ts';
import { textMax } from '../extract/contract.ts';
import { customerByExternalId, duplicate, REPEATED, type EntitySpec } from './entity.ts';

export interface CustomerRecord {
  externalId: string;
  name: string;
  country: string | null;
  segment: string | null;
  currency: string;
  creditLimit: string;
  paymentTermsDays: number;
  email: string | null;
  iban: string | null;
}

export const customers: EntitySpec<CustomerRecord> = {
  entity: 'customers',
  columns: ['customer_id', 'name', 'country', 'segment', 'currency', 'credit_limit', 'payment_terms_days', 'email', 'iban'],
  required: ['customer_id'],
  idColumn: 'customer_id',
  phases: 1,
  async check(f, ctx) {
    const externalId = f.text('customer_id', { required: true, max: textMax('customers', 'customer_id') });
    const seen = duplicate(f, ctx, 'customer_id', externalId, this.columns);
    if (seen === 'repeat') return REPEATED;
    if (seen === 'conflict') return null;
    const currency = f.currency('currency', ctx.companyCurrency);
    const limit = currency ? f.amount('credit_limit', currency, { sign: 'not_negative' }) : null;
    const terms = f.int('payment_terms_days', 0, 365);
    const name = f.text('name', { max: textMax('customers', 'name') }) ?? externalId;
    const country = f.text('country', { max: textMax('customers', 'country') });
    const segment = f.text('segment', { max: textMax('customers', 'segment') });
    const email = f.text('email', { max: textMax('customers', 'email') });
    const ibanText = f.text('iban', { max: textMax('customers', 'iban') });
    const iban = ibanText?.replace(/\s+/g, '').toUpperCase() ?? null;
    if (iban && !/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) f.problem('iban', ibanText!, 'iban_format', `iban ${ibanText} is not an IBAN`);
    if (f.problems.length || !externalId || !currency) return null;
    const existing = await customerByExternalId(ctx, externalId);
    if (existing && existing.currency !== currency) {
      f.problem('currency', currency, 'currency_match', `customer ${externalId} is already in cashloop with currency ${existing.currency}`);
      return null;
    }
    return {
      record: { externalId, name: name!, country, segment, currency, creditLimit: formatAmount(limit ?? 0, currency), paymentTermsDays: terms ?? 30, email, iban },
      exists: existing !== null,
    };
  },
  remember(memory, r) {
    if (!memory.customers.get(r.externalId)) memory.customers.set(r.externalId, { id: -++memory.nextId, currency: r.currency });
  },
  async load(ctx, r) {
    const c = await createCustomer(ctx.core, { ...r }, ctx.actor);
    ctx.customers.set(r.externalId, { id: c.id, currency: c.currency });
    return c.created ? 'created' : 'unchanged';
  },
};
