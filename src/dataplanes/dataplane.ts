import type { ProxyState } from '../model/proxy-state.js';

export interface SyncResult {
  /** Service ports whose programming failed; the rest were applied. */
  readonly failed: ReadonlyMap<string, Error>;
}

/**
 * What every data plane (iptables, nftables, ipvs, userspace) implements. `sync` makes the node
 * match `state`; `changed` names the service ports that differ from the last sync, so a data plane
 * may rewrite only those (an empty set after a restart or a full resync means "everything").
 */
export interface Dataplane {
  readonly name: string;
  sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncResult>;
  /** Removes everything this data plane programmed. */
  cleanup(): Promise<void>;
}
