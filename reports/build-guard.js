/* global process */
// Runs one command (the Observable Framework build) for reports/build.ts, which starts this
// file as the leader of a process group of its own. The build and every data loader it starts
// belong to that group, so one signal to the group ends all of them. This guard sends it as
// soon as the process that started it goes away, however that happened: its IPC channel
// closes then, even after a SIGKILL that left the starter no chance to clean up.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node reports/build-guard.js COMMAND [ARG...]\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });

process.on('disconnect', () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(1);
  }
});
child.on('error', (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
