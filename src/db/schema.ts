import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The core's tables as Kysely sees them. Money columns end in `_minor` (integer minor units,
 * currency beside them); business dates are `YYYY-MM-DD` text; `_at` columns are ISO-8601 UTC
 * text; booleans are 0/1 integers so SQLite and PostgreSQL read the same.
 */
export interface Database {
  api_keys: ApiKeysTable;
  portal_tokens: PortalTokensTable;
  sessions: SessionsTable;
  users: UsersTable;
  notifications: NotificationsTable;
  api_idempotency: ApiIdempotencyTable;
  settings: SettingsTable;
  document_sequences: DocumentSequencesTable;
  events: EventsTable;
  customers: CustomersTable;
  products: ProductsTable;
  stock_levels: StockLevelsTable;
  stock_movements: StockMovementsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_status_history: OrderStatusHistoryTable;
  credit_decisions: CreditDecisionsTable;
  shipments: ShipmentsTable;
  shipment_lines: ShipmentLinesTable;
  shipment_events: ShipmentEventsTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  credit_notes: CreditNotesTable;
  payments: PaymentsTable;
  payment_allocations: PaymentAllocationsTable;
  write_offs: WriteOffsTable;
  bank_entries: BankEntriesTable;
  dunning_policies: DunningPoliciesTable;
  outbox_messages: OutboxMessagesTable;
  dunning_notices: DunningNoticesTable;
  promises_to_pay: PromisesToPayTable;
  promise_invoices: PromiseInvoicesTable;
  disputes: DisputesTable;
  collection_actions: CollectionActionsTable;
  invoice_forecasts: InvoiceForecastsTable;
  exchange_rates: ExchangeRatesTable;
  credit_score_history: CreditScoreHistoryTable;
  customer_exposure: CustomerExposureTable;
  customer_exposure_items: CustomerExposureItemsTable;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: string;
}

export interface DocumentSequencesTable {
  kind: string;
  year: number;
  last_value: number;
}

export interface EventsTable {
  seq: Generated<number>;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: string;
  actor: string;
  occurred_at: string;
}

export type CustomerStatus = 'active' | 'blocked';
export type RiskClass = 'A' | 'B' | 'C' | 'D' | 'E';

export interface CustomersTable {
  id: Generated<number>;
  external_id: string | null;
  name: string;
  country: string | null;
  segment: string | null;
  currency: string;
  payment_terms_days: number;
  early_discount_days: number | null;
  early_discount_bp: number | null;
  credit_limit_minor: number;
  risk_class: RiskClass | null;
  sales_rep: string | null;
  email: string | null;
  iban: string | null;
  status: CustomerStatus;
  /** Collector the customer is assigned to (collections worklist). */
  collector: string | null;
  /** Dunning policy overriding the default (`collections.default_policy`). */
  dunning_policy: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  id: Generated<number>;
  sku: string;
  name: string;
  category: string | null;
  currency: string;
  list_price_minor: number;
  unit_cost_minor: number;
  tax_rate_bp: number;
  created_at: string;
  updated_at: string;
  /** The product's code in the system it was imported from (null for products made in cashloop). */
  external_code: string | null;
}

export interface StockLevelsTable {
  product_id: number;
  on_hand: number;
  reserved: number;
  updated_at: string;
}

export type StockMovementKind = 'receipt' | 'adjustment' | 'shipment';

export interface StockMovementsTable {
  id: Generated<number>;
  product_id: number;
  kind: StockMovementKind;
  quantity: number;
  reason: string | null;
  reference: string | null;
  created_at: string;
}

export type OrderStatus =
  | 'draft'
  | 'submitted'
  | 'approved'
  | 'credit_hold'
  | 'awaiting_prepayment'
  | 'rejected'
  | 'partially_shipped'
  | 'shipped'
  | 'delivered'
  | 'invoiced'
  | 'paid'
  | 'cancelled';

export interface OrdersTable {
  id: Generated<number>;
  customer_id: number;
  status: OrderStatus;
  currency: string;
  order_date: string;
  idempotency_key: string | null;
  external_id: string | null;
  subtotal_minor: number;
  discount_minor: number;
  tax_minor: number;
  total_minor: number;
  cancel_reason: string | null;
  created_at: string;
  submitted_at: string | null;
  approved_at: string | null;
  shipped_at: string | null;
  delivered_at: string | null;
  invoiced_at: string | null;
  paid_at: string | null;
  cancelled_at: string | null;
  updated_at: string;
}

