import type { ProxyState } from '../../model/proxy-state.js';
import { startPodsOnOnePort } from '../demo-cluster.js';
import { type DemoPod, startDemoPod } from '../demo-pods.js';
import type { LabCluster, LabPod } from './lab-backend.js';
import { labPodName, labServiceState } from './lab-service.js';

/**
 * The lab's Service and its pods on loopback: pods on 127.0.0.11, .12, … sharing one port, that
 * can be added and killed while load runs.
 */
export class LoopbackCluster implements LabCluster {
  private readonly removed = new Set<string>();
  private readonly labPods: LabPod[];

  private constructor(private readonly pods: DemoPod[]) {
    this.labPods = pods.map(labPod);
  }

  static async start(podCount: number): Promise<LoopbackCluster> {
    const names = Array.from({ length: podCount }, (_, i) => labPodName(i));
    return new LoopbackCluster(await startPodsOnOnePort(names));
  }

  allPods(): readonly LabPod[] {
    return this.labPods;
  }

  /** Starts one more pod on the next loopback address, on the same port. */
  async addPod(): Promise<LabPod> {
    const index = this.pods.length;
    const pod = await startDemoPod(labPodName(index), `127.0.0.${11 + index}`, this.pods[0]?.port);
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

  /** The pods run in this process: their counts are always current. */
  async refreshCounts(): Promise<void> {}

  state(): ProxyState {
    const live = this.pods.filter((pod) => !this.removed.has(pod.name));
    return labServiceState(
      '10.96.0.80',
      live.map((pod) => ({ name: pod.name, ip: pod.host, port: pod.port })),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.pods.map((pod) => pod.close()));
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
