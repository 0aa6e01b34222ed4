/**
 * HTML by tagged template, escaped by default. `html` returns an `Html` value; every value
 * put into it is escaped as text unless it is itself `Html` (a fragment built the same
 * way), so user data cannot become markup by forgetting a call. The type checker refuses
 * anything that is not text, a number, `Html`, a list of those, or nothing: an object
 * cannot slip into a page as `[object Object]`.
 *
 * @example html`<p>${customer.name}</p>` // <p>Müller &amp; Söhne</p>
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What a template takes: `false`, `null` and `undefined` render nothing (`cond && html\`…\``). */
export type Child = Html | string | number | boolean | null | undefined | readonly Child[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

function render(value: Child): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false || value === true) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Child[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/**
 * A day (the first ten characters of an ISO date or timestamp) as `<time>`, which the
 * stylesheet keeps on one line: a narrow screen never breaks 2026-03-02 at its hyphens.
 */
export const day = (iso: string | null | undefined): Html => {
  if (!iso) return new Html('');
  const d = escapeHtml(iso.slice(0, 10));
  return new Html(`<time datetime="${d}">${d}</time>`);
};

/** Markup that is already safe: for constants of this code only, never for data. */
export const trusted = (markup: string): Html => new Html(markup);

/** A path of this server with its query, each value encoded. */
export function href(path: string, query: Record<string, string | number | null | undefined> = {}): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `${path}?${parts.join('&')}` : path;
}
