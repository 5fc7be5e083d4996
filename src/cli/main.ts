import { Command, CommanderError } from 'commander';
import { KproxyError } from '../errors.js';
import { registerBench } from './bench.js';
import { registerCleanup } from './cleanup.js';
import { registerDemo } from './demo.js';
import { registerLab } from './lab.js';
import { registerRules } from './rules.js';
import { registerRun } from './run.js';
import { registerState } from './state.js';
import { registerStats } from './stats.js';
import { registerTrace } from './trace.js';

/** Exit codes (a contract): 0 ok, 1 runtime failure, 2 bad usage or bad input. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('kproxy')
    .description(
      'A Kubernetes service proxy in every kube-proxy mode, with a lab that shows how the load spreads',
    )
    .exitOverride()
    .showHelpAfterError();
  registerDemo(program);
  registerBench(program);
  registerLab(program);
  registerRun(program);
  registerState(program);
  registerRules(program);
  registerTrace(program);
  registerCleanup(program);
  registerStats(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof KproxyError) {
    console.error(`kproxy: ${error.describe()}`);
    return error.isBadInput ? 2 : 1;
  }
  console.error('kproxy: unexpected failure:', error);
  return 1;
}

// `kproxy rules … | head`: a reader that goes away ends the output, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});
process.exitCode = await main(process.argv.slice(2));
