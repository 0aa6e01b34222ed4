import type { DuckDBConnection } from '@duckdb/node-api';
import { coreColumns, type ColumnKind, type CoreTable } from '../src/db/columns.ts';
import { EXTRACT_ENTITIES, warehouseColumns } from '../src/extract/contract.ts';
import { storesZstd } from '../src/warehouse/warehouse.ts';

/**
 * The tables the pipeline itself owns (raw landing, core staging, ops). Models in `sql/`
 * build everything else. Creating them is idempotent, so every run starts with it.
 */

type ColType = 'BIGINT' | 'VARCHAR';

/** A core table's column names, as src/db/columns.ts (and so the Kysely schema) spells them. */
type ColumnOf<T extends CoreTable> = keyof (typeof coreColumns)[T] & string;
type Staged = { readonly [T in CoreTable]?: readonly ColumnOf<T>[] };

/**
 * The core tables staged from the event feed: which of their columns the warehouse keeps, in
 * the order of `staging.core_<table>`. Names are held to the core's schema by the type
 * checker; the types come from the core's own map (integer → BIGINT, text → VARCHAR).
 */
const STAGED = {
  customers: [
    'id', 'external_id', 'name', 'country', 'segment', 'currency', 'payment_terms_days', 'early_discount_days',
    'early_discount_bp', 'credit_limit_minor', 'risk_class', 'sales_rep', 'status', 'created_at', 'updated_at',
  ],
  products: [
    'id', 'sku', 'name', 'category', 'currency', 'list_price_minor', 'unit_cost_minor', 'tax_rate_bp', 'created_at',
    'updated_at', 'external_code',
  ],
  orders: [
    'id', 'customer_id', 'status', 'currency', 'order_date', 'external_id', 'subtotal_minor', 'discount_minor',
    'tax_minor', 'total_minor', 'cancel_reason', 'created_at', 'submitted_at', 'approved_at', 'shipped_at',
    'delivered_at', 'invoiced_at', 'paid_at', 'cancelled_at', 'updated_at',
  ],
  order_status_history: ['id', 'order_id', 'from_status', 'to_status', 'at'],
  order_lines: [
    'id', 'order_id', 'line_no', 'product_id', 'quantity', 'unit_price_minor', 'discount_bp', 'tax_rate_bp',
    'gross_minor', 'discount_minor', 'net_minor', 'tax_minor', 'total_minor', 'shipped_qty', 'invoiced_qty',
  ],
  shipments: [
    'id', 'order_id', 'status', 'carrier', 'tracking_number', 'shipped_at', 'delivered_at', 'signed_by', 'created_at',
    'updated_at',
  ],
  shipment_lines: ['id', 'shipment_id', 'order_line_id', 'product_id', 'quantity'],
  invoices: [
    'id', 'number', 'external_ref', 'customer_id', 'order_id', 'shipment_id', 'currency', 'invoice_date', 'due_date',
    'status', 'subtotal_minor', 'tax_minor', 'total_minor', 'disputed', 'settled_date', 'created_at', 'updated_at',
  ],
  credit_notes: [
    'id', 'number', 'invoice_id', 'customer_id', 'currency', 'amount_minor', 'kind', 'reason', 'credit_date',
    'created_at',
  ],
  payments: [
    'id', 'customer_id', 'currency', 'amount_minor', 'payment_date', 'method', 'bank_reference', 'external_id', 'status',
    'reversal_reason', 'reversed_at', 'created_at',
  ],
  payment_allocations: ['id', 'payment_id', 'invoice_id', 'amount_minor', 'rule', 'applied_on', 'reversed', 'created_at'],
  write_offs: ['id', 'invoice_id', 'amount_minor', 'reason', 'write_off_date', 'created_at'],
  dunning_notices: [
    'id', 'message_id', 'invoice_id', 'customer_id', 'policy', 'level', 'level_name', 'notice_date', 'days_past_due',
    'balance_minor', 'fee_minor', 'interest_minor', 'created_at',
  ],
  exchange_rates: ['id', 'rate_date', 'base', 'currency', 'rate', 'source', 'created_at', 'updated_at'],
  promises_to_pay: [
    'id', 'customer_id', 'promised_date', 'amount_minor', 'currency', 'status', 'paid_minor', 'resolved_on', 'recorded_on',
    'created_at', 'updated_at',
  ],
  disputes: [
    'id', 'invoice_id', 'invoice_line_id', 'customer_id', 'reason', 'amount_minor', 'currency', 'status', 'credit_note_id',
    'opened_on', 'resolved_on', 'created_at', 'updated_at',
  ],
  collection_actions: ['id', 'customer_id', 'invoice_id', 'kind', 'next_action_on', 'action_date', 'created_at'],
} as const satisfies Staged;

