import { spawn } from 'node:child_process';
import { FixtureProcess, startFixture } from '../../test/dataplanes/userspace/processes.js';
import type { CompiledBuild } from './compiled-build.js';

/** A userspace proxy process (test/dataplanes/userspace/fixtures/proxy-process.ts) and its port. */
export interface ProxyProcess {
  readonly process: FixtureProcess;
  readonly port: number;
}

/**
 * Starts the proxy fixture: `workers` 0 runs the data plane in that process, N in a pool of N
 * worker processes. `build` runs it compiled, as the node image runs kproxy; without it, from the
 * TypeScript sources through tsx, as `bin/kproxy.js` does.
 */
export async function startProxy(
  workers: number,
  backends: readonly string[],
  build?: CompiledBuild,
): Promise<ProxyProcess> {
  const args = [String(workers), 'rr', ...backends];
  const proxy = build
    ? compiledFixture(build, 'proxy-process.ts', args)
    : startFixture('proxy-process.ts', args);
  const port = Number((await proxy.line(/^LISTENING (\d+)/))[1]);
  return { process: proxy, port };
}

export function compiledFixture(build: CompiledBuild, name: string, args: readonly string[]): FixtureProcess {
  const script = build.path(`test/dataplanes/userspace/fixtures/${name}`);
  return new FixtureProcess(
    spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
}
