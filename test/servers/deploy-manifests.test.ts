import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadProxyConfig } from '../../src/config/load-config.js';
import { parseBindAddress } from '../../src/servers/bind-address.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field below
type Manifest = any;

function manifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(new URL(`../../deploy/${file}`, import.meta.url), 'utf8')).map((d) =>
    d.toJS(),
  );
}

const [serviceAccount, clusterRole, binding] = manifests('rbac.yaml');
const [configMap] = manifests('configmap.yaml');
const [daemonSet] = manifests('daemonset.yaml');
const pod = daemonSet.spec.template.spec;
const container = pod.containers[0];

describe('deploy/ manifests', () => {
  it('run kproxy on the host network, privileged, on every Linux node, as the kproxy ServiceAccount', () => {
    assert.equal(pod.hostNetwork, true);
    assert.equal(container.securityContext.privileged, true);
    assert.equal(pod.nodeSelector['kubernetes.io/os'], 'linux');
    assert.equal(pod.serviceAccountName, serviceAccount.metadata.name);
    assert.ok(container.command.includes('--hostname-override=$(NODE_NAME)'));
    assert.equal(container.env[0].valueFrom.fieldRef.fieldPath, 'spec.nodeName');
  });

  it("mount what the seed's kube-proxy pod mounts: /lib/modules read-only, /run/xtables.lock, the config", () => {
    const mount = (path: string) => container.volumeMounts.find((m: Manifest) => m.mountPath === path);
    const volume = (name: string) => pod.volumes.find((v: Manifest) => v.name === name);
    assert.equal(mount('/lib/modules').readOnly, true);
    assert.equal(volume(mount('/lib/modules').name).hostPath.path, '/lib/modules');
    assert.deepEqual(volume(mount('/run/xtables.lock').name).hostPath, {
      path: '/run/xtables.lock',
      type: 'FileOrCreate',
    });
    const configArg: string = container.command.find((arg: string) => arg.startsWith('--config='));
    const configMount = container.volumeMounts.find((m: Manifest) =>
      configArg.startsWith(`--config=${m.mountPath}/`),
    );
    assert.ok(configMount, `${configArg} is not under a mounted volume`);
    assert.equal(volume(configMount.name).configMap.name, configMap.metadata.name);
  });

  it("probe /livez and /healthz on the ConfigMap's healthzBindAddress port", () => {
    const text: string = configMap.data['config.conf'];
    const healthz = /^healthzBindAddress: (.*)$/m.exec(text)?.[1] ?? '';
    const { port } = parseBindAddress(healthz, 'healthzBindAddress', '0.0.0.0:10256');
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/livez', port });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/healthz', port });
    // The ConfigMap's config is one kproxy loads (written to a file, as the volume would).
    const dir = mkdtempSync(join(tmpdir(), 'kp-deploy-'));
    try {
      writeFileSync(join(dir, 'config.conf'), text);
      assert.equal(loadProxyConfig(join(dir, 'config.conf')).mode, 'iptables');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("grant kube-proxy's rights: list/watch Services, EndpointSlices, Nodes; create/patch events", () => {
    const allows = (group: string, resource: string, verb: string) =>
      clusterRole.rules.some(
        (rule: Manifest) =>
          rule.apiGroups.includes(group) && rule.resources.includes(resource) && rule.verbs.includes(verb),
      );
    for (const verb of ['list', 'watch']) {
      assert.ok(allows('', 'services', verb), `services ${verb}`);
      assert.ok(allows('discovery.k8s.io', 'endpointslices', verb), `endpointslices ${verb}`);
      assert.ok(allows('', 'nodes', verb), `nodes ${verb}`);
    }
    for (const verb of ['create', 'patch'])
      assert.ok(allows('events.k8s.io', 'events', verb), `events ${verb}`);
    assert.equal(binding.roleRef.name, clusterRole.metadata.name);
    assert.deepEqual(binding.subjects[0], {
      kind: 'ServiceAccount',
      name: 'kproxy',
      namespace: 'kube-system',
    });
  });
});
