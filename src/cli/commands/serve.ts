import path from 'node:path';
import type { Command } from 'commander';
import { openCore } from '../../core.ts';
import { dataDir } from '../../db/connection.ts';
import { cliActor, withCore } from '../context.ts';
import { emit, table } from '../output.ts';
import { invalid } from '../../shared/errors.ts';

/** `cashloop serve`, `cashloop apikey …` and `cashloop customer portal-token ID`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP API (JSON logs on stdout), the API docs at /docs, the customer portal and the reports at /reports')
    .option('--port <port>', 'port', '3000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: string; host: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`--port must be a port number, got ${o.port}`, { field: 'port', value: o.port, rule: 'port' });
      const { buildServer } = await import('../../api/server.ts');
      const core = await openCore();
      const app = await buildServer(core, { logger: true, siteDir: path.join(dataDir(), 'site') });
      await app.listen({ port, host: o.host });
      const base = `http://${o.host}:${port}`;
      process.stderr.write(`cashloop API on ${base} (docs ${base}/docs, reports ${base}/reports/, portal ${base}/portal?token=…); database ${core.db.location}\n`);
    });

  const apikey = program.command('apikey').description('API keys for the HTTP API (roles: admin, sales, credit, logistics, finance, collector, viewer)');
  apikey
    .command('create')
    .requiredOption('--role <role>')
    .requiredOption('--name <name>')
    .option('--json')
    .action(async (o: { role: string; name: string; json?: boolean }) =>
      withCore(async (core) => {
        const { createApiKey } = await import('../../api/keys.service.ts');
        emit(await createApiKey(core, o, cliActor()), o, (k) => `API key ${k.id} (${k.role}, ${k.name}) — shown once, store it now:\n${k.key}`);
      }),
    );
  apikey.command('list').option('--json').action(async (o: { json?: boolean }) =>
    withCore(async (core) => {
      const { listApiKeys } = await import('../../api/keys.service.ts');
      emit(await listApiKeys(core), o, (l) => table(l.map((k) => ({ id: k.id, name: k.name, role: k.role, created: k.createdAt, revoked: k.revokedAt ?? '' }))));
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
    .description("issue a token for one customer's self-service portal")
    .option('--json')
    .action(async (id: string, o: { json?: boolean }) =>
      withCore(async (core) => {
        const { createPortalToken } = await import('../../api/keys.service.ts');
        emit(await createPortalToken(core, id, cliActor()), o, (t) => `portal token for customer ${t.customerId} — shown once:\n${t.token}\nopen: http://127.0.0.1:3000/portal?token=${t.token}`);
      }),
    );
}
