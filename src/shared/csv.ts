import { stringify, type Options } from 'csv-stringify/sync';

/** What a CSV cell may hold: text, numbers, booleans, nothing (an empty cell) or an object (written as JSON). */
export type CsvCell = string | number | bigint | boolean | Date | null | undefined | object;

/** Text that a spreadsheet reads as a plain number: `-12.50`, `+3`, `1e6`. */
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const OPTIONS: Options = {
  escape_formulas: true,
  cast: {
    // Amounts arrive as text (`formatAmount` keeps every decimal the currency has): a plain
    // number has nothing to run, and a spreadsheet must still be able to add it up.
    string: (value) => (PLAIN_NUMBER.test(value) ? { value, escape_formulas: false } : value),
    boolean: (value) => String(value),
    date: (value) => value.toISOString(),
    object: (value) => JSON.stringify(value),
  },
};

/**
 * The one CSV writer of cashloop (exports, query results, rejected import rows): RFC 4180
 * through csv-stringify — comma, `"` quoting only where a cell needs it, `\n` after every
 * line — with formula-leading cells neutralised as OWASP recommends against CSV injection.
 * A text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return (or the
 * full-width `＝ ＋ － ＠`) gets a leading apostrophe, so a spreadsheet shows it as text
 * instead of running it: `=HYPERLINK("http://x")` is written `"'=HYPERLINK(""http://x"")"`.
 * A cell that is a plain number stays a number, whether given as a number or as text such
 * as `-12.50`. Null and undefined are empty cells, booleans `true`/`false`, objects JSON.
 *
 * @example csvLines([['id', 'name'], [1, '=1+2'], [2, '-12.50']]) // "id,name\n1,'=1+2\n2,-12.50\n"
 */
export function csvLines(rows: readonly (readonly CsvCell[])[]): string {
  return stringify(rows as CsvCell[][], OPTIONS);
}

/** A header line of `columns`, then one line per row with the rows' values in that order. */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  return csvLines([columns, ...rows.map((r) => columns.map((c) => r[c] as CsvCell))]);
}
