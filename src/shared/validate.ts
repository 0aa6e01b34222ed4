import { invalid } from './errors.ts';

/**
 * Small validators for service inputs. Each names the field, the value and the rule it
 * broke, so the same message reaches the CLI user, the API client and the import report.
 */
export function requireText(value: unknown, field: string, maxLength = 200): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(`${field} is required`, { field, value, rule: 'required' });
  }
  if (value.length > maxLength) {
    throw invalid(`${field} must be at most ${maxLength} characters`, { field, value, rule: 'max_length' });
  }
  return value.trim();
}

export function optionalText(value: unknown, field: string, maxLength = 200): string | null {
  if (value === undefined || value === null || value === '') return null;
  return requireText(value, field, maxLength);
}

/** A whole number within [min, max]; accepts digit strings from the CLI. */
export function requireInt(value: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw invalid(`${field} must be a whole number, got ${JSON.stringify(value)}`, { field, value, rule: 'integer' });
  }
  if (n < min) throw invalid(`${field} must be at least ${min}, got ${n}`, { field, value, rule: min === 1 ? 'positive' : 'minimum' });
  if (n > max) throw invalid(`${field} must be at most ${max}, got ${n}`, { field, value, rule: 'maximum' });
  return n;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, { field, value, rule: 'one_of' });
  }
  return value as T;
}

/** A positive integer id, as typed by a user (`"42"`) or sent as JSON (`42`). */
export function requireId(value: unknown, field: string): number {
  return requireInt(value, field, 1);
}
