import { resolveEffectiveConfig } from './effective-config.js';
import type { KubeProxyConfiguration } from './types.js';

/** What the proxy runs with: the complete KubeProxyConfiguration, every default applied. */
export type ProxyConfig = KubeProxyConfiguration;

/**
 * Reads a KubeProxyConfiguration file, or a whole `kube-proxy` ConfigMap (its `config.conf`), decodes
 * it strictly, applies kube-proxy's defaults ("" mode is iptables, "" scheduler is rr, …) and
 * validates it. Throws a ConfigError (KPROXY_E_CONFIG) naming every problem with file:line and field.
 */
export function loadProxyConfig(path: string): ProxyConfig {
  return resolveEffectiveConfig({ configPath: path }).config;
}