/**
 * The core's columns the warehouse leaves out of a staged table, and why. With the staged
 * ones they are exactly the core table's columns (tests/db/table-shapes.test.ts), so a column
 * added to a staged core table is either staged or named here.
 */
export const coreColumnsNotStaged: { readonly [T in keyof typeof STAGED]?: Partial<Record<ColumnOf<T>, string>> } = {
  customers: {
    email: 'personal contact data: no measure needs it, and the published warehouse is copied by analysts',
    iban: 'bank account data: no measure needs it, and the published warehouse is copied by analysts',
    collector: "the collectors' working assignment, not used by any mart",
    dunning_policy: "the customer's reminder policy, not used by any mart",
  },
  orders: { idempotency_key: 'a retry key of the API, not a fact of the order' },
  order_status_history: {
    reason: "the person's free text (a hold's release reason), which may name people",
    actor: 'the user who moved the order: personal data no measure needs',
  },
  order_lines: { reserved_qty: 'the stock held for the line right now, not used by any mart' },
  payments: { payer: 'the payer as the bank named it: personal data no measure needs' },
  write_offs: { kind: 'small balance or bad debt: not used by any mart yet' },
  dunning_notices: { actions: 'the actions a level took (fees, holds), not used by any mart yet' },
  promises_to_pay: {
    promised_by: "the customer's person who promised: personal data no measure needs",
    note: "the collector's free text, which may name people",
    recorded_by: 'the user who recorded the promise: personal data no measure needs',
  },
  disputes: {
    resolution_note: "the collector's free text, which may name people",
    opened_by: 'the user or portal session that opened the dispute: personal data no measure needs',
    resolved_by: 'the user who ended the dispute: personal data no measure needs',
  },
  collection_actions: {
    note: "the collector's free text, which may name people",
    next_action: "the collector's free-text next step, not used by any mart",
    actor: 'the user who acted: personal data no measure needs',
  },
};

/**
 * The core tables staged from the event feed, column → DuckDB type. Each becomes
 * `staging.core_<table>`, holding the latest after-image of every row.
 */
export const coreTables: Record<string, Record<string, ColType>> = Object.fromEntries(
  Object.entries(STAGED).map(([table, columns]) => [
    table,
    Object.fromEntries(columns.map((c) => [c, (coreColumns[table as CoreTable] as Record<string, ColumnKind>)[c] === 'integer' ? 'BIGINT' : 'VARCHAR'])),
  ]),
);

/** The canonical extract's files as the warehouse lands them (src/extract/contract.ts; personal columns left out). */
export const extractEntities: Record<string, string[]> = Object.fromEntries(
  EXTRACT_ENTITIES.map((e) => [e, warehouseColumns(e).map((c) => `${c.name}${c.required ? '*' : ''}`)]),
);

export function columnsOf(entity: string): { name: string; required: boolean }[] {
  return warehouseColumns(entity).map((c) => ({ name: c.name, required: c.required }));
}

/**
 * Creates the pipeline's own schemas, tables and columns when missing. Every run starts with
 * it: one read of the catalog finds what is there, and only what is missing is created (a
 * few hundred `if not exists` statements, each a catalog change, cost a run about a tenth of
 * a second at a million invoices).
 */
