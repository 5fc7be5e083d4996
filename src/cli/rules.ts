import { hostname } from 'node:os';
import type { Command } from 'commander';
import { loadProxyConfig } from '../config/load-config.js';
import { StateCollector } from '../control/state-collector.js';
import { renderOptionsFor } from '../dataplanes/render-options.js';
import { rendererFor, rendererModes } from '../dataplanes/renderers.js';
import type { RenderOptions } from '../dataplanes/rule-renderer.js';
import { KproxyError } from '../errors.js';
import type { ProxyState } from '../model/proxy-state.js';
import type { IPFamily } from '../model/service.js';
import { ManifestSource } from '../sources/manifest-source.js';

/** Flags shared by the dry-run commands (`rules`, `trace`); names follow kube-proxy's. */
export interface DryRunFlags {
  config: string;
  manifests: string;
  ipFamily: string;
  clusterCidr?: string;
  masqueradeAll?: boolean;
  nodeIp?: string[];
  hostnameOverride?: string;
}

export function addDryRunOptions(command: Command): Command {
  return command
    .requiredOption('--config <file>', 'KubeProxyConfiguration or kube-proxy ConfigMap')
    .requiredOption(
      '--manifests <path>',
      'Service and EndpointSlice manifests: a YAML file or a directory of them',
    )
    .option('--ip-family <family>', 'IPv4 (iptables) or IPv6 (ip6tables)', 'IPv4')
    .option('--cluster-cidr <cidrs>', "overrides the configuration's clusterCIDR (comma-separated)")
    .option('--masquerade-all', "overrides the configuration's iptables.masqueradeAll")
    .option('--node-ip <ip...>', "the node's addresses (default: this host's)")
    .option(
      '--hostname-override <name>',
      'the node name endpoints are matched against (default: the hostname)',
    );
}

/**
 * Reads the configuration and manifests into the state and render options a dry run needs, the
 * same way `run` does: objects that fail validation are reported and left out.
 */
export async function loadDryRun(
  flags: DryRunFlags,
): Promise<{ state: ProxyState; options: RenderOptions; mode: string }> {
  const loaded = loadProxyConfig(flags.config);
  const config = {
    ...loaded,
    clusterCIDR: flags.clusterCidr ?? loaded.clusterCIDR,
    iptables: { ...loaded.iptables, masqueradeAll: flags.masqueradeAll ?? loaded.iptables.masqueradeAll },
    nftables: { ...loaded.nftables, masqueradeAll: flags.masqueradeAll ?? loaded.nftables.masqueradeAll },
  };
  const family = parseFamily(flags.ipFamily);
  const nodeName = (flags.hostnameOverride ?? (config.hostnameOverride || hostname())).toLowerCase();
  const collector = new StateCollector(nodeName);
  await new ManifestSource({ paths: [flags.manifests] }).start(collector);
  for (const problem of collector.problems) console.error(`kproxy: ${problem.describe()}`);
  return {
    state: collector.build().state,
    options: renderOptionsFor({ config, family, nodeIPs: flags.nodeIp }),
    mode: config.mode,
  };
}

function parseFamily(text: string): IPFamily {
  const lower = text.toLowerCase();
  if (lower === 'ipv4' || lower === '4') return 'IPv4';
  if (lower === 'ipv6' || lower === '6') return 'IPv6';
  throw new KproxyError('KPROXY_E_USAGE', `--ip-family "${text}" is not IPv4 or IPv6`, {
    hint: 'use --ip-family IPv4 or --ip-family IPv6',
  });
}

export function registerRules(program: Command): void {
  addDryRunOptions(
    program
      .command('rules')
      .description(
        'print exactly the rules a mode would program for a configuration and manifests (a dry run)',
      )
      .option('--mode <mode>', `one of: ${rendererModes().join(', ')} (default: the configuration's mode)`),
  ).action(async (flags: DryRunFlags & { mode?: string }) => {
    const { state, options, mode } = await loadDryRun(flags);
    process.stdout.write(rendererFor(flags.mode ?? mode).render(state, options));
  });
}
