import { openCore, closeCore, type Core } from '../core.ts';

/** Who the CLI acts as in the event log: `CASHLOOP_ACTOR`, else `cli:<os user>`. */
export function cliActor(): string {
  return process.env.CASHLOOP_ACTOR ?? `cli:${process.env.USER ?? 'user'}`;
}

/** Opens the core (migrating it), runs `fn`, and always closes the database. */
export async function withCore<T>(fn: (core: Core) => Promise<T>): Promise<T> {
  const core = await openCore();
  try {
    return await fn(core);
  } finally {
    await closeCore(core);
  }
}
