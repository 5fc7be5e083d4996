import { KproxyError } from '../errors.js';
import { log } from '../log.js';
import type { BindAddress } from './bind-address.js';
import type { RunningServer } from './healthz.js';

/** A server that may still be waiting for its address. */
export interface PendingServer {
  /** The bound address once listening; undefined while retrying. */
  readonly address: BindAddress | undefined;
  close(): Promise<void>;
}

export interface KeepTryingOptions {
  /** The KubeProxyConfiguration field, for the log (`healthzBindAddress`). */
  readonly field: string;
  readonly start: () => Promise<RunningServer>;
  /** `bindAddressHardFail`: fail at once instead of retrying. */
  readonly hardFail: boolean;
  /** kube-proxy retries every 5 s. */
  readonly retryMs?: number;
}

/**
 * kube-proxy's way with its healthz and metrics servers: when the address is taken, log it and
 * try again every 5 s, the proxy running meanwhile; with `bindAddressHardFail`, fail at once.
 * Resolves after the first attempt.
 */
export async function keepTrying(options: KeepTryingOptions): Promise<PendingServer> {
  let running: RunningServer | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (): Promise<void> => {
    try {
      const started = await options.start();
      if (closed) await started.close();
      else running = started;
    } catch (error) {
      if (options.hardFail) throw error;
      const retryMs = options.retryMs ?? 5000;
      log.error('keep-trying.ts', `Failed to start the ${options.field} server; retrying`, {
        err: error instanceof Error ? error.message : String(error),
        retryIn: `${retryMs / 1000}s`,
        hint:
          error instanceof KproxyError && error.hint
            ? `${error.hint}, or set ${options.field}; kproxy proxies meanwhile`
            : undefined,
      });
      if (!closed) {
        timer = setTimeout(() => void attempt(), retryMs);
        timer.unref();
      }
    }
  };
  await attempt();
  return {
    get address() {
      return running?.address;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running?.close();
    },
  };
}
