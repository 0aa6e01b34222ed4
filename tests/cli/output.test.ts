import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitAnswer, everything } from '../../src/cli/output.ts';
import { PortalTokenResponse } from '../../src/api/routes/access.routes.ts';
import { Page } from '../../src/api/routes/responses.ts';

/** `--json` through a route's response schema prints only what the route would answer. */
describe('emitAnswer', () => {
  afterEach(() => vi.restoreAllMocks());

  it("drops what the API's portal token schema does not name, a token hash or a secret among them", () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    const row = { id: 7, customerId: 3, createdAt: '2026-03-02T09:00:00.000Z', expiresAt: null, revokedAt: null, status: 'live', token_hash: 'ab12', token: 'clp_secret' };
    emitAnswer(Page(PortalTokenResponse), everything([row]), { json: true }, () => 'text');
    expect(JSON.parse(written.join(''))).toEqual({ items: [{ id: 7, customerId: 3, createdAt: '2026-03-02T09:00:00.000Z', expiresAt: null, revokedAt: null, status: 'live' }], next: null });

    written.length = 0;
    emitAnswer(Page(PortalTokenResponse), everything([row]), {}, (p) => `${p.items.length} token`);
    expect(written.join('')).toBe('1 token\n');
  });
});
