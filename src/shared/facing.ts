import { formatAmount } from './money.ts';
import { MAX_ID } from './bounds.ts';
import { requireInt } from './validate.ts';

/**
 * How every face writes a document as JSON: the API's answers, the portal's, and the CLI's
 * `--json` all go through `facing` and the list shape here, so the same resource reads the same
 * whichever face it comes from (docs/api.md).
 */

/**
 * The one shape of every list the API answers: a page of `items` and `next`, the value to pass
 * as `?after=` for the following page (null on the last). Treat `next` as opaque: for lists
 * in id order it is the last id, for ranked or dated lists a position.
 */
export interface ListPage<T> {
  items: T[];
  next: string | null;
}

/** A page read by id (`afterId`, `limit` passed to the service): the next cursor is the last id. */
export function page<T extends { id: number }>(items: T[], limit: number): ListPage<T> {
  return { items, next: items.length === limit && items.length > 0 ? String(items.at(-1)!.id) : null };
}

/** The query of a list: `?after=` (the `next` of the previous page) and `?limit=`. */
export interface ListPageQuery {
  after?: number;
  limit?: number;
}

/** Default and largest page: `?limit=` is 1 to 500, 100 when left out. */
export const PAGE_LIMIT = { default: 100, max: 500 } as const;

/**
 * The `after` and `limit` of a list as typed on a command line (`--after 100 --limit 50`) or
 * passed by a caller, checked with the words and rules the API's schema answers with
 * (`limit must be at most 500, got 1000`, rule `maximum`); absent ones stay absent.
 */
export function pageQuery(input: { after?: unknown; limit?: unknown }): ListPageQuery {
  return {
    ...(input.after === undefined ? {} : { after: requireInt(input.after, 'after', 0, MAX_ID, 'id_max') }),
    ...(input.limit === undefined ? {} : { limit: requireInt(input.limit, 'limit', 1, PAGE_LIMIT.max) }),
  };
}

/** A page of a whole list a service returns at once (a ranking, a log): the cursor is a position. */
export function pageOf<T>(all: T[], query: ListPageQuery): ListPage<T> {
  const start = query.after ?? 0;
  const limit = query.limit ?? PAGE_LIMIT.default;
  return { items: all.slice(start, start + limit), next: start + limit < all.length ? String(start + limit) : null };
}

const SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;
const camel = (key: string): string => (SNAKE.test(key) ? key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : key);

/**
 * What every JSON answer goes through on its way out, so each face speaks one language:
 * field names in camelCase (`customer_id` → `customerId`), and beside every amount in minor
 * units (`totalMinor`) the same money written in units with its currency's exponent
 * (`total: "1200.00"`, `"1200"` in JPY, `"1.200"` in KWD), read from the `currency` of the
 * object or of the nearest object around it.
 */
export function facing(value: unknown, currency?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => facing(v, currency));
  if (value === null || typeof value !== 'object' || value instanceof Date || Buffer.isBuffer(value)) return value;
  const obj = value as Record<string, unknown>;
  const own = typeof obj.currency === 'string' && /^[A-Z]{3}$/.test(obj.currency) ? obj.currency : currency;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) out[camel(key)] = facing(v, own);
  if (own) {
    for (const [key, v] of Object.entries(out)) {
      const twin = key.endsWith('Minor') ? key.slice(0, -'Minor'.length) : null;
      if (twin && typeof v === 'number' && Number.isSafeInteger(v) && !(twin in out)) out[twin] = formatAmount(v, own);
    }
  }
  return out;
}
