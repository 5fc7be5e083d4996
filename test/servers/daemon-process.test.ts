import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

interface Daemon {
  readonly child: ChildProcess;
  readonly healthzPort: number;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
}

/** Starts the stand-in daemon and waits for its READY line; killed after 20 s whatever happens. */
async function startDaemon(configPath: string): Promise<Daemon> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/servers/daemon-child.ts', configPath], {
    cwd: new URL('../..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const output = { stdout: '', stderr: '' };
  child.stderr?.on('data', (chunk) => {
    output.stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve(code);
    }),
  );
  const healthzPort = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output.stdout += String(chunk);
      const ready = /READY (\d+)/.exec(output.stdout);
      if (ready) resolve(Number(ready[1]));
    });
    void exited.then(() => reject(new Error(`daemon exited before READY:\n${output.stderr}`)));
  });
  return { child, healthzPort, output, exited };
}

describe('the daemon process', () => {
  let dir: string;
  let config: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-daemon-'));
    config = join(dir, 'config.conf');
    await writeFile(config, 'kind: KubeProxyConfiguration\nmode: ""\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops on ${signal}: exits 0, keeps the rules, closes its servers`, async () => {
      const daemon = await startDaemon(config);
      assert.equal((await fetch(`http://127.0.0.1:${daemon.healthzPort}/livez`)).status, 200);
      daemon.child.kill(signal);
      assert.equal(await daemon.exited, 0, daemon.output.stderr);
      assert.match(daemon.output.stdout, /dataplane stopped, rules kept/);
      assert.match(daemon.output.stderr, /"Leaving the rules in place/);
      await assert.rejects(fetch(`http://127.0.0.1:${daemon.healthzPort}/livez`), TypeError);
    });
  }

  it('exits 1 with KPROXY_E_CONFIG_CHANGED when the config file changes, so it is restarted', async () => {
    const daemon = await startDaemon(config);
    await writeFile(config, 'kind: KubeProxyConfiguration\nmode: "nftables"\n');
    assert.equal(await daemon.exited, 1);
    assert.match(
      daemon.output.stderr,
      /"Configuration file changed; exiting so that kproxy restarts with it"/,
    );
    assert.match(daemon.output.stderr, /kproxy: .*config\.conf changed; exiting to restart with it/);
    assert.match(daemon.output.stdout, /dataplane stopped, rules kept/);
  });
});
