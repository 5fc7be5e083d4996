/**
 * The parts of the Kubernetes `v1.Service` and `discovery.k8s.io/v1.EndpointSlice` objects the
 * proxy reads, as they appear in YAML manifests and API responses.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  /** Set once deletion started (RFC 3339); a Node with it fails the proxy's /healthz. */
  deletionTimestamp?: string;
}

export interface ServicePortSpec {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceObject {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: ServicePortSpec[];
    externalIPs?: string[];
    loadBalancerSourceRanges?: string[];
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
    healthCheckNodePort?: number;
    trafficDistribution?: string;
    ipFamilies?: ('IPv4' | 'IPv6')[];
    ipFamilyPolicy?: string;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] } };
}

export interface EndpointSliceObject {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
    zone?: string;
    hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
    hostname?: string;
    targetRef?: { kind?: string; name?: string; namespace?: string };
  }[];
  ports?: { name?: string; protocol?: 'TCP' | 'UDP' | 'SCTP'; port?: number }[];
}

export interface NodeObject {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: ObjectMeta;
  /** Taints: `ToBeDeletedByClusterAutoscaler` makes the proxy's /healthz fail (the node drains). */
  spec?: { taints?: { key: string; value?: string; effect?: string }[] };
}

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Our per-Service scheduler annotation. */
export const SCHEDULER_ANNOTATION = 'kproxy.io/ipvs-scheduler';
/** Our per-Service IPVS scheduler flags (`sh-port,sh-fallback`), comma-separated; needs the scheduler annotation. */
export const SCHEDULER_FLAGS_ANNOTATION = 'kproxy.io/ipvs-scheduler-flags';
/** Services with this label belong to another proxy; kube-proxy (and kproxy) ignore them. */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
/** Headless Services carry this label on their EndpointSlices too; kube-proxy ignores those slices. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** The Node label that names its zone, read for topology hints. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