export interface OrderLinesTable {
  id: Generated<number>;
  order_id: number;
  line_no: number;
  product_id: number;
  quantity: number;
  unit_price_minor: number;
  discount_bp: number;
  tax_rate_bp: number;
  gross_minor: number;
  discount_minor: number;
  net_minor: number;
  tax_minor: number;
  total_minor: number;
  reserved_qty: number;
  shipped_qty: number;
  invoiced_qty: number;
}

export interface OrderStatusHistoryTable {
  id: Generated<number>;
  order_id: number;
  from_status: string | null;
  to_status: string;
  reason: string | null;
  actor: string;
  at: string;
}

/** `prepayment`: the customer's class buys on prepayment terms, so the order waits for a payment instead of using credit. */
export type CreditDecisionKind = 'approved' | 'credit_hold' | 'released' | 'rejected' | 'prepayment';

export interface CreditDecisionsTable {
  id: Generated<number>;
  order_id: number;
  decision: CreditDecisionKind;
  automatic: number;
  exposure_minor: number;
  credit_limit_minor: number;
  open_ar_minor: number;
  unbilled_minor: number;
  order_total_minor: number;
  overdue_minor: number;
  max_days_overdue: number;
  risk_class: string | null;
  reasons: string;
  rules: string;
  decided_by: string;
  decided_at: string;
}

export type ShipmentStatus = 'picked' | 'shipped' | 'in_transit' | 'delivered' | 'failed';

