import type { ColumnType } from 'kysely';
import type { Database } from './schema.ts';

/**
 * Every column of every core table, with how it is stored: `integer` (ids, money in minor
 * units, counts, 0/1 flags) or `text` (codes, names, `YYYY-MM-DD` dates, ISO-8601 timestamps,
 * JSON). The type checker holds this map to the Kysely interfaces of `schema.ts` — a column
 * missing here, one too many, or a number written as text fails `npm run typecheck` — and
 * tests/db/table-shapes.test.ts holds the migrated SQLite and PostgreSQL databases and the
 * warehouse's core staging (pipelines/schema.ts) to this map, column by column. So the three
 * places that spell the tables out cannot drift apart without a failing check.
 */
export type ColumnKind = 'integer' | 'text';

/** The type a column is read as (a `Generated<number>` id is read as a number). */
type Selected<V> = V extends ColumnType<infer S, unknown, unknown> ? S : V;
type KindOf<V> = [NonNullable<Selected<V>>] extends [number] ? 'integer' : [NonNullable<Selected<V>>] extends [string] ? 'text' : never;
type Shape<Row> = { readonly [C in keyof Row]-?: KindOf<Row[C]> };

export const coreColumns = {
  settings: { key: 'text', value: 'text', updated_at: 'text' },
  document_sequences: { kind: 'text', year: 'integer', last_value: 'integer' },
  events: {
    seq: 'integer', event_type: 'text', aggregate_type: 'text', aggregate_id: 'text', payload: 'text', actor: 'text',
    occurred_at: 'text',
  },
  customers: {
    id: 'integer', external_id: 'text', name: 'text', country: 'text', segment: 'text', currency: 'text',
    payment_terms_days: 'integer', early_discount_days: 'integer', early_discount_bp: 'integer',
    credit_limit_minor: 'integer', risk_class: 'text', sales_rep: 'text', email: 'text', iban: 'text', status: 'text',
    created_at: 'text', updated_at: 'text', collector: 'text', dunning_policy: 'text',
  },
  products: {
    id: 'integer', sku: 'text', name: 'text', category: 'text', currency: 'text', list_price_minor: 'integer',
    unit_cost_minor: 'integer', tax_rate_bp: 'integer', created_at: 'text', updated_at: 'text', external_code: 'text',
  },
  stock_levels: { product_id: 'integer', on_hand: 'integer', reserved: 'integer', updated_at: 'text' },
  stock_movements: {
    id: 'integer', product_id: 'integer', kind: 'text', quantity: 'integer', reason: 'text', reference: 'text',
    created_at: 'text',
  },
  orders: {
    id: 'integer', customer_id: 'integer', status: 'text', currency: 'text', order_date: 'text', idempotency_key: 'text',
    external_id: 'text', subtotal_minor: 'integer', discount_minor: 'integer', tax_minor: 'integer',
    total_minor: 'integer', cancel_reason: 'text', created_at: 'text', submitted_at: 'text', approved_at: 'text',
    shipped_at: 'text', delivered_at: 'text', invoiced_at: 'text', paid_at: 'text', cancelled_at: 'text',
    updated_at: 'text',
  },
  order_lines: {
    id: 'integer', order_id: 'integer', line_no: 'integer', product_id: 'integer', quantity: 'integer',
    unit_price_minor: 'integer', discount_bp: 'integer', tax_rate_bp: 'integer', gross_minor: 'integer',
    discount_minor: 'integer', net_minor: 'integer', tax_minor: 'integer', total_minor: 'integer',
    reserved_qty: 'integer', shipped_qty: 'integer', invoiced_qty: 'integer',
  },
  order_status_history: {
    id: 'integer', order_id: 'integer', from_status: 'text', to_status: 'text', reason: 'text', actor: 'text',
    at: 'text',
  },
  credit_decisions: {
    id: 'integer', order_id: 'integer', decision: 'text', automatic: 'integer', exposure_minor: 'integer',
    credit_limit_minor: 'integer', open_ar_minor: 'integer', unbilled_minor: 'integer', order_total_minor: 'integer',
    overdue_minor: 'integer', max_days_overdue: 'integer', risk_class: 'text', reasons: 'text', rules: 'text',
    decided_by: 'text', decided_at: 'text',
  },
  shipments: {
    id: 'integer', order_id: 'integer', status: 'text', carrier: 'text', tracking_number: 'text', shipped_at: 'text',
    delivered_at: 'text', signed_by: 'text', created_at: 'text', updated_at: 'text',
  },
  shipment_lines: {
    id: 'integer', shipment_id: 'integer', order_line_id: 'integer', product_id: 'integer', quantity: 'integer',
  },
  shipment_events: { id: 'integer', shipment_id: 'integer', status: 'text', note: 'text', at: 'text' },
  invoices: {
    id: 'integer', number: 'text', external_ref: 'text', customer_id: 'integer', order_id: 'integer',
    shipment_id: 'integer', currency: 'text', invoice_date: 'text', due_date: 'text', status: 'text',
    subtotal_minor: 'integer', tax_minor: 'integer', total_minor: 'integer', disputed: 'integer', settled_date: 'text',
    created_at: 'text', updated_at: 'text',
  },
  invoice_lines: {
    id: 'integer', invoice_id: 'integer', order_line_id: 'integer', product_id: 'integer', description: 'text',
    quantity: 'integer', unit_price_minor: 'integer', net_minor: 'integer', tax_rate_bp: 'integer', tax_minor: 'integer',
    total_minor: 'integer',
  },
  credit_notes: {
    id: 'integer', number: 'text', invoice_id: 'integer', customer_id: 'integer', currency: 'text',
    amount_minor: 'integer', kind: 'text', reason: 'text', credit_date: 'text', created_at: 'text',
  },
  payments: {
    id: 'integer', customer_id: 'integer', currency: 'text', amount_minor: 'integer', payment_date: 'text',
    method: 'text', bank_reference: 'text', payer: 'text', external_id: 'text', status: 'text', reversal_reason: 'text',
    reversed_at: 'text', created_at: 'text',
  },
  payment_allocations: {
    id: 'integer', payment_id: 'integer', invoice_id: 'integer', amount_minor: 'integer', rule: 'text',
    applied_on: 'text', reversed: 'integer', created_at: 'text',
  },
  write_offs: {
    id: 'integer', invoice_id: 'integer', amount_minor: 'integer', reason: 'text', write_off_date: 'text',
    created_at: 'text', kind: 'text',
  },
  bank_entries: {
    id: 'integer', entry_key: 'text', statement_id: 'text', entry_ref: 'text', account_iban: 'text', direction: 'text',
    amount_minor: 'integer', currency: 'text', booking_date: 'text', value_date: 'text', payer_name: 'text',
    payer_iban: 'text', remittance: 'text', end_to_end_id: 'text', return_reason: 'text', status: 'text',
    match_rule: 'text', customer_id: 'integer', invoice_id: 'integer', payment_id: 'integer', source_file: 'text',
    created_at: 'text', updated_at: 'text',
  },
  api_keys: {
    id: 'integer', name: 'text', role: 'text', key_hash: 'text', created_at: 'text', revoked_at: 'text',
    expires_at: 'text',
  },
  portal_tokens: {
    id: 'integer', customer_id: 'integer', token_hash: 'text', created_at: 'text', revoked_at: 'text',
    expires_at: 'text',
  },
  dunning_policies: { name: 'text', levels: 'text', created_at: 'text', updated_at: 'text' },
  outbox_messages: {
    id: 'integer', kind: 'text', customer_id: 'integer', dedupe_key: 'text', as_of: 'text', to_address: 'text',
    subject: 'text', body_text: 'text', body_html: 'text', status: 'text', error: 'text', attempts: 'integer',
    created_at: 'text', sent_at: 'text', exported_at: 'text', claimed_by: 'text', claim_expires_at: 'text', user_id: 'integer',
  },
  dunning_notices: {
    id: 'integer', message_id: 'integer', invoice_id: 'integer', customer_id: 'integer', policy: 'text',
    level: 'integer', level_name: 'text', notice_date: 'text', days_past_due: 'integer', balance_minor: 'integer',
    fee_minor: 'integer', interest_minor: 'integer', actions: 'text', created_at: 'text',
  },
  promises_to_pay: {
    id: 'integer', customer_id: 'integer', promised_date: 'text', amount_minor: 'integer', currency: 'text',
    promised_by: 'text', note: 'text', status: 'text', paid_minor: 'integer', resolved_on: 'text', recorded_by: 'text',
    recorded_on: 'text', created_at: 'text', updated_at: 'text',
  },
  promise_invoices: { promise_id: 'integer', invoice_id: 'integer' },
  disputes: {
    id: 'integer', invoice_id: 'integer', invoice_line_id: 'integer', customer_id: 'integer', reason: 'text',
    amount_minor: 'integer', currency: 'text', status: 'text', resolution_note: 'text', credit_note_id: 'integer',
    opened_by: 'text', opened_on: 'text', resolved_by: 'text', resolved_on: 'text', created_at: 'text',
    updated_at: 'text',
  },
  collection_actions: {
    id: 'integer', customer_id: 'integer', invoice_id: 'integer', kind: 'text', note: 'text', next_action: 'text',
    next_action_on: 'text', action_date: 'text', actor: 'text', created_at: 'text',
  },
  api_idempotency: {
    id: 'integer', scope: 'text', idem_key: 'text', method: 'text', path: 'text', request_hash: 'text', state: 'text',
    status: 'integer', content_type: 'text', body: 'text', token: 'text', lease_until: 'text', created_at: 'text',
    expires_at: 'text',
  },
  sessions: {
    id: 'integer', secret_hash: 'text', kind: 'text', api_key_id: 'integer', portal_token_id: 'integer',
    created_at: 'text', last_seen_at: 'text', idle_minutes: 'integer', expires_at: 'text', ended_at: 'text',
    end_reason: 'text', user_id: 'integer',
  },
  notifications: {
    id: 'integer', recipient: 'text', kind: 'text', subject: 'text', link: 'text', customer_id: 'integer',
    dedupe_key: 'text', created_at: 'text', read_at: 'text', digested_at: 'text',
  },
  users: {
    id: 'integer', name: 'text', role: 'text', password_hash: 'text', created_at: 'text', password_changed_at: 'text',
    disabled_at: 'text', email: 'text',
  },
  invoice_forecasts: {
    invoice_id: 'integer', customer_id: 'integer', as_of: 'text', predicted_pay_date: 'text', pay_date_low: 'text',
    pay_date_high: 'text', prob_late_bp: 'integer', amount_at_risk_minor: 'integer', model: 'text', written_at: 'text',
  },
  exchange_rates: {
    id: 'integer', rate_date: 'text', base: 'text', currency: 'text', rate: 'text', source: 'text', created_at: 'text',
    updated_at: 'text',
  },
  credit_score_history: {
    id: 'integer', customer_id: 'integer', as_of: 'text', score: 'integer', risk_class: 'text', reasons: 'text',
    suggested_limit_minor: 'integer', actor: 'text', recorded_at: 'text',
  },
  customer_exposure: { customer_id: 'integer', open_ar_minor: 'integer', unapplied_cash_minor: 'integer', unbilled_minor: 'integer' },
  customer_exposure_items: { kind: 'text', entity_id: 'integer', customer_id: 'integer', amount_minor: 'integer' },
} as const satisfies { readonly [T in keyof Database]: Shape<Database[T]> };

export type CoreTable = keyof typeof coreColumns;
