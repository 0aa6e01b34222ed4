import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The tables the pipeline itself owns (raw landing, core staging, ops). Models in `sql/`
 * build everything else. Creating them is idempotent, so every run starts with it.
 */

type ColType = 'BIGINT' | 'VARCHAR';

/**
 * The core tables staged from the event feed, with the columns of `src/db/schema.ts`.
 * Each becomes `staging.core_<table>`, holding the latest after-image of every row.
 */
export const coreTables: Record<string, Record<string, ColType>> = {
  customers: {
    id: 'BIGINT', external_id: 'VARCHAR', name: 'VARCHAR', country: 'VARCHAR', segment: 'VARCHAR', currency: 'VARCHAR',
    payment_terms_days: 'BIGINT', early_discount_days: 'BIGINT', early_discount_bp: 'BIGINT', credit_limit_minor: 'BIGINT',
    risk_class: 'VARCHAR', sales_rep: 'VARCHAR', status: 'VARCHAR', created_at: 'VARCHAR', updated_at: 'VARCHAR',
  },
  products: {
    id: 'BIGINT', sku: 'VARCHAR', name: 'VARCHAR', category: 'VARCHAR', currency: 'VARCHAR', list_price_minor: 'BIGINT',
    unit_cost_minor: 'BIGINT', tax_rate_bp: 'BIGINT', created_at: 'VARCHAR', updated_at: 'VARCHAR',
  },
  orders: {
    id: 'BIGINT', customer_id: 'BIGINT', status: 'VARCHAR', currency: 'VARCHAR', order_date: 'VARCHAR', external_id: 'VARCHAR',
    subtotal_minor: 'BIGINT', discount_minor: 'BIGINT', tax_minor: 'BIGINT', total_minor: 'BIGINT', cancel_reason: 'VARCHAR',
    created_at: 'VARCHAR', submitted_at: 'VARCHAR', approved_at: 'VARCHAR', shipped_at: 'VARCHAR', delivered_at: 'VARCHAR',
    invoiced_at: 'VARCHAR', paid_at: 'VARCHAR', cancelled_at: 'VARCHAR', updated_at: 'VARCHAR',
  },
  order_lines: {
    id: 'BIGINT', order_id: 'BIGINT', line_no: 'BIGINT', product_id: 'BIGINT', quantity: 'BIGINT', unit_price_minor: 'BIGINT',
    discount_bp: 'BIGINT', tax_rate_bp: 'BIGINT', gross_minor: 'BIGINT', discount_minor: 'BIGINT', net_minor: 'BIGINT',
    tax_minor: 'BIGINT', total_minor: 'BIGINT', shipped_qty: 'BIGINT', invoiced_qty: 'BIGINT',
  },
  shipments: {
    id: 'BIGINT', order_id: 'BIGINT', status: 'VARCHAR', carrier: 'VARCHAR', tracking_number: 'VARCHAR', shipped_at: 'VARCHAR',
    delivered_at: 'VARCHAR', signed_by: 'VARCHAR', created_at: 'VARCHAR', updated_at: 'VARCHAR',
  },
  shipment_lines: { id: 'BIGINT', shipment_id: 'BIGINT', order_line_id: 'BIGINT', product_id: 'BIGINT', quantity: 'BIGINT' },
  invoices: {
    id: 'BIGINT', number: 'VARCHAR', external_ref: 'VARCHAR', customer_id: 'BIGINT', order_id: 'BIGINT', shipment_id: 'BIGINT',
    currency: 'VARCHAR', invoice_date: 'VARCHAR', due_date: 'VARCHAR', status: 'VARCHAR', subtotal_minor: 'BIGINT',
    tax_minor: 'BIGINT', total_minor: 'BIGINT', disputed: 'BIGINT', settled_date: 'VARCHAR', created_at: 'VARCHAR',
    updated_at: 'VARCHAR',
  },
  credit_notes: {
    id: 'BIGINT', number: 'VARCHAR', invoice_id: 'BIGINT', customer_id: 'BIGINT', currency: 'VARCHAR', amount_minor: 'BIGINT',
    kind: 'VARCHAR', reason: 'VARCHAR', credit_date: 'VARCHAR', created_at: 'VARCHAR',
  },
  payments: {
    id: 'BIGINT', customer_id: 'BIGINT', currency: 'VARCHAR', amount_minor: 'BIGINT', payment_date: 'VARCHAR', method: 'VARCHAR',
    bank_reference: 'VARCHAR', external_id: 'VARCHAR', status: 'VARCHAR', reversal_reason: 'VARCHAR', reversed_at: 'VARCHAR',
    created_at: 'VARCHAR',
  },
  payment_allocations: {
    id: 'BIGINT', payment_id: 'BIGINT', invoice_id: 'BIGINT', amount_minor: 'BIGINT', rule: 'VARCHAR', applied_on: 'VARCHAR',
    reversed: 'BIGINT', created_at: 'VARCHAR',
  },
  write_offs: {
    id: 'BIGINT', invoice_id: 'BIGINT', amount_minor: 'BIGINT', reason: 'VARCHAR', write_off_date: 'VARCHAR', created_at: 'VARCHAR',
  },
  dunning_notices: {
    id: 'BIGINT', message_id: 'BIGINT', invoice_id: 'BIGINT', customer_id: 'BIGINT', policy: 'VARCHAR', level: 'BIGINT', level_name: 'VARCHAR',
    notice_date: 'VARCHAR', days_past_due: 'BIGINT', balance_minor: 'BIGINT', fee_minor: 'BIGINT', interest_minor: 'BIGINT', created_at: 'VARCHAR',
  },
};

