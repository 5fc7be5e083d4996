import type { ProxierLogger } from '../control/proxier.js';
import type { EndpointSliceObject } from '../model/k8s-objects.js';
import type { ProxyState } from '../model/proxy-state.js';
import type { SourceHandler } from '../sources/source.js';
import type { DaemonServers } from './daemon-servers.js';
import { isNodeEligible } from './proxy-health.js';

/**
 * The source handler `run` gives its source: every event goes to `handler` (the proxier) as
 * before, and the servers hear of real changes (an object whose resourceVersion, or content when
 * it has none, did not change is not one) and of this node's eligibility.
 */
export function observeSourceEvents(
  handler: SourceHandler,
  servers: DaemonServers,
  nodeName: string,
): SourceHandler {
  const seen = new Map<string, string>();
  const changed = (kind: 'service' | 'endpointSlice', key: string, object: object | undefined): boolean => {
    const id = `${kind}/${key}`;
    const version = object === undefined ? undefined : versionOf(object);
    if (version !== undefined && seen.get(id) === version) return false;
    if (version === undefined) seen.delete(id);
    else seen.set(id, version);
    return true;
  };
  return {
    service(key, service) {
      handler.service(key, service);
      if (changed('service', key, service)) servers.changeQueued('service', key);
    },
    endpointSlice(key, slice) {
      handler.endpointSlice(key, slice);
      if (changed('endpointSlice', key, slice))
        servers.changeQueued('endpointSlice', key, triggerTimeOf(slice));
    },
    node(name, node) {
      handler.node(name, node);
      // kube-proxy: a node that is gone, being deleted or tainted for deletion fails /healthz.
      if (name === nodeName) servers.health.setNodeEligible(node !== undefined && isNodeEligible(node));
    },
    synced: () => handler.synced(),
    problem: (error) => handler.problem(error),
  };
}

/** The proxier logger `run` uses: `logger` as before, and every sync reported to the servers. */
export function reportSyncs(
  logger: ProxierLogger,
  servers: DaemonServers,
  currentState: () => ProxyState | undefined,
): ProxierLogger {
  let failed = false;
  return {
    problem: (error) => logger.problem(error),
    syncFailed(failures) {
      logger.syncFailed(failures);
      failed = true;
      servers.syncFailed();
    },
    synced(details) {
      logger.synced(details);
      const state = currentState();
      const succeeded = !failed;
      failed = false;
      if (state) {
        void servers.syncFinished({
          state,
          durationSeconds: details.elapsedMs / 1000,
          full: details.full,
          succeeded,
        });
      }
    },
  };
}

/**
 * When the EndpointSlice controller saw the change behind this slice (kube-proxy's source for
 * kubeproxy_network_programming_duration_seconds), or undefined when the slice does not say.
 */
function triggerTimeOf(slice: EndpointSliceObject | undefined): number | undefined {
  const text = slice?.metadata.annotations?.[TRIGGER_TIME_ANNOTATION];
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

function versionOf(object: object): string {
  const resourceVersion = (object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
  return resourceVersion ?? JSON.stringify(object);
}
