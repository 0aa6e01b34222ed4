/**
 * Keeps secrets out of the request log. The URL is logged with the value of every query
 * parameter whose name, once decoded the way the query parser decodes it, is a secret
 * (`key`, `token`, …, in any case) replaced by `***`: `?k%65y=…` reaches the server as `key`
 * and is masked like it. Headers that carry secrets are not logged at all; should a
 * serializer ever add them, pino's redaction masks them.
 */
const SECRET_PARAMS = new Set(['key', 'token', 'apikey', 'api_key', 'access_token', '_csrf', 'csrf', 'session']);

export const LOG_REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'req.query.key', 'req.query.token', 'res.headers["set-cookie"]'];

/** Decodes every well-formed %XX run and `+`; malformed escapes stay as written (as the query parser leaves them). */
function lenientDecode(text: string): string {
  return text.replace(/\+/g, ' ').replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

export function isSecretParam(rawName: string): boolean {
  return SECRET_PARAMS.has(lenientDecode(rawName).trim().toLowerCase());
}

/** The URL with the values of secret query parameters masked, for logs. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      return isSecretParam(name) ? `${name}=***` : part;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

/** The request as logged: method, URL with secrets masked, client address. */
export const logSerializers = {
  req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
};