/** The canonical extract (DESIGN.md): entity → columns; `*` marks a required column. */
export const extractEntities: Record<string, string[]> = {
  customers: ['customer_id*', 'name', 'country', 'segment', 'currency', 'credit_limit', 'payment_terms_days'],
  products: ['product_id*', 'name', 'category', 'unit_price', 'unit_cost'],
  order_lines: ['order_id*', 'line_no*', 'customer_id*', 'order_date*', 'product_id*', 'quantity*', 'unit_price*', 'currency'],
  invoices: ['invoice_id*', 'customer_id*', 'invoice_date*', 'due_date*', 'amount*', 'currency', 'disputed', 'settled_date', 'order_id', 'billing_channel'],
  payments: ['payment_id*', 'customer_id*', 'payment_date*', 'amount*', 'currency', 'invoice_id', 'method'],
};

/** Kind of each canonical column, for parsing and validation at landing. */
export function extractColumnKind(column: string): 'date' | 'money' | 'integer' | 'boolean' | 'text' {
  if (column.endsWith('_date')) return 'date';
  if (['amount', 'unit_price', 'unit_cost', 'credit_limit'].includes(column)) return 'money';
  if (['quantity', 'line_no', 'payment_terms_days'].includes(column)) return 'integer';
  if (column === 'disputed') return 'boolean';
  return 'text';
}

export function columnsOf(entity: string): { name: string; required: boolean }[] {
  return (extractEntities[entity] ?? []).map((c) => ({ name: c.replace('*', ''), required: c.endsWith('*') }));
}

/** Creates the pipeline's own schemas and tables when missing. */
export async function ensureWarehouseSchema(conn: DuckDBConnection): Promise<void> {
  const ddl: string[] = [
    'create schema if not exists raw',
    'create schema if not exists staging',
    'create schema if not exists marts',
    'create schema if not exists metrics',
    'create schema if not exists ops',
    `create table if not exists raw.events (
       seq BIGINT not null, event_type VARCHAR not null, aggregate_type VARCHAR not null, aggregate_id VARCHAR not null,
       payload VARCHAR not null, actor VARCHAR, occurred_at VARCHAR not null, run_id VARCHAR not null)`,
    `create table if not exists ops.watermarks (name VARCHAR primary key, value BIGINT not null, updated_at TIMESTAMP not null)`,
    `create table if not exists ops.pipeline_runs (
       run_id VARCHAR primary key, job VARCHAR not null, steps VARCHAR not null, as_of DATE, started_at TIMESTAMP not null,
       ended_at TIMESTAMP, status VARCHAR not null, rows_read BIGINT, rows_written BIGINT, error VARCHAR, detail VARCHAR)`,
    `create table if not exists ops.extract_loads (
       run_id VARCHAR not null, source VARCHAR not null, loaded_at TIMESTAMP not null, files VARCHAR not null, rows BIGINT not null)`,
    `create table if not exists ops.reconciliation (
       run_id VARCHAR not null, checked_at TIMESTAMP not null, source VARCHAR not null, check_name VARCHAR not null,
       expected VARCHAR, actual VARCHAR, ok BOOLEAN not null)`,
    // How each SQL model was last built, so the next transform knows what it may update in place.
    `create table if not exists ops.model_state (
       model VARCHAR primary key, definition_hash VARCHAR not null, as_of DATE, extract_mark VARCHAR not null,
       part_expr VARCHAR not null, mode VARCHAR not null, run_id VARCHAR not null, built_at TIMESTAMP not null)`,
    // Each public model table in parts (one per month of a date column, or 'all'): the run that
    // last changed a part, its rows and, for tables rebuilt whole, a content fingerprint. Publishing
    // compares these versions with the published ones and copies only parts that differ.
    `create table if not exists ops.table_parts (
       table_name VARCHAR not null, part VARCHAR not null, version VARCHAR not null, row_count BIGINT not null,
       fingerprint HUGEINT, primary key (table_name, part))`,
  ];
  for (const [table, cols] of Object.entries(coreTables)) {
    const body = Object.entries(cols).map(([c, t]) => `${c} ${t}`).join(', ');
    ddl.push(`create table if not exists staging.core_${table} (${body}, _seq BIGINT not null)`);
  }
  for (const entity of Object.keys(extractEntities)) {
    const body = columnsOf(entity).map((c) => `${c.name} VARCHAR`).join(', ');
    ddl.push(`create table if not exists raw.extract_${entity} (source VARCHAR not null, file VARCHAR not null, row_no BIGINT not null, ${body})`);
  }
  for (const statement of ddl) await conn.run(statement);
}

/** Reads a watermark (0 when never set). */
export async function getWatermark(conn: DuckDBConnection, name: string): Promise<number> {
  const reader = await conn.runAndReadAll('select value from ops.watermarks where name = $1', [name]);
  const v = reader.getRowsJS()[0]?.[0];
  return v === undefined || v === null ? 0 : Number(v);
}

/** Sets a watermark; call it inside the transaction that wrote the rows it covers. */
export async function setWatermark(conn: DuckDBConnection, name: string, value: number): Promise<void> {
  await conn.run(
    `insert into ops.watermarks values ($1, $2, now()) on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at`,
    [name, BigInt(value)],
  );
}
