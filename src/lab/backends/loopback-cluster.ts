import { buildProxyState } from '../../control/build-proxy-state.js';
import type { EndpointSliceObject, ServiceObject } from '../../model/k8s-objects.js';
import { SERVICE_NAME_LABEL } from '../../model/k8s-objects.js';
import type { ProxyState } from '../../model/proxy-state.js';
import { startPodsOnOnePort } from '../demo-cluster.js';
import { type DemoPod, startDemoPod } from '../demo-pods.js';
import type { LabCluster, LabPod } from './lab-backend.js';

const SERVICE_NAME = 'web';

/**
 * The lab's Service and its pods, on loopback: pods on 127.0.0.11, .12, … sharing one port, that
 * can be added and killed while load runs. `state()` is the ProxyState a proxy would compute
 * from the Service and its EndpointSlice at that moment.
 */
export class LoopbackCluster implements LabCluster {
  private readonly removed = new Set<string>();
  private readonly labPods: LabPod[];

  private constructor(private readonly pods: DemoPod[]) {
    this.labPods = pods.map(labPod);
  }

  static async start(podCount: number): Promise<LoopbackCluster> {
    const names = Array.from({ length: podCount }, (_, i) => podName(i));
    return new LoopbackCluster(await startPodsOnOnePort(names));
  }

  allPods(): readonly LabPod[] {
    return this.labPods;
  }

  /** Starts one more pod on the next loopback address, on the same port. */
  async addPod(): Promise<LabPod> {
    const index = this.pods.length;
    const pod = await startDemoPod(podName(index), `127.0.0.${11 + index}`, this.pods[0]?.port);
    this.pods.push(pod);
    const added = labPod(pod);
    this.labPods.push(added);
    return added;
  }

  async killPod(name: string): Promise<void> {
    await this.pods.find((pod) => pod.name === name)?.close();
  }

  /** What the EndpointSlice controller does some time after a pod died. */
  removeEndpoint(name: string): void {
    this.removed.add(name);
  }

  state(): ProxyState {
    return buildProxyState({
      services: [this.service()],
      endpointSlices: [this.slice()],
      nodeName: 'kproxy-lab',
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.pods.map((pod) => pod.close()));
  }

  private service(): ServiceObject {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SERVICE_NAME, namespace: 'default' },
      spec: {
        clusterIP: '10.96.0.80',
        clusterIPs: ['10.96.0.80'],
        ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
      },
    };
  }

  private slice(): EndpointSliceObject {
    const live = this.pods.filter((pod) => !this.removed.has(pod.name));
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${SERVICE_NAME}-lab`,
        namespace: 'default',
        labels: { [SERVICE_NAME_LABEL]: SERVICE_NAME },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', protocol: 'TCP', port: this.pods[0]?.port }],
      endpoints: live.map((pod) => ({
        addresses: [pod.host],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', name: pod.name },
      })),
    };
  }
}

function labPod(pod: DemoPod): LabPod {
  return {
    name: pod.name,
    endpoint: `${pod.host}:${pod.port}`,
    requests: () => pod.requests(),
    openConnections: () => pod.openConnections(),
  };
}

function podName(index: number): string {
  return `${SERVICE_NAME}-${String.fromCharCode(97 + (index % 26))}${index >= 26 ? index : ''}`;
}
