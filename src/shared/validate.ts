import { invalid } from './errors.ts';
import { MAX_ID, MAX_QUANTITY } from './bounds.ts';

/**
 * Small validators for service inputs. Each names the field, the value and the rule it
 * broke, so the same message reaches the CLI user, the API client and the import report.
 */

// C0 control characters and DEL. PostgreSQL cannot store U+0000 in text at all, and the
// others are invisible in every place a text is shown (letters, statements, reports, CSV).
// Free text may keep TAB, LF and CR: a reason, a note or a bank's remittance spans lines.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_IN_FREE_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// Half of a UTF-16 surrogate pair with no other half: not a character, and silently turned
// into U+FFFD by both database drivers, so the text stored would differ from the text sent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Fields whose last name is one of these are free text, which may span lines: reasons and
 * notes, a payment's reference and a bank's remittance, a letter's intro, and names (a
 * company's name carries a second line in many ledgers, and imports keep it). Ids, codes,
 * numbers, e-mail addresses and the other short fields stay on one line.
 */
const FREE_TEXT_FIELDS = new Set(['name', 'reason', 'note', 'reference', 'remittance', 'intro']);

export interface TextOptions {
  /** Allow TAB, LF and CR. Default: by the field's name (`name`, `reason`, `note`, `reference`, `remittance`, `intro`). */
  multiline?: boolean;
}

export const isFreeTextField = (field: string): boolean => FREE_TEXT_FIELDS.has(field.slice(field.lastIndexOf('.') + 1));

/**
 * What is wrong with the characters of a text, or null: a control character (rule
 * `control_character`; TAB, LF and CR are allowed in multi-line text) or half a surrogate
 * pair (rule `unicode`). The one rule every text field follows, in the services, in the
 * API's guard over any string of a request, and in import and bank files row by row.
 *
 * @example textProblem('Acme\u0000', false) // { rule: 'control_character', message: 'holds the control character U+0000 at position 5' }
 */
export function textProblem(value: string, multiline: boolean): { rule: string; message: string } | null {
  const control = (multiline ? CONTROL_IN_FREE_TEXT : CONTROL).exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return { rule: 'control_character', message: `holds the control character U+${code} at position ${control.index + 1}${multiline ? '' : ' (line breaks and tabs are not allowed here)'}` };
  }
  const half = LONE_SURROGATE.exec(value);
  if (half) return { rule: 'unicode', message: `holds half of a UTF-16 surrogate pair at position ${half.index + 1}, which is not a character` };
  return null;
}

/** Throws `invalid` naming the field when `textProblem` finds something; returns the text. */
export function checkText(value: string, field: string, options: TextOptions = {}): string {
  const problem = textProblem(value, options.multiline ?? isFreeTextField(field));
  if (problem) throw invalid(`${field} ${problem.message}`, { field, value, rule: problem.rule });
  return value;
}

export function requireText(value: unknown, field: string, maxLength = 200, options: TextOptions = {}): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(`${field} is required`, { field, value, rule: 'required' });
  }
  if (value.length > maxLength) {
    throw invalid(`${field} must be at most ${maxLength} characters`, { field, value, rule: 'max_length' });
  }
  return checkText(value.trim(), field, options);
}

export function optionalText(value: unknown, field: string, maxLength = 200, options: TextOptions = {}): string | null {
  if (value === undefined || value === null || value === '') return null;
  return requireText(value, field, maxLength, options);
}

/**
 * A whole number within [min, max]; accepts digit strings from the CLI. Above `max` it
 * fails with `maxRule` (`maximum`, or `quantity_max`/`id_max` from the helpers below).
 */
export function requireInt(value: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER, maxRule = 'maximum'): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw invalid(`${field} must be a whole number, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`, { field, value, rule: 'integer' });
  }
  if (n < min) throw invalid(`${field} must be at least ${min}, got ${n}`, { field, value, rule: min === 1 ? 'positive' : 'minimum' });
  if (n > max) throw invalid(`${field} must be at most ${max}, got ${n}`, { field, value, rule: maxRule });
  return n;
}

/** A quantity of goods: a whole number from `min` (default 1) up to MAX_QUANTITY. */
export function requireQuantity(value: unknown, field: string, min = 1): number {
  return requireInt(value, field, min, MAX_QUANTITY, 'quantity_max');
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, { field, value, rule: 'one_of' });
  }
  return value as T;
}

/** A positive integer id, as typed by a user (`"42"`) or sent as JSON (`42`), at most MAX_ID. */
export function requireId(value: unknown, field: string): number {
  return requireInt(value, field, 1, MAX_ID, 'id_max');
}

/**
 * The paging options of a list: `afterId` (the last id of the previous page, 0 or absent for
 * the first) and `limit` (1 to `maxLimit`, default `defaultLimit`). The API allows pages of
 * 500 in its schemas; the services take larger ones for their own callers (the demo
 * generator reads every product at once).
 */
export function pageOptions(options: { afterId?: unknown; limit?: unknown }, defaultLimit = 100, maxLimit = 100_000): { afterId: number | undefined; limit: number } {
  const afterId = options.afterId === undefined || options.afterId === null ? undefined : requireInt(options.afterId, 'after', 0, MAX_ID, 'id_max');
  const limit = options.limit === undefined || options.limit === null ? defaultLimit : requireInt(options.limit, 'limit', 1, maxLimit);
  return { afterId, limit };
}
