import { KproxyError } from '../../errors.js';
import { log } from '../../log.js';
import type { ProxyState } from '../../model/proxy-state.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import { IptablesApplier, RestoreRejected } from '../iptables/applier.js';
import { cidrContains } from '../iptables/cidr.js';
import { cleanupIptables } from '../iptables/cleanup.js';
import { type ParsedRules, parseIptablesRules } from '../iptables/parse-rules.js';
import type { IptablesTable } from '../iptables/rule-set.js';
import { serializeRuleSet } from '../iptables/serialize.js';
import { missingJumps } from '../iptables/top-level-rules.js';
import { type PlacementDecision, placeServices } from '../ipvs-placement.js';
import type { RenderOptions } from '../rule-renderer.js';
import { type IpCommand, ipCommandIn, ServiceAddressInterface } from '../service-address-interface.js';
import { destroyIpsets, IpsetRejected, ipsetRestoreText, restoreIpsets } from './ipset-restore.js';
import { type DesiredIpvs, desiredIpvs } from './ipvs-desired.js';
import { buildIpvsIptablesRules, ipvsBuiltinJumps } from './ipvs-iptables-rules.js';
import { applyIpvsSysctls, type IpvsNodeSettings, ipvsTimeoutLine } from './ipvs-node-settings.js';
import { virtualServerAddress } from './ipvs-table.js';
import { applyIpvsTable } from './ipvsadm-apply.js';
import { type IpvsadmRunner, ipvsadmRunner } from './ipvsadm-runner.js';

export interface IpvsKernelDataplaneOptions {
  /** One IP family's options; dual-stack runs one data plane per family. */
  readonly render: RenderOptions;
  /** Network namespace to program; the current one when unset. */
  readonly netns?: string;
  /** `ipvsadm` (default: the real one in `netns`). */
  readonly ipvsadm?: IpvsadmRunner;
  /** `ip` for kube-ipvs0 (default: the real one in `netns`). */
  readonly ip?: IpCommand;
  /** Chosen by `--ipvs-placement ipvs` rather than because the kernel has IPVS (for the log). */
  readonly forced?: boolean;
  /** The configuration's `ipvs` section: strictARP, timeouts, excludeCIDRs. */
  readonly settings?: IpvsNodeSettings;
}

/**
 * ipvs mode on a kernel with IPVS, as kube-proxy's ipvs proxier programs it, for one family. Each
 * sync, in order: the ipsets (one all-or-nothing `ipset restore`), the iptables rules that match
 * them (`iptables-restore --noflush`, with the jumps from the built-in chains that are missing),
 * the Service addresses on kube-ipvs0, and the virtual and real servers (`ipvsadm -R` fed the
 * difference from `ipvsadm -Sn`). Every sync compares with what the kernel holds, so each one is
 * a full sync; a step that fails leaves its own part as it was, and the sync is counted as failed
 * and reported with the Service port it concerns when one can be named (`program` says which
 * failures stop the later steps).
 */
export class IpvsKernelDataplane implements Dataplane {
  readonly name = 'ipvs';
  readonly counters = { syncs: 0, failedSyncs: 0 };
  private readonly iptables: IptablesApplier;
  private readonly addresses: ServiceAddressInterface;
  private readonly ipvsadm: IpvsadmRunner;
  /** The Service port of each virtual server this data plane programmed. */
  private owners = new Map<string, string>();
  /** The scheduler flags the last sync applied, for an ipvsadm that does not print them. */
  private appliedFlags = new Map<string, string>();
  private decisions = new Map<string, PlacementDecision>();
  /** Whether the sysctls and timeouts are set (once, like kube-proxy at start). */
  private nodeReady = false;

  constructor(private readonly options: IpvsKernelDataplaneOptions) {
    this.iptables = new IptablesApplier({
      family: options.render.ipFamily,
      netns: options.netns,
      wait: true,
    });
    this.addresses = new ServiceAddressInterface(
      undefined,
      options.ip ?? ipCommandIn(options.netns),
      options.render.ipFamily,
    );
    this.ipvsadm = options.ipvsadm ?? ipvsadmRunner(options.netns);
  }

  async sync(state: ProxyState, _changed: ReadonlySet<string>): Promise<SyncResult> {
    const { render, forced } = this.options;
    this.decisions = placeServices(
      state,
      { ipvsAvailable: !forced, force: forced ? 'ipvs' : undefined, defaultScheduler: render.ipvsScheduler },
      this.decisions,
    );
    const desired = desiredIpvs(state, render);
    this.counters.syncs++;
    const failed = await this.program(desired);
    if (failed.size > 0) {
      this.counters.failedSyncs++;
      for (const [servicePort, error] of failed) {
        log.error('proxier.go', 'Failed to sync ipvs rules', {
          ipFamily: render.ipFamily,
          servicePort,
          err: error.message,
        });
      }
    }
    return { failed };
  }