export interface ShipmentsTable {
  id: Generated<number>;
  order_id: number;
  status: ShipmentStatus;
  carrier: string;
  tracking_number: string;
  shipped_at: string | null;
  delivered_at: string | null;
  signed_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface ShipmentLinesTable {
  id: Generated<number>;
  shipment_id: number;
  order_line_id: number;
  product_id: number;
  quantity: number;
}

export interface ShipmentEventsTable {
  id: Generated<number>;
  shipment_id: number;
  status: ShipmentStatus;
  note: string | null;
  at: string;
}

export type InvoiceStatus = 'open' | 'partially_paid' | 'paid' | 'cancelled';

export interface InvoicesTable {
  id: Generated<number>;
  number: string;
  external_ref: string | null;
  customer_id: number;
  order_id: number | null;
  shipment_id: number | null;
  currency: string;
  invoice_date: string;
  due_date: string;
  status: InvoiceStatus;
  subtotal_minor: number;
  tax_minor: number;
  total_minor: number;
  disputed: number;
  settled_date: string | null;
  created_at: string;
  updated_at: string;
}

export interface InvoiceLinesTable {
  id: Generated<number>;
  invoice_id: number;
  order_line_id: number | null;
  product_id: number | null;
  description: string;
  quantity: number;
  unit_price_minor: number;
  net_minor: number;
  tax_rate_bp: number;
  tax_minor: number;
  total_minor: number;
}

export type CreditNoteKind = 'return' | 'price_correction' | 'dispute' | 'early_payment_discount' | 'other';

export interface CreditNotesTable {
  id: Generated<number>;
  number: string;
  invoice_id: number;
  customer_id: number;
  currency: string;
  amount_minor: number;
  kind: CreditNoteKind;
  reason: string;
  credit_date: string;
  created_at: string;
}

export type PaymentStatus = 'received' | 'reversed';

export interface PaymentsTable {
  id: Generated<number>;
  customer_id: number;
  currency: string;
  amount_minor: number;
  payment_date: string;
  method: string;
  bank_reference: string | null;
  payer: string | null;
  external_id: string | null;
  status: PaymentStatus;
  reversal_reason: string | null;
  reversed_at: string | null;
  created_at: string;
}

export type AllocationRule = 'reference' | 'exact_amount' | 'oldest_due' | 'unapplied_credit' | 'manual';

export interface PaymentAllocationsTable {
  id: Generated<number>;
  payment_id: number;
  invoice_id: number;
  amount_minor: number;
  rule: AllocationRule;
  applied_on: string;
  reversed: number;
  created_at: string;
}

export interface WriteOffsTable {
  id: Generated<number>;
  invoice_id: number;
  /** `small_balance` (within the tolerance) or `bad_debt` (an uncollectable remainder). */
  kind: Generated<'small_balance' | 'bad_debt'>;
  amount_minor: number;
  reason: string;
  write_off_date: string;
  created_at: string;
}

export type CustomerRow = Selectable<CustomersTable>;
export type ProductRow = Selectable<ProductsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type OrderLineRow = Selectable<OrderLinesTable>;
export type ShipmentRow = Selectable<ShipmentsTable>;
export type InvoiceRow = Selectable<InvoicesTable>;
export type PaymentRow = Selectable<PaymentsTable>;
export type NewCustomer = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;

export type BankEntryStatus = 'matched' | 'unmatched' | 'reversed' | 'ignored';

/** One bank statement entry (src/bank): credits become payments, returns reverse them. */
export interface BankEntriesTable {
  id: Generated<number>;
  entry_key: string;
  statement_id: string;
  entry_ref: string;
  account_iban: string | null;
  direction: 'credit' | 'debit';
  amount_minor: number;
  currency: string;
  booking_date: string;
  value_date: string | null;
  payer_name: string | null;
  payer_iban: string | null;
  remittance: string | null;
  end_to_end_id: string | null;
  return_reason: string | null;
  status: BankEntryStatus;
  match_rule: string | null;
  customer_id: number | null;
  invoice_id: number | null;
  payment_id: number | null;
  source_file: string | null;
  created_at: string;
  updated_at: string;
}

export type BankEntryRow = Selectable<BankEntriesTable>;

/** API keys of the HTTP API (src/api): only the SHA-256 of the key is stored. */
export interface ApiKeysTable {
  id: Generated<number>;
  name: string;
  role: string;
  key_hash: string;
  created_at: string;
  revoked_at: string | null;
  /** When the key stops working (ISO timestamp); null for a key that does not expire. */
  expires_at: string | null;
}

/** Customer portal tokens: one customer's read-only view of its own documents. */
export interface PortalTokensTable {
  id: Generated<number>;
  customer_id: number;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
  /** When the token stops working (ISO timestamp); `portal.token_days` after it was issued. */
  expires_at: string | null;
}

/**
 * Browser sessions (src/api/auth): opened with an API key or a user's password (`staff`) or a portal token
 * (`portal`); only the SHA-256 of the random session id is stored. A session is valid until
 * `expires_at`, while it is used at least every `idle_minutes`, and while its key or token is.
 */
/**
 * The people who sign in to the workspace (src/users): a name (what "assigned to me" and
 * "my customers" match), a role of the permission matrix, and the password's scrypt hash
 * with its parameters (`scrypt$N$r$p$salt$hash`). A disabled user cannot sign in and their
 * sessions have ended.
 */
export interface UsersTable {
  id: Generated<number>;
  name: string;
  role: string;
  password_hash: string;
  created_at: string;
  password_changed_at: string;
  disabled_at: string | null;
  /** Where the daily digest of notifications goes; without one, none is sent. */
  email: string | null;
}

/** What the system tells one person (src/notifications); `recipient` is a user's (or key's) name. */
export interface NotificationsTable {
  id: Generated<number>;
  recipient: string;
  kind: string;
  subject: string;
  link: string | null;
  customer_id: number | null;
  dedupe_key: string;
  created_at: string;
  read_at: string | null;
  digested_at: string | null;
}

export interface SessionsTable {
  id: Generated<number>;
  secret_hash: string;
  kind: 'staff' | 'portal';
  api_key_id: number | null;
  /** The user account a staff session was opened with (instead of an API key). */
  user_id: number | null;
  portal_token_id: number | null;
  created_at: string;
  last_seen_at: string;
  idle_minutes: number;
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
}

export type IdempotencyState = 'in_flight' | 'completed';

/**
 * Idempotency-Keys of POSTs, per API key (`scope`): reserved (`in_flight`, under a lease)
 * before the work runs, then `completed` with the response replayed to retries, until
 * `expires_at` (src/idempotency/).
 */
export interface ApiIdempotencyTable {
  id: Generated<number>;
  scope: string;
  idem_key: string;
  method: string;
  /** The URL the key was first used on, query string included. */
  path: string;
  /** SHA-256 (hex) of the canonical JSON body; null on answers stored before bodies were compared. */
  request_hash: string | null;
  state: IdempotencyState;
  /** The stored response: null while in flight. */
  status: number | null;
  content_type: string | null;
  body: string | null;
  /** Random token of the request holding the reservation: only it may complete or release it. */
  token: string | null;
  /** An in-flight reservation not completed by then was left by a crashed process and may be taken over. */
  lease_until: string | null;
  created_at: string;
  expires_at: string;
}

/** Dunning policies by name: the levels as JSON (src/collections/policy.ts). */
export interface DunningPoliciesTable {
  name: string;
  levels: string;
  created_at: string;
  updated_at: string;
}

export type OutboxKind = 'reminder' | 'statement' | 'digest';
export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'exported';

/** Messages to customers (reminders, statements): sent by SMTP or exported. */
export interface OutboxMessagesTable {
  id: Generated<number>;
  kind: OutboxKind;
  /** The customer a reminder or statement goes to; null for a user's digest. */
  customer_id: number | null;
  /** The user a digest of notifications goes to (src/notifications); null for customers' messages. */
  user_id: number | null;
  /** What makes the message unique: `reminder:<customer>:<date>`, `statement:<customer>:<month>`. */
  dedupe_key: string;
  as_of: string;
  to_address: string | null;
  subject: string;
  body_text: string;
  body_html: string;
  status: OutboxStatus;
  error: string | null;
  attempts: number;
  created_at: string;
  sent_at: string | null;
  exported_at: string | null;
  /** The sender holding the message while it sends or exports it (null: nobody). */
  claimed_by: string | null;
  /** End of that sender's lease; after it the message may be claimed again. */
  claim_expires_at: string | null;
}

/** One dunning level reached by one invoice, in the reminder that announced it. */
export interface DunningNoticesTable {
  id: Generated<number>;
  message_id: number;
  invoice_id: number;
  customer_id: number;
  policy: string;
  level: number;
  level_name: string;
  notice_date: string;
  days_past_due: number;
  balance_minor: number;
  fee_minor: number;
  interest_minor: number;
  /** JSON array of the level's actions (`credit_hold`, `hand_over`). */
  actions: string;
  created_at: string;
}

export type PromiseStatus = 'open' | 'kept' | 'broken' | 'cancelled';

export interface PromisesToPayTable {
  id: Generated<number>;
  customer_id: number;
  promised_date: string;
  amount_minor: number;
  currency: string;
  promised_by: string | null;
  note: string | null;
  status: PromiseStatus;
  /** Paid against the promise's invoices between the promise and its resolution. */
  paid_minor: number;
  resolved_on: string | null;
  recorded_by: string;
  recorded_on: string;
  created_at: string;
  updated_at: string;
}

export interface PromiseInvoicesTable {
  promise_id: number;
  invoice_id: number;
}

export type DisputeStatus = 'open' | 'credited' | 'rejected' | 'withdrawn';

export interface DisputesTable {
  id: Generated<number>;
  invoice_id: number;
  invoice_line_id: number | null;
  customer_id: number;
  reason: string;
  amount_minor: number;
  currency: string;
  status: DisputeStatus;
  resolution_note: string | null;
  credit_note_id: number | null;
  opened_by: string;
  opened_on: string;
  resolved_by: string | null;
  resolved_on: string | null;
  created_at: string;
  updated_at: string;
}

export type CollectionActionKind = 'call' | 'email' | 'note' | 'promise' | 'dispute' | 'escalation' | 'reminder' | 'statement';

export interface CollectionActionsTable {
  id: Generated<number>;
  customer_id: number;
  invoice_id: number | null;
  kind: CollectionActionKind;
  note: string | null;
  next_action: string | null;
  next_action_on: string | null;
  action_date: string;
  actor: string;
  created_at: string;
}

/** One open invoice's payment forecast, handed back by the forecast step (src/forecasts). */
export interface InvoiceForecastsTable {
  invoice_id: number;
  customer_id: number;
  as_of: string;
  predicted_pay_date: string;
  pay_date_low: string;
  pay_date_high: string;
  /** Probability of paying after the due date, basis points 0–10000. */
  prob_late_bp: number;
  /** Open balance × probability of paying late, minor units of the invoice's currency. */
  amount_at_risk_minor: number;
  model: string;
  written_at: string;
}

/** A reference rate: on `rate_date`, 1 `base` buys `rate` `currency` (a decimal written with a dot, as the central bank publishes it). */
export interface ExchangeRatesTable {
  id: Generated<number>;
  rate_date: string;
  base: string;
  currency: string;
  rate: string;
  source: string;
  created_at: string;
  updated_at: string;
}

/** A customer's credit score as of a date, as the models handed it back (`applyCreditScores`). */
export interface CreditScoreHistoryTable {
  id: Generated<number>;
  customer_id: number;
  as_of: string;
  /** Points 0–100. */
  score: number;
  risk_class: RiskClass;
  /** JSON array of the reasons' sentences, largest deduction first. */
  reasons: string;
  suggested_limit_minor: number;
  actor: string;
  recorded_at: string;
}

/** Per customer, the running sums of the exposure items by kind (migration 0019), in minor units. */
export interface CustomerExposureTable {
  customer_id: number;
  open_ar_minor: number;
  unapplied_cash_minor: number;
  unbilled_minor: number;
}

export type ExposureKind = 'invoice' | 'payment' | 'order';

/** What one invoice (open balance), payment (unapplied cash) or order (unbilled amount) adds to its customer's exposure, kept only while not zero. */
export interface CustomerExposureItemsTable {
  kind: ExposureKind;
  entity_id: number;
  customer_id: number;
  amount_minor: number;
}
