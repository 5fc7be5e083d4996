/**
 * The one place that decides, per Service, where ipvs mode runs its scheduler:
 * - `ipvs`: the kernel has IPVS — virtual servers via ipvsadm-restore, as kube-proxy does;
 * - `nftables`: no IPVS, but nftables can express the scheduler exactly (rr, wrr, sh, dh, mh);
 * - `userspace`: no IPVS and the scheduler keeps per-connection state nftables cannot see
 *   (lc, wlc, sed, nq, lblc, lblcr, fo, ovf, twos): the userspace data plane runs it.
 * A flag forces one place for every Service; each decision is logged once, when it changes.
 */
import { existsSync } from 'node:fs';
import { log } from '../log.js';
import type { ProxyState, ServicePortState } from '../model/proxy-state.js';

export type Placement = 'ipvs' | 'nftables' | 'userspace';

/** Schedulers whose every choice nftables can make in the kernel, statelessly. */
export const NFTABLES_SCHEDULERS: ReadonlySet<string> = new Set(['rr', 'wrr', 'sh', 'dh', 'mh']);

export interface PlacementOptions {
  /** Whether the kernel has IPVS (see `kernelHasIpvs`). */
  readonly ipvsAvailable: boolean;
  /** `--ipvs-placement`: put every Service in one place. */
  readonly force?: Placement;
  /** `ipvs.scheduler`, for Services without the annotation. */
  readonly defaultScheduler: string;
}

export interface PlacementDecision {
  readonly placement: Placement;
  readonly scheduler: string;
  readonly reason: string;
}

/** IPVS is there when the kernel exposes its connection table (`ipvsadm` says "Protocol not available" otherwise). */
export function kernelHasIpvs(procFile = '/proc/net/ip_vs'): boolean {
  return existsSync(procFile);
}

export function placeServicePort(
  servicePort: ServicePortState,
  options: PlacementOptions,
): PlacementDecision {
  const scheduler = servicePort.scheduler ?? options.defaultScheduler;
  const stateless = NFTABLES_SCHEDULERS.has(scheduler);
  if (options.force === 'nftables' && !stateless) {
    return {
      placement: 'nftables',
      scheduler: 'rr',
      reason: `forced by --ipvs-placement; ${scheduler} approximated by rr`,
    };
  }
  if (options.force) return { placement: options.force, scheduler, reason: 'forced by --ipvs-placement' };
  if (options.ipvsAvailable) return { placement: 'ipvs', scheduler, reason: 'the kernel has IPVS' };
  if (servicePort.protocol !== 'TCP' && !stateless) {
    // The userspace data plane proxies TCP only.
    return {
      placement: 'nftables',
      scheduler: 'rr',
      reason: `no IPVS; ${servicePort.protocol} cannot go to userspace, rr instead`,
    };
  }
  if (stateless) {
    return { placement: 'nftables', scheduler, reason: 'no IPVS; nftables expresses this scheduler exactly' };
  }
  return { placement: 'userspace', scheduler, reason: 'no IPVS; the scheduler needs connection counts' };
}

/**
 * Decides every Service of a state, logging the ones whose decision is new or changed
 * (`previous` is what the last call returned).
 */
export function placeServices(
  state: ProxyState,
  options: PlacementOptions,
  previous: ReadonlyMap<string, PlacementDecision> = new Map(),
): Map<string, PlacementDecision> {
  const decisions = new Map<string, PlacementDecision>();
  for (const servicePort of state.servicePorts.values()) {
    const decision = placeServicePort(servicePort, options);
    decisions.set(servicePort.id, decision);
    const before = previous.get(servicePort.id);
    if (before?.placement !== decision.placement || before.scheduler !== decision.scheduler) {
      log.info('ipvs-placement.go', 'Placed service scheduler', {
        servicePort: servicePort.id,
        scheduler: decision.scheduler,
        placement: decision.placement,
        reason: decision.reason,
      });
    }
  }
  return decisions;
}
