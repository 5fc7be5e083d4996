import type { ProxyState } from '../model/proxy-state.js';
import type { Dataplane, SyncResult } from './dataplane.js';

/**
 * One data plane per IP family behind one interface, as kube-proxy's dual-stack proxier does: each
 * family's data plane programs that family's addresses and ignores the other's.
 */
export class DualStackDataplane implements Dataplane {
  readonly name: string;

  constructor(private readonly families: readonly Dataplane[]) {
    this.name = families[0]?.name ?? 'dual-stack';
  }

  async sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncResult> {
    const failed = new Map<string, Error>();
    for (const family of this.families) {
      for (const [id, error] of (await family.sync(state, changed)).failed) failed.set(id, error);
    }
    return { failed };
  }

  async cleanup(): Promise<void> {
    for (const family of this.families) await family.cleanup();
  }
}
