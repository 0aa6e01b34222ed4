import type { Command } from 'commander';
import { cliActor, withCore } from '../context.ts';
import { emit, table } from '../output.ts';
import { invalid } from '../../shared/errors.ts';

/**
 * Reads a password without it ever being an argument (arguments stay in shell history and
 * show in the process list): with `--password-stdin`, the first line of standard input; on a
 * terminal, a prompt that does not echo, asked twice.
 */
export async function readPassword(fromStdin: boolean, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (fromStdin || !input.isTTY) {
    if (!fromStdin) throw invalid('no terminal to ask for the password: pipe it in with --password-stdin', { field: 'password', rule: 'password_stdin' });
    let text = '';
    for await (const chunk of input) {
      text += String(chunk);
      if (text.includes('\n') || text.length > 4096) break;
    }
    return text.split(/\r?\n/)[0]!;
  }
  const ask = (question: string) =>
    new Promise<string>((resolve, reject) => {
      output.write(question);
      let typed = '';
      input.setRawMode(true);
      input.resume();
      const onData = (data: Buffer) => {
        for (const ch of data.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            done();
            output.write('\n');
            return resolve(typed);
          }
          if (ch === '\u0003') {
            done();
            return reject(invalid('cancelled', { field: 'password', rule: 'cancelled' }));
          }
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      const done = () => {
        input.off('data', onData);
        input.setRawMode(false);
        input.pause();
      };
      input.on('data', onData);
    });
  const first = await ask('Password: ');
  const again = await ask('Password again: ');
  if (first !== again) throw invalid('the two passwords differ', { field: 'password', rule: 'confirmation' });
  return first;
}

/** `cashloop user create|list|set-email|disable|reset-password`: the people who sign in to the workspace. */
export function registerUsers(program: Command): void {
  const user = program.command('user').description('user accounts for the workspace: a name (the sales rep or collector name), a role, a password');
  user
    .command('create')
    .description('create a user; the password is asked for (not echoed) or read from standard input')
    .requiredOption('--name <name>', 'the name the user signs in with; "my customers" and "assigned to me" match it')
    .requiredOption('--role <role>', 'admin, sales, credit, logistics, finance, collector or viewer')
    .option('--email <address>', 'where the daily digest of their notifications goes (none without one)')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--json')
    .action(async (o: { name: string; role: string; email?: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = await readPassword(o.passwordStdin === true);
      await withCore(async (core) => {
        const { createUser } = await import('../../users/user.service.ts');
        emit(await createUser(core, { name: o.name, role: o.role, password, email: o.email }, cliActor()), o, (u) => `user ${u.id} (${u.name}, ${u.role}) created; sign in at /sign-in`);
      });
    });
  user.command('list').option('--json').action(async (o: { json?: boolean }) =>
    withCore(async (core) => {
      const { listUsers } = await import('../../users/user.service.ts');
      emit(await listUsers(core), o, (l) => table(l.map((u) => ({ id: u.id, name: u.name, role: u.role, created: u.createdAt, email: u.email ?? '', 'password changed': u.passwordChangedAt, disabled: u.disabledAt ?? '' }))));
    }),
  );
  user
    .command('set-email <user> <email>')
    .description('set where a user\'s daily digest of notifications goes ("" clears it)')
    .option('--json')
    .action(async (ref: string, email: string, o: { json?: boolean }) =>
      withCore(async (core) => {
        const { setUserEmail } = await import('../../users/user.service.ts');
        emit(await setUserEmail(core, ref, email, cliActor()), o, (u) => `user ${u.id} (${u.name}): ${u.email ? `digest goes to ${u.email}` : 'no digest e-mail'}`);
      }),
    );
  user
    .command('disable <user>')
    .description('disable a user (by id or name): they cannot sign in, and their sessions end now')
    .option('--json')
    .action(async (ref: string, o: { json?: boolean }) =>
      withCore(async (core) => {
        const { disableUser } = await import('../../users/user.service.ts');
        emit(await disableUser(core, ref, cliActor()), o, (u) => `user ${u.id} (${u.name}) disabled; ${u.sessionsEnded} session(s) ended`);
      }),
    );
  user
    .command('reset-password <user>')
    .description("set a user's new password (asked for, or --password-stdin); their sessions end")
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--json')
    .action(async (ref: string, o: { passwordStdin?: boolean; json?: boolean }) => {
      const password = await readPassword(o.passwordStdin === true);
      await withCore(async (core) => {
        const { resetPassword } = await import('../../users/user.service.ts');
        emit(await resetPassword(core, ref, password, cliActor()), o, (u) => `user ${u.id} (${u.name}): password changed; ${u.sessionsEnded} session(s) ended`);
      });
    });
}
