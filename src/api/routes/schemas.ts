import { Type } from '@sinclair/typebox';
import { MAX_ID, MAX_QUANTITY } from '../../shared/bounds.ts';

/** Shared request pieces. Money is a decimal string in the document's currency ("120.50"). */
export const Money = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', description: 'decimal amount with a dot, e.g. "120.50"' });
export const Percent = Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,2})?$', description: 'percent, e.g. "20" or "7.5"' });
export const BusinessDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
export const Month = Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'YYYY-MM' });
export const CurrencyCode = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' });

/**
 * What a request that breaks a pattern is told, in the words and rules the CLI and the
 * services use for the same mistake (src/shared/money.ts, dates.ts), by the pattern broken.
 */
export const PATTERN_WORDS: Record<string, { rule: string; words: string }> = {
  [Money.pattern!]: { rule: 'amount_format', words: 'must be a decimal amount with a dot' },
  [Percent.pattern!]: { rule: 'percent_format', words: 'must be a percentage like 20 or 7.5' },
  [BusinessDate.pattern!]: { rule: 'date_format', words: 'must be a date written YYYY-MM-DD' },
  [Month.pattern!]: { rule: 'month_format', words: 'must be written YYYY-MM' },
  [CurrencyCode.pattern!]: { rule: 'currency_code', words: 'must be a three-letter ISO 4217 code' },
};
/** An id: ids are PostgreSQL integers, so a larger number names nothing and is refused. */
export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });
/** A quantity of goods, up to MAX_QUANTITY. */
export const Quantity = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY });
export const IdParams = Type.Object({ id: Id });
export const NumberParams = Type.Object({ number: Type.String({ minLength: 1, maxLength: 100 }) });
export const Reason = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });
export const ListQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ID })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) });
export const strict = { additionalProperties: false } as const;
