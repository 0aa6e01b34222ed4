import { invalid } from '../../shared/errors.ts';

/** Options every command takes: `--json` prints the result as JSON. */
export type Json = { json?: boolean };

/** Collects a repeated option (`--line A --line B`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * An amount argument checked for its shape before the database is opened (the currency's
 * decimals are checked once the document's currency is known, still before any change).
 */
export function decimalArg(value: string, field: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(value.trim())) throw invalid(`${field} must be a decimal amount with a dot, got ${JSON.stringify(value)}`, { field, value, rule: 'amount_format' });
  return value.trim();
}

/** An option whose value is an amount, checked when the command line is read: `.option('--amount <decimal>', '…', amountOption('amount'))`. */
export const amountOption = (field: string) => (value: string): string => decimalArg(value, field);

/** `SKU:QTY[:PRICE[:DISCOUNT%]]` → an order line. */
export function parseLineSpec(spec: string, i: number) {
  const [sku, quantity, unitPrice, discountPercent] = spec.split(':');
  if (!sku || !quantity) throw invalid(`--line ${spec} must be SKU:QTY[:PRICE[:DISCOUNT%]]`, { field: `lines.${i}`, value: spec, rule: 'line_format' });
  return { sku, quantity, unitPrice: unitPrice || null, discountPercent: discountPercent || null };
}
