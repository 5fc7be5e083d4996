import type { Endpoint } from './endpoint.js';
import {
  type EndpointSliceObject,
  HEADLESS_LABEL,
  SCHEDULER_ANNOTATION,
  SCHEDULER_FLAGS_ANNOTATION,
  SERVICE_PROXY_NAME_LABEL,
  type ServiceObject,
} from './k8s-objects.js';
import { parseSchedulerFlags } from './scheduler-annotations.js';
import { type IPFamily, type Protocol, type ServicePort, servicePortId } from './service.js';
import { ipFamilyOf } from './validation.js';

/** kube-proxy's default ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

/** kube-proxy leaves alone other proxies' Services (labelled), ExternalName and headless ones. */
export function isIgnoredService(service: ServiceObject): boolean {
  if (service.metadata.labels?.[SERVICE_PROXY_NAME_LABEL] !== undefined) return true;
  if (service.spec.type === 'ExternalName') return true;
  const first = service.spec.clusterIPs?.[0] ?? service.spec.clusterIP;
  return first === undefined || first === '' || first === 'None';
}

/** The proxied ports of a (validated) Service; none for ExternalName, headless or foreign Services. */
export function servicePortsOf(service: ServiceObject): ServicePort[] {
  if (isIgnoredService(service)) return [];
  const { spec, metadata } = service;
  const namespace = metadata.namespace ?? 'default';
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  const ipFamilies: IPFamily[] = clusterIPs.map(ipFamilyOf);
  const affinity = spec.sessionAffinity ?? 'None';
  const shared = {
    namespace,
    name: metadata.name,
    clusterIPs,
    ipFamilies,
    serviceType: spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? spec.type : 'ClusterIP',
    externalIPs: spec.externalIPs ?? [],
    // Proxy-mode load balancers deliver to the node themselves; only VIP-mode ingress IPs are programmed.
    loadBalancerIPs: (service.status?.loadBalancer?.ingress ?? []).flatMap((ingress) =>
      ingress.ip && ingress.ipMode !== 'Proxy' ? [ingress.ip] : [],
    ),
    loadBalancerSourceRanges: spec.loadBalancerSourceRanges ?? [],
    sessionAffinity: {
      type: affinity,
      timeoutSeconds:
        affinity === 'ClientIP'
          ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
          : 0,
    },
    externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
    internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
    healthCheckNodePort: spec.healthCheckNodePort,
    trafficDistribution: spec.trafficDistribution,
    scheduler: metadata.annotations?.[SCHEDULER_ANNOTATION],
    schedulerFlags: flagsOf(metadata.annotations?.[SCHEDULER_FLAGS_ANNOTATION]),
  } as const;
  return (spec.ports ?? []).map((portSpec) => {
    const portName = portSpec.name ?? '';
    return {
      id: servicePortId(namespace, metadata.name, portName),
      portName,
      protocol: portSpec.protocol ?? 'TCP',
      port: portSpec.port,
      nodePort: portSpec.nodePort || undefined,
      ...shared,
    };
  });
}

function flagsOf(annotation: string | undefined): readonly string[] | undefined {
  return annotation === undefined ? undefined : parseSchedulerFlags(annotation);
}

/** `ns/name` of the Service an EndpointSlice belongs to, or undefined when kube-proxy ignores the slice. */
export function sliceServiceKey(slice: EndpointSliceObject): string | undefined {
  const serviceName = slice.metadata.labels?.['kubernetes.io/service-name'];
  if (!serviceName || slice.addressType === 'FQDN') return undefined;
  if (slice.metadata.labels?.[HEADLESS_LABEL] !== undefined) return undefined;
  return `${slice.metadata.namespace ?? 'default'}/${serviceName}`;
}

/**
 * The endpoints one slice offers for a port name and protocol, as the proxy sees them: the first
 * address of each entry; unset ready and serving conditions mean true, as kube-proxy reads them.
 */
export function sliceEndpointsFor(
  slice: EndpointSliceObject,
  portName: string,
  protocol: Protocol,
  nodeName: string,
): Endpoint[] {
  const port = slice.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
  if (!port?.port) return [];
  const endpoints: Endpoint[] = [];
  for (const entry of slice.endpoints ?? []) {
    const ip = entry.addresses[0];
    if (!ip) continue;
    const conditions = entry.conditions ?? {};
    const ready = conditions.ready ?? true;
    const zoneHints = entry.hints?.forZones?.map((zone) => zone.name);
    const nodeHints = entry.hints?.forNodes?.map((node) => node.name);
    endpoints.push({
      ip,
      port: port.port,
      ready,
      serving: conditions.serving ?? true,
      terminating: conditions.terminating ?? false,
      nodeName: entry.nodeName,
      zone: entry.zone,
      zoneHints: zoneHints?.length ? zoneHints : undefined,
      nodeHints: nodeHints?.length ? nodeHints : undefined,
      podName: entry.targetRef?.name,
      isLocal: entry.nodeName !== undefined && entry.nodeName === nodeName,
    });
  }
  return endpoints;
}
