import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/collections/message.render.ts';

describe('escapeHtml (every value a letter shows in HTML)', () => {
  it('escapes each of the five characters, wherever it stands', () => {
    expect(escapeHtml('&')).toBe('&amp;');
    expect(escapeHtml('<')).toBe('&lt;');
    expect(escapeHtml('>')).toBe('&gt;');
    expect(escapeHtml('"')).toBe('&quot;');
    expect(escapeHtml("'")).toBe('&#39;');
    expect(escapeHtml(`Müller & Söhne <b>"O'Brien"</b>`)).toBe('Müller &amp; Söhne &lt;b&gt;&quot;O&#39;Brien&quot;&lt;/b&gt;');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });

  it('returns text without them as it is', () => {
    for (const s of ['', '2025-12-01', '1,234.50 EUR', 'INV-2025-000123', '12 days overdue', 'Müller GmbH — Zürich']) expect(escapeHtml(s)).toBe(s);
  });
});
