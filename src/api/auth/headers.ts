import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every answer of the server, from one onSend hook:
 *
 * - `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`
 *   (a page never tells another site its address, which may still carry a key or a token);
 *   `Strict-Transport-Security` when the server is reached over https.
 * - A Content-Security-Policy: `default-src 'none'; frame-ancestors 'none'` for everything
 *   that is not a page, and for pages a policy that allows what that page needs and nothing
 *   from another origin. Inline `<script>` and `<style>` blocks are allowed by their SHA-256,
 *   computed from the page as it is sent, never by allowing inline code wholesale.
 *
 * What each kind of page needs (checked in Chromium, see tests/api/access.browser.test.ts):
 *
 * - Our own pages (sign-in, home, portal): one inline `<style>` (by hash), images of this
 *   server or `data:`, forms posting to this server. No script at all.
 * - The workspace (`/app`, src/workspace): htmx, its SSE extension and one stylesheet from
 *   this server (`'self'`), its requests and its event stream to this server
 *   (`connect-src 'self'`); no inline script or style (htmx is told not to add its own).
 *   Checked in Chromium by tests/workspace/workspace.browser.test.ts.
 * - The reports (Observable Framework): its modules from this server (`'self'`); the two
 *   inline scripts of each page (the sidebar state and the page's cells) by hash; data files
 *   fetched from this server (`connect-src 'self'`); `data:` images (the sidebar's icons are
 *   CSS data URIs). Styles need `'unsafe-inline'`: Plot writes a `<style>` element into each
 *   chart, Framework and Inputs add `<style>` elements and `style` attributes at run time,
 *   with content that changes with the data, so no fixed hash can cover them.
 *   Inputs renders its controls with htl, which parses placeholders such as `onclick="::2"`
 *   before replacing them with real listeners (properties, which CSP does not restrict);
 *   `'unsafe-hashes'` with the hashes of `::0`…`::15` lets those placeholder attributes
 *   through without a console error. They are not valid JavaScript, and no other inline
 *   handler is allowed.
 * - The API docs (swagger-ui): its scripts and stylesheets from this server, no inline
 *   script; `'unsafe-inline'` styles because swagger-ui's React components write `style`
 *   attributes; `data:` images (icons in its stylesheet); the OpenAPI document fetched from
 *   this server.
 */
export interface SecurityHeaderOptions {
  /** Send Strict-Transport-Security (the server is reached over https). */
  hsts?: boolean;
}

const sha = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;
const INLINE_STYLE = /<style\b[^>]*>([\s\S]*?)<\/style>/gi;
const HTL_PLACEHOLDERS = Array.from({ length: 16 }, (_, i) => sha(`::${i}`)).join(' ');

export const NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'";

const hashes = (html: string, pattern: RegExp) => [...html.matchAll(pattern)].map((m) => sha(m[1]!));

/** The Content-Security-Policy of one HTML page, served at `path`. */
export function pagePolicy(path: string, html: string): string {
  const scripts = hashes(html, INLINE_SCRIPT);
  const common = "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  if (path === '/reports' || path.startsWith('/reports/')) {
    return `default-src 'self'; script-src 'self' ${scripts.join(' ')}; script-src-attr 'unsafe-hashes' ${HTL_PLACEHOLDERS}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; ${common}`.replace(/ {2,}/g, ' ');
  }
  if (path === '/docs' || path.startsWith('/docs/')) {
    return `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; ${common}`;
  }
  if (path === '/app' || path.startsWith('/app/')) {
    // The workspace: htmx and its SSE extension and one stylesheet from this server, no inline
    // code; htmx requests and the event stream go to this server only.
    return `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; ${common}`;
  }
  const styles = hashes(html, INLINE_STYLE);
  return `default-src 'none'; script-src ${scripts.length ? scripts.join(' ') : "'none'"}; style-src ${styles.length ? styles.join(' ') : "'none'"}; img-src 'self' data:; ${common}`;
}

export function addSecurityHeaders(app: FastifyInstance, options: SecurityHeaderOptions = {}): void {
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    if (options.hsts) reply.header('strict-transport-security', 'max-age=31536000');
    const type = String(reply.getHeader('content-type') ?? '');
    const html = !type.startsWith('text/html') ? null : typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
    // A page streamed from disk cannot be hashed here: it gets the strictest page policy (no inline code).
    reply.header('content-security-policy', html === null ? NOT_A_PAGE_POLICY : pagePolicy(req.url.split('?')[0]!, html));
    return payload;
  });
}
