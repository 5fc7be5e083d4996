/**
 * The one place that decides, per Service, where ipvs mode runs its scheduler:
 * - `ipvs`: the kernel has IPVS — virtual servers via ipvsadm-restore, as kube-proxy does;
 * - `nftables`: no IPVS, but nftables can express the scheduler exactly (rr, wrr, sh, dh, mh);
 * - `userspace`: no IPVS and the scheduler keeps per-connection state nftables cannot see
 *   (lc, wlc, sed, nq, lblc, lblcr, fo, ovf, twos): the userspace data plane runs it. So does
 *   sh or mh with `sh-fallback` / `mh-fallback`: the fallback walk asks, per pick, whether the
 *   hashed endpoint may take a connection, which a map in the kernel cannot know.
 * The port flags (`sh-port`, `mh-port`) nftables hashes with the source port.
 * A flag forces one place for every Service; each decision is logged once, when it changes.
 */
import { existsSync } from 'node:fs';
import { log } from '../log.js';
import type { ProxyState, ServicePortState } from '../model/proxy-state.js';
import { effectiveSchedulerFlags } from '../schedulers/registry.js';

export type Placement = 'ipvs' | 'nftables' | 'userspace';

/** Schedulers whose every choice nftables can make in the kernel, statelessly. */
export const NFTABLES_SCHEDULERS: ReadonlySet<string> = new Set(['rr', 'wrr', 'sh', 'dh', 'mh']);

/** Flags whose pick depends on the endpoints' availability at that moment. */
const FALLBACK_FLAGS: ReadonlySet<string> = new Set(['sh-fallback', 'mh-fallback']);

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
  /** The scheduler flags it runs with (the Service's annotation, else kube-proxy's: mh-port for mh). */
  readonly flags: readonly string[];
  readonly reason: string;
}

/** IPVS is there when the kernel exposes its connection table (`ipvsadm` says "Protocol not available" otherwise). */
export function kernelHasIpvs(procFile = '/proc/net/ip_vs'): boolean {
  return existsSync(procFile);
}

/**
 * Which data plane runs ipvs mode: the kernel's IPVS (ipvsadm, as kube-proxy) or nftables with
 * userspace for the stateful schedulers. `--ipvs-placement ipvs` asks for IPVS even where it seems
 * missing (each sync then fails with KPROXY_E_NO_IPVS); `nftables` or `userspace` keep IPVS out.
 * Logged once, when the data plane is made.
 */
export function chooseIpvsDataplane(options: {
  readonly ipvsAvailable: boolean;
  readonly force?: Placement;
}): 'ipvs' | 'nftables' {
  const { force, ipvsAvailable } = options;
  const dataplane = force ? (force === 'ipvs' ? 'ipvs' : 'nftables') : ipvsAvailable ? 'ipvs' : 'nftables';
  const reason = force
    ? `forced by --ipvs-placement ${force}`
    : ipvsAvailable
      ? 'the kernel has IPVS (/proc/net/ip_vs)'
      : 'the kernel has no IPVS: schedulers run in nftables, stateful ones in userspace';
  log.info('ipvs-placement.go', 'Chose where ipvs mode runs', { dataplane, reason });
  return dataplane;
}

export function placeServicePort(
  servicePort: ServicePortState,
  options: PlacementOptions,
): PlacementDecision {
  const scheduler = servicePort.scheduler ?? options.defaultScheduler;
  const flags = effectiveSchedulerFlags(scheduler, servicePort.schedulerFlags);
  const fallback = flags.find((flag) => FALLBACK_FLAGS.has(flag));
  const inKernel = (reason: string): PlacementDecision => ({
    placement: 'nftables',
    scheduler,
    flags: flags.filter((flag) => !FALLBACK_FLAGS.has(flag)),
    reason: fallback ? `${reason}; ${fallback} dropped (nftables cannot check availability)` : reason,
  });
  const stateless = NFTABLES_SCHEDULERS.has(scheduler);
  if (options.force === 'nftables' && !stateless) {
    return {
      placement: 'nftables',
      scheduler: 'rr',
      flags: [],
      reason: `forced by --ipvs-placement; ${scheduler} approximated by rr`,
    };
  }
  if (options.force === 'nftables') return inKernel('forced by --ipvs-placement');
  if (options.force)
    return { placement: options.force, scheduler, flags, reason: 'forced by --ipvs-placement' };
  if (options.ipvsAvailable) return { placement: 'ipvs', scheduler, flags, reason: 'the kernel has IPVS' };
  if (servicePort.protocol !== 'TCP' && (!stateless || fallback)) {
    // The userspace data plane proxies TCP only.
    if (stateless) return inKernel(`no IPVS; ${servicePort.protocol} cannot go to userspace`);
    return {
      placement: 'nftables',
      scheduler: 'rr',
      flags: [],
      reason: `no IPVS; ${servicePort.protocol} cannot go to userspace, rr instead`,
    };
  }
  if (stateless && !fallback) return inKernel('no IPVS; nftables expresses this scheduler exactly');
  const why = fallback
    ? `the ${fallback} flag needs per-pick availability`
    : 'the scheduler needs connection counts';
  return { placement: 'userspace', scheduler, flags, reason: `no IPVS; ${why}` };
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
    if (!sameDecision(before, decision)) {
      log.info('ipvs-placement.go', 'Placed service scheduler', {
        servicePort: servicePort.id,
        scheduler: decision.scheduler,
        placement: decision.placement,
        flags: decision.flags.join(','),
        reason: decision.reason,
      });
    }
  }
  return decisions;
}

/** Whether two decisions program the same thing (the reason aside). */
export function sameDecision(a: PlacementDecision | undefined, b: PlacementDecision | undefined): boolean {
  return (
    a?.placement === b?.placement &&
    a?.scheduler === b?.scheduler &&
    a?.flags.join(',') === b?.flags.join(',')
  );
}
