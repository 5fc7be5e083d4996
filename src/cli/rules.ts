import { readdirSync, statSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadProxyConfig } from '../config/load-config.js';
import { buildProxyState } from '../control/build-proxy-state.js';
import { rendererFor, rendererModes } from '../dataplanes/renderers.js';
import type { RenderOptions } from '../dataplanes/rule-renderer.js';
import { KproxyError } from '../errors.js';
import type { ProxyState } from '../model/proxy-state.js';
import type { IPFamily } from '../model/service.js';
import { readManifestFile } from '../sources/manifest-file.js';

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

/** The configuration fields the kernel renderers read, where the configuration provides them. */
interface RenderConfigFields {
  readonly mode: string;
  readonly ipvs: { readonly scheduler: string };
  readonly clusterCIDR?: string;
  readonly hostnameOverride?: string;
  readonly nodePortAddresses?: readonly string[] | null;
  readonly iptables?: {
    masqueradeAll?: boolean;
    masqueradeBit?: number | null;
    localhostNodePorts?: boolean | null;
  };
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

/** Reads the configuration and manifests into the state and render options a dry run needs. */
export function loadDryRun(flags: DryRunFlags): { state: ProxyState; options: RenderOptions; mode: string } {
  const config = loadProxyConfig(flags.config) as RenderConfigFields;
  const family = parseFamily(flags.ipFamily);
  const nodeName = flags.hostnameOverride ?? (config.hostnameOverride || hostname());
  const objects = manifestFiles(flags.manifests).map(readManifestFile);
  const state = buildProxyState({
    services: objects.flatMap((o) => o.services),
    endpointSlices: objects.flatMap((o) => o.endpointSlices),
    nodeName,
  });
  const cidrs = (flags.clusterCidr ?? config.clusterCIDR ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const options: RenderOptions = {
    ipFamily: family,
    nodeIPs: flags.nodeIp ?? hostAddresses(family),
    clusterCIDRs: cidrs.filter((cidr) => cidr.includes(':') === (family === 'IPv6')),
    masqueradeAll: flags.masqueradeAll ?? config.iptables?.masqueradeAll ?? false,
    masqueradeBit: config.iptables?.masqueradeBit ?? 14,
    nodePortAddresses: (config.nodePortAddresses ?? []).filter(
      (a) => a === 'primary' || a.includes(':') === (family === 'IPv6'),
    ),
    localhostNodePorts: config.iptables?.localhostNodePorts ?? true,
    ipvsScheduler: config.ipvs.scheduler,
  };
  return { state, options, mode: config.mode };
}

function parseFamily(text: string): IPFamily {
  const lower = text.toLowerCase();
  if (lower === 'ipv4' || lower === '4') return 'IPv4';
  if (lower === 'ipv6' || lower === '6') return 'IPv6';
  throw new KproxyError('KPROXY_E_USAGE', `--ip-family "${text}" is not IPv4 or IPv6`, {
    hint: 'use --ip-family IPv4 or --ip-family IPv6',
  });
}

function manifestFiles(path: string): string[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new KproxyError('KPROXY_E_USAGE', `--manifests ${path}: no such file or directory`, {
      cause: error,
      hint: 'pass a YAML file or a directory of them',
    });
  }
  if (!isDirectory) return [path];
  return readdirSync(path)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(path, name));
}

function hostAddresses(family: IPFamily): string[] {
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => !address.internal && address.family === family)
    .map((address) => address.address);
}

export function registerRules(program: Command): void {
  addDryRunOptions(
    program
      .command('rules')
      .description(
        'print exactly the rules a mode would program for a configuration and manifests (a dry run)',
      )
      .option('--mode <mode>', `one of: ${rendererModes().join(', ')} (default: the configuration's mode)`),
  ).action((flags: DryRunFlags & { mode?: string }) => {
    const { state, options, mode } = loadDryRun(flags);
    process.stdout.write(rendererFor(flags.mode ?? mode).render(state, options));
  });
}
