import type { Endpoint } from '../model/endpoint.js';
import type { EndpointSliceObject, ServiceObject } from '../model/k8s-objects.js';
import { SCHEDULER_ANNOTATION, SERVICE_NAME_LABEL } from '../model/k8s-objects.js';
import { freezeProxyState, type ProxyState, type ServicePortState } from '../model/proxy-state.js';
import { type Protocol, servicePortId } from '../model/service.js';

export interface BuildProxyStateOptions {
  readonly services: readonly ServiceObject[];
  readonly endpointSlices: readonly EndpointSliceObject[];
  readonly nodeName: string;
}

/**
 * Computes the ProxyState from Services and EndpointSlices: one entry per Service port, with the
 * ready endpoints of the slices labelled with that Service. ExternalName and headless Services
 * are skipped, as kube-proxy does.
 */
export function buildProxyState(options: BuildProxyStateOptions): ProxyState {
  const ports: ServicePortState[] = [];
  for (const service of options.services) {
    const clusterIPs = service.spec.clusterIPs ?? (service.spec.clusterIP ? [service.spec.clusterIP] : []);
    if (service.spec.type === 'ExternalName' || clusterIPs.length === 0 || clusterIPs[0] === 'None') continue;
    const namespace = service.metadata.namespace ?? 'default';
    const slices = options.endpointSlices.filter(
      (slice) =>
        (slice.metadata.namespace ?? 'default') === namespace &&
        slice.metadata.labels?.[SERVICE_NAME_LABEL] === service.metadata.name,
    );
    for (const portSpec of service.spec.ports ?? []) {
      const portName = portSpec.name ?? '';
      const protocol: Protocol = portSpec.protocol ?? 'TCP';
      const endpoints = endpointsForPort(slices, portName, protocol, options.nodeName);
      const ready = endpoints.filter((endpoint) => endpoint.ready);
      ports.push({
        id: servicePortId(namespace, service.metadata.name, portName),
        namespace,
        name: service.metadata.name,
        portName,
        protocol,
        port: portSpec.port,
        clusterIPs,
        nodePort: portSpec.nodePort,
        externalIPs: service.spec.externalIPs ?? [],
        loadBalancerIPs: (service.status?.loadBalancer?.ingress ?? []).flatMap((ingress) =>
          ingress.ip ? [ingress.ip] : [],
        ),
        loadBalancerSourceRanges: service.spec.loadBalancerSourceRanges ?? [],
        sessionAffinity: {
          type: service.spec.sessionAffinity ?? 'None',
          timeoutSeconds: service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800,
        },
        externalTrafficPolicy: service.spec.externalTrafficPolicy ?? 'Cluster',
        internalTrafficPolicy: service.spec.internalTrafficPolicy ?? 'Cluster',
        healthCheckNodePort: service.spec.healthCheckNodePort,
        scheduler: service.metadata.annotations?.[SCHEDULER_ANNOTATION],
        clusterEndpoints: ready,
        externalEndpoints: ready,
        allReachableEndpoints: ready,
        hasAnyEndpoints: endpoints.length > 0,
      });
    }
  }
  return freezeProxyState(options.nodeName, ports);
}

function endpointsForPort(
  slices: readonly EndpointSliceObject[],
  portName: string,
  protocol: Protocol,
  nodeName: string,
): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const slice of slices) {
    const port = slice.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const entry of slice.endpoints ?? []) {
      const ip = entry.addresses[0];
      if (!ip) continue;
      const conditions = entry.conditions ?? {};
      endpoints.push({
        ip,
        port: port.port,
        // An unset condition means ready, as in the EndpointSlice API.
        ready: conditions.ready ?? true,
        serving: conditions.serving ?? conditions.ready ?? true,
        terminating: conditions.terminating ?? false,
        nodeName: entry.nodeName,
        zone: entry.zone,
        zoneHints: entry.hints?.forZones?.map((zone) => zone.name),
        podName: entry.targetRef?.name,
        isLocal: entry.nodeName !== undefined && entry.nodeName === nodeName,
      });
    }
  }
  return endpoints;
}
