import { KproxyError } from '../errors.js';
import type { EndpointSliceObject, ServiceObject } from '../model/k8s-objects.js';
import { SERVICE_NAME_LABEL } from '../model/k8s-objects.js';
import { readManifestFile } from '../sources/manifest-file.js';
import { type DemoPod, startDemoPod } from './demo-pods.js';

/** Where a pod of the manifest really runs in the demo. */
export interface PodMapping {
  readonly pod: DemoPod;
  /** The address the manifest gave the pod. */
  readonly manifestAddress: string;
}

export interface DemoCluster {
  readonly service: ServiceObject;
  /** The Service's EndpointSlice, its addresses rewritten to where the demo pods listen. */
  readonly endpointSlice: EndpointSliceObject;
  readonly pods: readonly PodMapping[];
  stop(): Promise<void>;
}

/**
 * Brings a manifest's Service to life on loopback, with no cluster and no root: each endpoint
 * becomes a demo pod on its own loopback address (127.0.0.11, .12, …), all on one port, so the
 * EndpointSlice keeps its shape. `podCount` replaces the manifest's endpoints with that many pods.
 */
export async function startDemoCluster(manifestPath: string, podCount?: number): Promise<DemoCluster> {
  const { services, endpointSlices } = readManifestFile(manifestPath);
  const service = services[0];
  if (!service) {
    throw new KproxyError('KPROXY_E_MANIFEST', `${manifestPath}: no Service in the file`, {
      hint: 'the demo needs one Service and its EndpointSlice',
    });
  }
  const slice = endpointSlices.find((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === service.metadata.name);
  const manifestEndpoints = slice?.endpoints ?? [];
  const count = podCount ?? manifestEndpoints.length;
  if (count < 1 || count > 200) {
    throw new KproxyError('KPROXY_E_USAGE', `pod count ${count} out of range`, { hint: 'use 1 to 200 pods' });
  }
  const names = Array.from(
    { length: count },
    (_, i) => manifestEndpoints[i]?.targetRef?.name ?? `${service.metadata.name}-demo-${i}`,
  );
  const pods = await startPodsOnOnePort(names);
  const endpointSlice: EndpointSliceObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      ...(slice?.metadata ?? { name: `${service.metadata.name}-demo` }),
      labels: { [SERVICE_NAME_LABEL]: service.metadata.name },
    },
    addressType: 'IPv4',
    ports: (service.spec.ports ?? []).map((port) => ({
      name: port.name,
      protocol: port.protocol,
      port: pods[0]?.port,
    })),
    endpoints: pods.map((pod) => ({
      addresses: [pod.host],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', name: pod.name },
    })),
  };
  return {
    service,
    endpointSlice,
    pods: pods.map((pod, i) => ({
      pod,
      manifestAddress: manifestEndpoints[i]?.addresses[0] ?? '(generated)',
    })),
    stop: async () => {
      await Promise.all(pods.map((pod) => pod.close()));
    },
  };
}

/** Starts the pods on 127.0.0.11, .12, … sharing one free port; retries if the port is taken on one of them. */
export async function startPodsOnOnePort(names: readonly string[]): Promise<DemoPod[]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const first = await startDemoPod(names[0] ?? 'pod-0', '127.0.0.11');
    const pods = [first];
    try {
      for (let i = 1; i < names.length; i++) {
        pods.push(await startDemoPod(names[i] ?? `pod-${i}`, `127.0.0.${11 + i}`, first.port));
      }
      return pods;
    } catch (error) {
      await Promise.all(pods.map((pod) => pod.close()));
      if ((error as KproxyError).code !== 'KPROXY_E_PORT_IN_USE') throw error;
    }
  }
  throw new KproxyError('KPROXY_E_PORT_IN_USE', 'could not find one free port for all demo pods', {
    hint: 'free some ports on 127.0.0.0/8 and try again',
  });
}
