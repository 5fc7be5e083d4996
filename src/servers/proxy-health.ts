import type { NodeObject } from '../model/k8s-objects.js';
import type { IPFamily } from '../model/service.js';

/** kube-proxy's `ToBeDeletedByClusterAutoscaler` taint: a node about to go should fail /healthz. */
export const toBeDeletedTaint = 'ToBeDeletedByClusterAutoscaler';

/** What /healthz and /livez report, field for field as kube-proxy's ProxyHealth JSON. */
export interface ProxyHealthReport {
  readonly lastUpdated: string;
  readonly currentTime: string;
  readonly nodeEligible?: boolean;
  readonly healthy: boolean;
  readonly status: Readonly<Record<string, { readonly lastUpdated: string; readonly healthy: boolean }>>;
}

export interface ProxyHealthOptions {
  /** How long a queued change may wait for a sync before the proxy counts as unhealthy (kube-proxy: 2 × syncPeriod). */
  readonly healthTimeoutMs: number;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

/** Go's zero time as encoding/json writes it: what kube-proxy reports before the first sync. */
const zeroTime = '0001-01-01T00:00:00Z';

/**
 * The proxy's own health, kube-proxy's rule: healthy while starting up and while every change
 * queued for a family was synced within the health timeout. `queuedUpdate` marks the oldest
 * unsynced change, `updated` clears it after a successful sync.
 */
export class ProxyHealth {
  private readonly lastUpdated = new Map<IPFamily, number>();
  private readonly oldestPendingQueued = new Map<IPFamily, number>();
  private nodeEligible = true;
  private readonly now: () => number;

  constructor(private readonly options: ProxyHealthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A Service or EndpointSlice change arrived that the rules do not reflect yet. */
  queuedUpdate(family: IPFamily): void {
    if (!this.oldestPendingQueued.has(family)) this.oldestPendingQueued.set(family, this.now());
  }

  /** The data plane of `family` now matches everything queued so far. */
  updated(family: IPFamily): void {
    this.oldestPendingQueued.delete(family);
    this.lastUpdated.set(family, this.now());
  }

  /** Whether the node may take load-balancer traffic (false when it is being deleted). */
  setNodeEligible(eligible: boolean): void {
    this.nodeEligible = eligible;
  }

  isNodeEligible(): boolean {
    return this.nodeEligible;
  }

  /** Health ignoring node eligibility: what /livez and the health-check node ports use. */
  isHealthy(): boolean {
    return this.report().healthy;
  }

  /** The report; `withNode` adds nodeEligible and folds it into `healthy` (/healthz does, /livez does not). */
  report(options: { withNode?: boolean } = {}): ProxyHealthReport {
    const currentTime = this.now();
    let healthy = true;
    let newest = 0;
    const status: Record<string, { lastUpdated: string; healthy: boolean }> = {};
    // Unlike kube-proxy, a family that never synced at all also turns unhealthy once its first
    // queued change is older than the timeout: a proxy stuck before its first sync is not healthy.
    const families = new Set([...this.lastUpdated.keys(), ...this.oldestPendingQueued.keys()]);
    for (const family of families) {
      const lastUpdated = this.lastUpdated.get(family) ?? 0;
      newest = Math.max(newest, lastUpdated);
      const queued = this.oldestPendingQueued.get(family);
      const familyHealthy = queued === undefined || currentTime - queued < this.options.healthTimeoutMs;
      healthy &&= familyHealthy;
      status[family] = {
        lastUpdated: lastUpdated === 0 ? zeroTime : formatTime(lastUpdated),
        healthy: familyHealthy,
      };
    }
    if (options.withNode) healthy &&= this.nodeEligible;
    // kube-proxy reports "now" as lastUpdated while healthy, as its older releases did.
    const lastUpdated = healthy ? currentTime : newest;
    return {
      lastUpdated: lastUpdated === 0 ? zeroTime : formatTime(lastUpdated),
      currentTime: formatTime(currentTime),
      ...(options.withNode ? { nodeEligible: this.nodeEligible } : {}),
      healthy,
      status,
    };
  }
}

/** The node's eligibility from its Node object, kube-proxy's rule: not deleting, not tainted to be deleted. */
export function isNodeEligible(node: Pick<NodeObject, 'metadata' | 'spec'>): boolean {
  if (node.metadata.deletionTimestamp) return false;
  return !(node.spec?.taints ?? []).some((taint) => taint.key === toBeDeletedTaint);
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
