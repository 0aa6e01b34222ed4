import type { DuckDBConnection } from '@duckdb/node-api';
import { EXPONENTS } from '../shared/money.ts';

/**
 * Money in the warehouse, by each currency's exponent. Amounts travel as BIGINT minor units
 * (`_cents` columns, named so before yen and dinars arrived: they hold minor units of the
 * row's currency); the step to currency units is one macro, used by every model and loader:
 *
 * - `currency_exponent(currency)`: 0 for JPY, 3 for KWD, 2 otherwise — the core's table
 *   (src/shared/money.ts), written into the macro so the two cannot disagree;
 * - `minor_to_units(minor, currency)`: exact DECIMAL(18,3) currency units (123456 JPY →
 *   123456.000, 123456 EUR → 1234.560, 123456 KWD → 123.456); never a float;
 * - `units_to_minor(amount, currency)`: a decimal amount (text or number) of the currency
 *   into BIGINT minor units, exactly when it has no more decimals than the currency (more are
 *   rounded half away from zero; the extract's validation refuses them before this);
 * - `pow10(n)`, `div_round_half_up(n, d)`, `rate_e8(rate)`: exact integer steps of the
 *   conversion into the reporting currency (pipelines/sql/metrics/fx_rates_used.sql).
 *
 * Their parameters are named `macro_*` so that none can be taken for a column of the query
 * that calls them (a `currency` parameter bound to a table's `currency` column in a grouped query).
 *
 * They are temporary macros of each connection, so `openWarehouse` defines them on every
 * connection it opens, read-only ones included.
 */
export function moneyMacros(): string[] {
  const cases = Object.entries(EXPONENTS)
    .filter(([, e]) => e !== 2)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => `when '${code}' then ${e}`)
    .join(' ');
  return [
    `create or replace temp macro currency_exponent(macro_currency) as case macro_currency ${cases} else 2 end`,
    `create or replace temp macro minor_to_units(macro_minor, macro_currency) as cast(cast(macro_minor as decimal(38, 0)) * case currency_exponent(macro_currency) when 0 then 1 when 1 then 0.1 when 2 then 0.01 else 0.001 end as decimal(18, 3))`,
    `create or replace temp macro units_to_minor(macro_amount, macro_currency) as cast(cast(macro_amount as decimal(38, 9)) * case currency_exponent(macro_currency) when 0 then 1 when 1 then 10 when 2 then 100 else 1000 end as bigint)`,
    // 10^n as an exact HUGEINT (DuckDB's power() is a float).
    `create or replace temp macro pow10(n) as cast('1' || repeat('0', cast(n as integer)) as hugeint)`,
    // n / d rounded half away from zero (half up for amounts ≥ 0), in integers: d > 0.
    `create or replace temp macro div_round_half_up(n, d) as case when n < 0 then -((-cast(n as hugeint) * 2 + d) // (2 * cast(d as hugeint))) else (cast(n as hugeint) * 2 + d) // (2 * cast(d as hugeint)) end`,
    // A reference rate (decimal text, at most 8 decimals) as an exact integer × 10^8.
    `create or replace temp macro rate_e8(rate) as cast(cast(rate as decimal(38, 8)) * 100000000 as hugeint)`,
  ];
}

/** Defines the money macros on a connection. */
export async function defineMoneyMacros(conn: DuckDBConnection): Promise<void> {
  for (const statement of moneyMacros()) await conn.run(statement);
}
