import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { KproxyError } from '../errors.js';
import { type ProxyMode, resolveProxyMode } from './proxy-mode.js';

/** The part of a KubeProxyConfiguration the proxy reads so far. */
export interface ProxyConfig {
  readonly mode: ProxyMode;
  readonly ipvs: { readonly scheduler: string };
}

/**
 * Reads a KubeProxyConfiguration file, or a whole `kube-proxy` ConfigMap (its `config.conf`),
 * and resolves kube-proxy's defaults: an empty mode is iptables, an empty scheduler is rr.
 */
export function loadProxyConfig(path: string): ProxyConfig {
  const text = readFileSync(path, 'utf8');
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new KproxyError('KPROXY_E_CONFIG', `${path}: ${document.errors[0]?.message}`, {
      hint: 'fix the YAML syntax at that line',
    });
  }
  let root: unknown = document.toJS();
  if (isRecord(root) && root.kind === 'ConfigMap') {
    const embedded = isRecord(root.data) ? root.data['config.conf'] : undefined;
    if (typeof embedded !== 'string') {
      throw new KproxyError('KPROXY_E_CONFIG', `${path}: ConfigMap has no data."config.conf"`, {
        hint: 'pass the kube-proxy ConfigMap, or the KubeProxyConfiguration file itself',
      });
    }
    root = parseDocument(embedded).toJS();
  }
  if (!isRecord(root) || root.kind !== 'KubeProxyConfiguration') {
    throw new KproxyError(
      'KPROXY_E_CONFIG',
      `${path}: not a KubeProxyConfiguration (kind is ${describeKind(root)})`,
      {
        hint: 'expected "kind: KubeProxyConfiguration" and "apiVersion: kubeproxy.config.k8s.io/v1alpha1"',
      },
    );
  }
  const mode = typeof root.mode === 'string' ? root.mode : '';
  const ipvs = isRecord(root.ipvs) ? root.ipvs : {};
  const scheduler = typeof ipvs.scheduler === 'string' && ipvs.scheduler !== '' ? ipvs.scheduler : 'rr';
  return { mode: resolveProxyMode(mode, `${path}: mode`), ipvs: { scheduler } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeKind(value: unknown): string {
  return isRecord(value) && typeof value.kind === 'string' ? `"${value.kind}"` : 'missing';
}
