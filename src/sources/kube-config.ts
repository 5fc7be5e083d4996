import { KubeConfig } from '@kubernetes/client-node';
import { KproxyError } from '../errors.js';

export interface KubeConnection {
  readonly kubeconfig?: string;
  readonly master?: string;
}

/**
 * How kube-proxy finds its API server: `--kubeconfig` (with `--master` overriding its server),
 * `--master` alone, or the in-cluster service account when neither is given.
 */
export function kubeConfigFor(connection: KubeConnection): KubeConfig {
  const config = new KubeConfig();
  try {
    if (connection.kubeconfig) config.loadFromFile(connection.kubeconfig);
    else if (!connection.master) config.loadFromCluster();
  } catch (error) {
    // A kubeconfig the user named is bad input; missing in-cluster credentials are a runtime failure.
    const code = connection.kubeconfig ? 'KPROXY_E_USAGE' : 'KPROXY_E_API';
    const what = connection.kubeconfig
      ? `--kubeconfig ${JSON.stringify(connection.kubeconfig)}`
      : 'in-cluster config';
    throw new KproxyError(code, `cannot load ${what}: ${(error as Error).message}`, {
      hint: 'pass a readable --kubeconfig FILE, or --master URL',
      cause: error,
    });
  }
  if (connection.master) {
    let url: URL;
    try {
      url = new URL(connection.master);
    } catch (error) {
      throw new KproxyError('KPROXY_E_USAGE', `--master ${JSON.stringify(connection.master)} is not a URL`, {
        hint: 'use e.g. --master https://10.0.0.1:6443',
        cause: error,
      });
    }
    const current = config.getCurrentCluster();
    const user = config.getCurrentUser() ?? { name: 'master' };
    // A plain-HTTP master (kubectl proxy, a test server) has no TLS to verify.
    const skipTLSVerify = url.protocol === 'http:' || (current?.skipTLSVerify ?? false);
    config.loadFromOptions({
      clusters: [{ ...current, name: 'master', server: url.origin, skipTLSVerify }],
      users: [user],
      contexts: [{ name: 'master', cluster: 'master', user: user.name }],
      currentContext: 'master',
    });
  }
  if (!config.getCurrentCluster()) {
    throw new KproxyError('KPROXY_E_API', 'the kubeconfig names no current cluster', {
      hint: 'set current-context in the kubeconfig, or pass --master URL',
    });
  }
  return config;
}