export async function ensureWarehouseSchema(conn: DuckDBConnection): Promise<void> {
  // duckdb_tables(), not duckdb_columns(): the latter binds every view of the file to list its columns.
  const catalog = (
    await conn.runAndReadAll(
      `select schema_name, null as table_name, null as columns from duckdb_schemas() where database_name = current_database() and schema_name in ('raw', 'staging', 'marts', 'metrics', 'ops')
       union all
       select schema_name, table_name, column_count from duckdb_tables() where database_name = current_database() and schema_name in ('raw', 'staging', 'ops')`,
    )
  ).getRowsJS();
  const present = new Set(catalog.map((r) => (r[1] === null ? String(r[0]) : `${String(r[0])}.${String(r[1])}`)));
  const columnCount = new Map(catalog.filter((r) => r[1] !== null).map((r) => [`${String(r[0])}.${String(r[1])}`, Number(r[2])]));
  const ddl: string[] = [];
  const table = (name: string, body: string) => {
    if (!present.has(name)) ddl.push(`create table if not exists ${name} (${body})`);
  };
  // A table made by an older version lacks the columns added since: it has fewer than now (columns are never dropped).
  const columns = (name: string, cols: [string, string][], extra: number) => {
    if (present.has(name) && columnCount.get(name)! < cols.length + extra) {
      for (const [c, type] of cols) ddl.push(`alter table ${name} add column if not exists "${c}" ${type}`);
    }
  };
  for (const schema of ['raw', 'staging', 'marts', 'metrics', 'ops']) if (!present.has(schema)) ddl.push(`create schema if not exists ${schema}`);
  // The payloads (JSON text, nine tenths of the landed bytes) stored with zstd where the file's
  // format allows it: at a million invoices the ingest stored them in less CPU than with DuckDB's
  // own choice (FSST) and in a third of the space (pipelines/README.md, "Benchmark"). A
  // warehouse made in an older format keeps its table as it was; an older format would store
  // a column asked for zstd uncompressed, so it is not asked there.
  if (!present.has('raw.events')) {
    const payload = (await storesZstd(conn)) ? 'VARCHAR not null using compression zstd' : 'VARCHAR not null';
    table(
      'raw.events',
      `seq BIGINT not null, event_type VARCHAR not null, aggregate_type VARCHAR not null, aggregate_id VARCHAR not null,
       payload ${payload}, actor VARCHAR, occurred_at VARCHAR not null, run_id VARCHAR not null`,
    );
  }
  table('ops.watermarks', 'name VARCHAR primary key, value BIGINT not null, updated_at TIMESTAMP not null');
  table(
    'ops.pipeline_runs',
    `run_id VARCHAR primary key, job VARCHAR not null, steps VARCHAR not null, as_of DATE, started_at TIMESTAMP not null,
     ended_at TIMESTAMP, status VARCHAR not null, rows_read BIGINT, rows_written BIGINT, error VARCHAR, detail VARCHAR`,
  );
  table('ops.extract_loads', 'run_id VARCHAR not null, source VARCHAR not null, loaded_at TIMESTAMP not null, files VARCHAR not null, rows BIGINT not null');
  table(
    'ops.reconciliation',
    `run_id VARCHAR not null, checked_at TIMESTAMP not null, source VARCHAR not null, check_name VARCHAR not null,
     expected VARCHAR, actual VARCHAR, ok BOOLEAN not null`,
  );
  // How each SQL model was last built, so the next transform knows what it may update in place.
  table(
    'ops.model_state',
    `model VARCHAR primary key, definition_hash VARCHAR not null, as_of DATE, extract_mark VARCHAR not null,
     part_expr VARCHAR not null, mode VARCHAR not null, run_id VARCHAR not null, built_at TIMESTAMP not null`,
  );
  // Each public model table in parts (one per month of a date column, or 'all'): the run that
  // last changed a part, its rows and, for tables rebuilt whole, a content fingerprint. Publishing
  // compares these versions with the published ones and copies only parts that differ.
  table(
    'ops.table_parts',
    `table_name VARCHAR not null, part VARCHAR not null, version VARCHAR not null, row_count BIGINT not null,
     fingerprint HUGEINT, primary key (table_name, part)`,
  );
  // A core table staged for the first time in a warehouse that has staged events before (the
  // warehouse is older than the table's staging): its rows in those events are staged by the
  // next transform (stageCoreEvents), from the mark left here.
  const stagedBefore = [...present].some((p) => p.startsWith('staging.core_'));
  const newlyStaged = stagedBefore ? Object.keys(coreTables).filter((t) => !present.has(`staging.core_${t}`)) : [];
  for (const [name, cols] of Object.entries(coreTables)) {
    // Quoted: a core column may be a word DuckDB reserves (order_status_history's `at`).
    const body = Object.entries(cols).map(([c, t]) => `"${c}" ${t}`).join(', ');
    table(`staging.core_${name}`, `${body}, _seq BIGINT not null`);
    // A column the core gained since the warehouse was made (products' external_code).
    columns(`staging.core_${name}`, Object.entries(cols), 1);
  }
  for (const entity of Object.keys(extractEntities)) {
    const body = columnsOf(entity).map((c) => `${c.name} VARCHAR`).join(', ');
    table(`raw.extract_${entity}`, `source VARCHAR not null, file VARCHAR not null, row_no BIGINT not null, ${body}`);
    // A column the contract gained since the warehouse was made (products' currency).
    columns(`raw.extract_${entity}`, columnsOf(entity).map((c) => [c.name, 'VARCHAR']), 3);
  }
  for (const statement of ddl) await conn.run(statement);
  if (newlyStaged.length === 0) return;
  const staged = await getWatermark(conn, STAGING_WATERMARK);
  if (staged > 0) {
    for (const t of newlyStaged) {
      await conn.run(`insert into ops.watermarks values ($1, $2, now()) on conflict (name) do nothing`, [`${BACKFILL_MARK}${t}`, BigInt(staged)]);
    }
  }
}

/** How far the core's events are staged (`staging.core_*`). */
export const STAGING_WATERMARK = 'core_staging';
/** `<prefix><table>`: a core table to stage from the events up to the mark's value, staged before the table was. */
export const BACKFILL_MARK = 'core_staging_backfill:';

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
