import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IptablesLabBackend } from '../../src/lab/backends/iptables-lab-backend.js';
import { kernelLabUnavailable } from '../../src/lab/backends/kernel-lab-backend.js';
import { NftablesLabBackend } from '../../src/lab/backends/nftables-lab-backend.js';
import { parseLabModes } from '../../src/lab/lab-mode.js';
import type { LabScenarioResult } from '../../src/lab/lab-result.js';
import { runScenario } from '../../src/lab/run-scenario.js';
import { scenarioNamed } from '../../src/lab/scenarios.js';

const unavailable = await kernelLabUnavailable();
if (unavailable && process.env.CI === 'true')
  throw new Error(`the kernel lab must run in CI: ${unavailable}`);
const skip = unavailable ?? false;

function run(scenario: string, requests: number, concurrency?: number): Promise<LabScenarioResult> {
  return runScenario({
    scenario: scenarioNamed(scenario),
    modes: parseLabModes('iptables'),
    backend: () => new IptablesLabBackend(),
    pods: 3,
    requests,
    concurrency,
  });
}

test('iptables mode on the kernel: client, pods and the rules’ counters agree', { skip }, async () => {
  const result = await run('new-connections', 150, 10);
  const [mode] = result.modes;
  assert.ok(mode);
  assert.equal(mode.dataplane, 'iptables (kernel)');
  assert.equal(mode.failures, 0);
  assert.equal(
    mode.pods.reduce((sum, pod) => sum + pod.requests, 0),
    150,
  );
  for (const pod of mode.pods) {
    assert.equal(
      pod.requests,
      pod.podCounted,
      `${pod.pod}: what the client attributed is what the pod served`,
    );
    assert.equal(pod.requests, pod.proxyConnections, `${pod.pod}: one DNATed connection per request`);
    assert.ok(pod.requests > 0, `${pod.pod}: the statistic rules reach every pod`);
  }
});

test('iptables mode on the kernel: a killed pod costs failures until its endpoint goes', {
  skip,
}, async () => {
  const result = await run('pod-killed', 240, 12);
  const [mode] = result.modes;
  assert.ok(mode);
  assert.ok(mode.failures > 0, 'connections DNATed to the dead pod fail');
  assert.equal(mode.completeRequests + mode.failures, 240);
});

test('nftables mode on the kernel: client, pods and conntrack agree', { skip }, async () => {
  const result = await runScenario({
    scenario: scenarioNamed('new-connections'),
    modes: parseLabModes('nftables'),
    backend: () => new NftablesLabBackend(),
    pods: 3,
    requests: 150,
    concurrency: 10,
  });
  const [mode] = result.modes;
  assert.ok(mode);
  assert.equal(mode.dataplane, 'nftables (kernel)');
  assert.equal(mode.failures, 0);
  for (const pod of mode.pods) {
    assert.equal(pod.requests, pod.podCounted, pod.pod);
    assert.equal(pod.requests, pod.proxyConnections, `${pod.pod}: one tracked DNATed connection per request`);
    assert.ok(pod.requests > 0, `${pod.pod}: numgen reaches every pod`);
  }
});
