import { createHash } from 'node:crypto';
import type { Protocol } from './service.js';

/**
 * kube-proxy's iptables chain names, so that a kproxy node's `iptables-save` diffs cleanly
 * against a kube-proxy node's. A name is a prefix plus the first 16 characters of the base32
 * (RFC 4648, upper case) sha256 of the ServicePortName string and the lower-case protocol
 * (and, for an endpoint chain, the endpoint's `ip:port`). Chain names must stay ≤ 28 characters.
 */

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 of `bytes`, without padding (only the first 16 characters are ever used). */
function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += base32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Hashes already computed, kept across syncs: a full sync of 10,000 Services × 10 endpoints asks
 * for 110,000 names, nearly all of them the same as last time. Two generations, so that names
 * nobody asks for any more are dropped once the newer generation fills up.
 */
class HashCache {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();

  constructor(private readonly generationSize: number) {}

  get(text: string, compute: (text: string) => string): string {
    const hit = this.current.get(text);
    if (hit !== undefined) return hit;
    const value = this.previous.get(text) ?? compute(text);
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(text, value);
    return value;
  }
}

const hashes = new HashCache(200_000);

function sha256Base32Prefix(text: string): string {
  return base32(createHash('sha256').update(text, 'utf8').digest()).slice(0, 16);
}

function hash16(text: string): string {
  return hashes.get(text, sha256Base32Prefix);
}

/** The hash shared by a Service port's KUBE-SVC/SVL/EXT/FW chains. */
export function portProtoHash(servicePortId: string, protocol: Protocol): string {
  return hash16(servicePortId + protocol.toLowerCase());
}

/** The chains one Service port owns, by role. */
export interface ServicePortChainNames {
  /** Endpoints for cluster-wide traffic (`KUBE-SVC-…`). */
  readonly cluster: string;
  /** Local endpoints only, for a Local traffic policy (`KUBE-SVL-…`). */
  readonly local: string;
  /** Traffic to node ports, external and load-balancer IPs (`KUBE-EXT-…`). */
  readonly external: string;
  /** Load-balancer source ranges (`KUBE-FW-…`). */
  readonly firewall: string;
}

export function servicePortChainNames(servicePortId: string, protocol: Protocol): ServicePortChainNames {
  const hash = portProtoHash(servicePortId, protocol);
  return {
    cluster: `KUBE-SVC-${hash}`,
    local: `KUBE-SVL-${hash}`,
    external: `KUBE-EXT-${hash}`,
    firewall: `KUBE-FW-${hash}`,
  };
}

/** `KUBE-SEP-…` for one endpoint (`ip:port`, IPv6 bracketed) of a Service port. */
export function servicePortEndpointChainName(
  servicePortId: string,
  protocol: Protocol,
  endpointAddress: string,
): string {
  return `KUBE-SEP-${hash16(servicePortId + protocol.toLowerCase() + endpointAddress)}`;
}

const serviceChainPrefixes = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

/** Whether a chain belongs to one Service port (rather than being one of the shared top-level chains). */
export function isServiceChainName(chain: string): boolean {
  return serviceChainPrefixes.some((prefix) => chain.startsWith(prefix));
}
