import path from 'node:path';
import type { Command } from 'commander';
import { openCore } from '../../core.ts';
import { dataDir } from '../../db/connection.ts';
import { cliActor, withCore } from '../context.ts';
import { emit, emitAnswer, emitDocument, everything, table } from '../output.ts';
import { invalid } from '../../shared/errors.ts';

/** `cashloop serve`, `cashloop apikey …` and `cashloop customer portal-token ID`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP API (JSON logs on stdout: errors, and every request with CASHLOOP_LOG_REQUESTS=true), the API docs at /docs, the customer portal and the reports at /reports')
    .option('--port <port>', 'port (default: PORT, else 3000)', process.env.PORT ?? '3000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: string; host: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`--port must be a port number, got ${o.port}`, { field: 'port', value: o.port, rule: 'port' });
      const { buildServer } = await import('../../api/server.ts');
      const core = await openCore();
      // Errors are logged; a line per request only on demand (it costs about a tenth of a request).
      const app = await buildServer(core, { logger: true, logRequests: process.env.CASHLOOP_LOG_REQUESTS === 'true', siteDir: path.join(dataDir(), 'site') });
      await app.listen({ port, host: o.host });
      const base = `http://${o.host}:${port}`;
      process.stderr.write(`cashloop API on ${base} (sign in ${base}/sign-in, docs ${base}/docs, reports ${base}/reports/, portal ${base}/portal?token=…); database ${core.db.location}\n`);
    });

  const apikey = program.command('apikey').description('API keys for the HTTP API (roles: admin, sales, credit, logistics, finance, collector, viewer)');
  apikey
    .command('create')
    .requiredOption('--role <role>')
    .requiredOption('--name <name>')
    .option('--expires-in <duration>', 'the key stops working after this long: 12h, 90d, 8w')
    .option('--expires <date>', 'the key works through this day (UTC), YYYY-MM-DD')
    .option('--json')
    .action(async (o: { role: string; name: string; expiresIn?: string; expires?: string; json?: boolean }) =>
      withCore(async (core) => {
        const { createApiKey } = await import('../../api/keys.service.ts');
        emit(await createApiKey(core, o, cliActor()), o, (k) => `API key ${k.id} (${k.role}, ${k.name}${k.expiresAt ? `, expires ${k.expiresAt}` : ', does not expire'}) — shown once, store it now:\n${k.key}`);
      }),
    );
  apikey.command('list').option('--json').action(async (o: { json?: boolean }) =>
    withCore(async (core) => {
      const { listApiKeys } = await import('../../api/keys.service.ts');
      emitDocument(everything(await listApiKeys(core)), o, (l) => table(l.items.map((k) => ({ id: k.id, name: k.name, role: k.role, created: k.createdAt, expires: k.expiresAt ?? '', revoked: k.revokedAt ?? '' }))));
    }),
  );
  apikey.command('revoke <id>').option('--json').action(async (id: string, o: { json?: boolean }) =>
    withCore(async (core) => {
      const { revokeApiKey } = await import('../../api/keys.service.ts');
      emit(await revokeApiKey(core, id, cliActor()), o, (k) => `API key ${k.id} (${k.name}) revoked`);
    }),
  );
  apikey
    .command('purge-idempotency')
    .description('delete the Idempotency-Keys whose period (setting api.idempotency_ttl_hours) has ended; the scheduler does it hourly')
    .option('--json')
    .action(async (o: { json?: boolean }) =>
      withCore(async (core) => {
        const { purgeExpiredKeys } = await import('../../idempotency/idempotency.service.ts');
        emit(await purgeExpiredKeys(core), o, (r) => `${r.deleted} expired idempotency key(s) deleted (as of ${r.asOf})`);
      }),
    );

  const customer = program.commands.find((c) => c.name() === 'customer') ?? program.command('customer');
  customer
    .command('portal-token <id>')
    .description("issue a token for one customer's self-service portal (or list or withdraw them)")
    .option('--days <days>', 'the token works for this many days (default: setting portal.token_days, 90)')
    .option('--list', "list the customer's tokens and whether each still works")
    .option('--revoke', "withdraw every working token of the customer; its portal sessions end at once")
    .option('--json')
    .action(async (id: string, o: { days?: string; list?: boolean; revoke?: boolean; json?: boolean }) =>
      withCore(async (core) => {
        const keys = await import('../../api/keys.service.ts');
        if (o.list && o.revoke) throw invalid('give --list or --revoke, not both', { field: 'revoke', rule: 'one_action' });
        if ((o.list || o.revoke) && o.days !== undefined) throw invalid('--days applies to a new token only', { field: 'days', value: o.days, rule: 'one_action' });
        if (o.list) {
          // As GET /customers/:id/portal-tokens answers: through its response schema, so nothing
          // beyond what the API shows (never a token or its hash) can reach the terminal.
          const { PortalTokenResponse } = await import('../../api/routes/access.routes.ts');
          const { Page } = await import('../../api/routes/responses.ts');
          return emitAnswer(Page(PortalTokenResponse), everything(await keys.listPortalTokens(core, id)), o, (l) => (l.items.length ? table(l.items.map((t) => ({ id: t.id, created: t.createdAt, expires: t.expiresAt ?? '', revoked: t.revokedAt ?? '', status: t.status }))) : `customer ${id} has no portal tokens`));
        }
        if (o.revoke) {
          return emit(await keys.revokePortalTokens(core, id, cliActor()), o, (r) => (r.revoked.length ? `customer ${r.customerId}: withdrew ${r.revoked.length} portal token(s) (${r.revoked.map((t) => t.id).join(', ')}); their portal sessions have ended` : `customer ${r.customerId} had no working portal token`));
        }
        const base = (process.env.CASHLOOP_BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}`).replace(/\/+$/, '');
        emit(await keys.createPortalToken(core, id, cliActor(), { days: o.days }), o, (t) => `portal token ${t.tokenId} for customer ${t.customerId}, works until ${t.expiresAt} — shown once:\n${t.token}\nopen: ${base}/portal?token=${t.token}`);
      }),
    );
}
