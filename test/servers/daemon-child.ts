/**
 * A kproxy daemon stand-in for the lifecycle test: the servers and the supervision `kproxy run`
 * uses, with a fake data plane part, in a process of its own so real signals and exit codes count.
 * Usage: node --import tsx test/servers/daemon-child.ts CONFIG_FILE
 */
import { KproxyError } from '../../src/errors.js';
import { DaemonServers } from '../../src/servers/daemon-servers.js';
import { startSupervision } from '../../src/servers/lifecycle.js';

const configPath = process.argv[2] ?? '';
const supervision = await startSupervision({ configPath, configPollMs: 20 });
supervision.lifecycle.join({
  name: 'dataplane',
  stop: async () => void process.stdout.write('dataplane stopped, rules kept\n'),
});
const servers = await DaemonServers.start({
  mode: 'iptables',
  nodeName: 'node-a',
  healthzBindAddress: '127.0.0.1:0',
  metricsBindAddress: '127.0.0.1:0',
  syncPeriodSeconds: 30,
});
supervision.lifecycle.join({ name: 'servers', stop: () => servers.stop() });
process.stdout.write(`READY ${servers.healthzAddress?.port}\n`);
try {
  await supervision.untilStopped();
} catch (error) {
  if (!(error instanceof KproxyError)) throw error;
  process.stderr.write(`kproxy: ${error.describe()}\n`);
  process.exitCode = 1;
}
