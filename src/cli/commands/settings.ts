import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emit } from '../output.ts';
import { getSettings, setSetting } from '../../settings/settings.service.ts';
import type { Json } from './args.ts';

/** Company settings the rules read. */
export function registerSettings(program: Command): void {
  const settings = program.command('settings').description('company settings the rules read');
  settings.command('list').option('--json').action(async (o: Json) => withCore(async (core) => emit(await getSettings(core.db.kysely), o, (s) => Object.entries(s).map(([k, v]) => `${k} = ${String(v)}`).join('\n'))));
  settings
    .command('set <key> <value>')
    .option('--json')
    .action(async (key: string, value: string, o: Json) => withCore(async (core) => emit(await setSetting(core, key, value, cliActor()), o, (s) => Object.entries(s).map(([k, v]) => `${k} = ${String(v)}`).join('\n'))));
}
