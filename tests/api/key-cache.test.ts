import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { buildServer } from '../../src/api/server.ts';
import { API_KEY_CACHE_MS, createApiKey, revokeApiKey } from '../../src/api/keys.service.ts';
import { closeCore, openCore } from '../../src/core.ts';

/**
 * The server remembers the API keys it has read for API_KEY_CACHE_MS (src/api/keys.service.ts),
 * so a request does not read its key from the database each time. A revoked key must still
 * stop working: at once when revoked through this server's process, within that time when
 * revoked by another process on the same database (the CLI beside a running server).
 */
describe(`API keys remembered by the server, on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });
  const get = (secret: string) => app.inject({ method: 'GET', url: '/customers', headers: { authorization: `Bearer ${secret}` } });

  it('refuses a key revoked in this process on the very next request', async () => {
    const k = await createApiKey(t.core, { role: 'viewer', name: 'here' }, 'test');
    expect((await get(k.key)).statusCode).toBe(200);
    expect((await get(k.key)).statusCode).toBe(200);
    await revokeApiKey(t.core, k.id, 'test');
    const refused = await get(k.key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().rule).toBe('api_key_revoked');
  });

  it('refuses a key revoked by another process once the remembered copy has run out', async () => {
    const k = await createApiKey(t.core, { role: 'viewer', name: 'there' }, 'test');
    expect((await get(k.key)).statusCode).toBe(200);
    const cli = await openCore({ url: t.url, clock: t.clock, migrate: false });
    try {
      await revokeApiKey(cli, k.id, 'test');
    } finally {
      await closeCore(cli);
    }
    await new Promise((r) => setTimeout(r, API_KEY_CACHE_MS + 100));
    const refused = await get(k.key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().rule).toBe('api_key_revoked');
  });

  it('checks expiry on every request, not when the key was read', async () => {
    const k = await createApiKey(t.core, { role: 'viewer', name: 'soon', expiresIn: '1h' }, 'test');
    expect((await get(k.key)).statusCode).toBe(200);
    t.clock.advance(3_600_000 + 1);
    const refused = await get(k.key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().rule).toBe('api_key_expired');
  });
});