  /**
   * The steps of one sync; returns the failures by Service port. As in kube-proxy's ipvs proxier,
   * which programs the virtual servers during its Service loop and runs iptables-restore last, a
   * rejected iptables-restore does not hold IPVS back: its failure is reported (the previous rules
   * stay), and kube-ipvs0 and the virtual and real servers are still brought up to date, so that
   * a removed pod stops getting traffic.
   *
   * A failed ipset restore stops the sync instead, with nothing else changed. The sets are what the
   * iptables rules match to masquerade and to filter (an LB's source ranges are its
   * KUBE-LOAD-BALANCER-FW and -SOURCE-CIDR entries), so serving a new Service ahead of its entries
   * would let an LB address take traffic from any source, unmasqueraded. kube-proxy can go on
   * because it updates the sets entry by entry and only a failing entry is missing; this restore is
   * all or nothing, so after a failure every set still holds the last sync's contents. The next
   * sync tries it all again.
   */
  private async program(desired: DesiredIpvs): Promise<Map<string, Error>> {
    const { render, netns, settings } = this.options;
    try {
      await restoreIpsets(ipsetRestoreText(desired.sets, render.ipFamily), netns);
    } catch (error) {
      return addFailure(new Map(), error);
    }
    const failed = new Map<string, Error>();
    try {
      await this.restoreIptables(desired);
    } catch (error) {
      addFailure(failed, error);
    }
    try {
      this.addresses.setAddresses(desired.addresses);
      await this.prepareNode();
      const excluded = settings?.excludeCIDRs ?? [];
      const applied = await applyIpvsTable({
        desired,
        runner: this.ipvsadm,
        ipv6: render.ipFamily === 'IPv6',
        owners: this.owners,
        keep: (key) => excluded.some((cidr) => cidrContains(cidr, virtualServerAddress(key))),
        appliedFlags: this.appliedFlags,
      });
      this.owners = applied.owners;
      this.appliedFlags = applied.appliedFlags;
      for (const [owner, error] of applied.failed) addFailure(failed, error, owner);
    } catch (error) {
      addFailure(failed, error);
    }
    return failed;
  }

  private async prepareNode(): Promise<void> {
    if (this.nodeReady) return;
    const settings = this.options.settings ?? {};
    await applyIpvsSysctls(settings, this.options.netns);
    const timeouts = ipvsTimeoutLine(settings);
    if (timeouts) {
      const result = await this.ipvsadm.restore(`${timeouts}\n`);
      if (result.code !== 0 || result.stderr.trim() !== '') {
        throw new KproxyError('KPROXY_E_KERNEL_TOOL', `ipvsadm ${timeouts} failed: ${result.stderr.trim()}`, {
          hint: 'check ipvs.tcpTimeout, tcpFinTimeout and udpTimeout in the configuration',
        });
      }
    }
    this.nodeReady = true;
  }

  private async restoreIptables(desired: DesiredIpvs): Promise<void> {
    const saved: ParsedRules = new Map();
    for (const table of ['filter', 'nat'] as IptablesTable[]) {
      const parsed = parseIptablesRules(await this.iptables.save({ table })).get(table);
      if (parsed) saved.set(table, parsed);
    }
    const ruleSet = buildIpvsIptablesRules(desired, this.options.render);
    await this.iptables.restore(
      serializeRuleSet(ruleSet, { insertRules: missingJumps(saved, ipvsBuiltinJumps) }),
    );
  }

  /**
   * Removes what this data plane made: its iptables chains and the jumps to them, its ipsets, the
   * virtual servers it programmed (others are left alone), and kube-ipvs0.
   */
  async cleanup(): Promise<void> {
    const { render, netns } = this.options;
    await cleanupIptables({ family: render.ipFamily, netns });
    await destroyIpsets(render.ipFamily, netns);
    try {
      if (this.owners.size > 0) {
        await this.ipvsadm.restore(`${[...this.owners.keys()].map((key) => `-D ${key}`).join('\n')}\n`);
      }
    } finally {
      this.owners = new Map();
      this.appliedFlags = new Map();
      this.decisions = new Map();
      this.nodeReady = false;
      this.addresses.remove();
    }
  }
}

/**
 * Records a step's failure under its Service port ('' when none can be named), beside any earlier
 * step's for the same one. Only kproxy's own errors are failures of a step; others are bugs.
 */
function addFailure(failed: Map<string, Error>, error: unknown, owner?: string): Map<string, Error> {
  if (!(error instanceof KproxyError)) throw error;
  const named =
    owner ??
    (error instanceof IpsetRejected || error instanceof RestoreRejected ? error.servicePortId : undefined);
  const key = named ?? '';
  const earlier = failed.get(key);
  failed.set(
    key,
    earlier ? new AggregateError([earlier, error], `${earlier.message}; ${error.message}`) : error,
  );
  return failed;
}
