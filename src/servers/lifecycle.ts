import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { KproxyError } from '../errors.js';
import { log } from '../log.js';

/** Why the daemon stops. */
export type StopReason =
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'config-changed'; readonly path: string }
  | { readonly kind: 'failed'; readonly error: string };

export interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

export interface LifecycleOptions {
  /** Stopped last first, like the parts that `join` later: start servers, sync runner, source; stop the reverse. */
  readonly parts?: readonly Stoppable[];
  /** Removes the rules after everything stopped (cleanup asked for). Unset: the rules stay. */
  readonly removeRules?: () => Promise<void>;
  /** The process to watch (a fake in tests). */
  readonly process?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/**
 * Stops kproxy cleanly on SIGTERM or SIGINT (the kubelet sends SIGTERM): it stops watching, stops
 * syncing and closes its servers, and leaves the kernel rules in place, so traffic keeps flowing
 * through the rules until the next kproxy takes over and syncs them (a sync rewrites the rules
 * in one atomic restore, so there is never a moment without them). The handlers go as the stop
 * begins, so a second signal ends the process at once (Node's default): the way out of a stop
 * that hangs.
 */
export class Lifecycle {
  private stopping?: Promise<StopReason>;
  private resolveStopped!: (reason: StopReason) => void;
  /** Settles with the reason once everything stopped. */
  readonly stopped: Promise<StopReason>;
  private readonly target: Pick<NodeJS.Process, 'on' | 'off'>;
  private readonly onSignal = (signal: NodeJS.Signals) => void this.stop({ kind: 'signal', signal });
  private readonly parts: Stoppable[];

  constructor(private readonly options: LifecycleOptions = {}) {
    this.parts = [...(options.parts ?? [])];
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    this.target = options.process ?? process;
    this.target.on('SIGTERM', this.onSignal);
    this.target.on('SIGINT', this.onSignal);
  }

  /** Adds a part started after the lifecycle; one that starts while stopping is stopped at once. */
  join(part: Stoppable): void {
    if (this.stopping) void this.stopPart(part);
    else this.parts.push(part);
  }

  stop(reason: StopReason): Promise<StopReason> {
    this.stopping ??= this.stopAll(reason);
    return this.stopping;
  }

  private async stopAll(reason: StopReason): Promise<StopReason> {
    log.info('lifecycle.ts', 'Stopping kproxy', describe(reason));
    this.target.off('SIGTERM', this.onSignal);
    this.target.off('SIGINT', this.onSignal);
    for (const part of [...this.parts].reverse()) await this.stopPart(part);
    if (this.options.removeRules) {
      log.info('lifecycle.ts', 'Removing the rules kproxy programmed (cleanup requested)');
      await this.options.removeRules();
    } else {
      log.info(
        'lifecycle.ts',
        'Leaving the rules in place: traffic keeps flowing until the next kproxy syncs',
      );
    }
    this.resolveStopped(reason);
    return reason;
  }

  private async stopPart(part: Stoppable): Promise<void> {
    try {
      await part.stop();
    } catch (error) {
      log.error('lifecycle.ts', 'Failed to stop cleanly', { part: part.name, err: String(error) });
    }
  }
}

function describe(reason: StopReason): Record<string, string> {
  if (reason.kind === 'signal') return { signal: reason.signal };
  if (reason.kind === 'failed') return { reason: 'start-up failed', err: reason.error };
  return { reason: 'config file changed', path: reason.path };
}

export interface ConfigWatchOptions {
  readonly path: string;
  readonly onChange: () => void;
  /** How often to look (default 2 s). */
  readonly intervalMs?: number;
}

/**
 * Calls `onChange` once when the content of the config file changes. It polls the content rather
 * than using fs.watch because a ConfigMap volume updates by swapping a symlinked directory
 * (`..data`), which replaces the watched inode; reading the path follows the symlinks every time.
 * A file that disappears or cannot be read for a moment is not a change.
 */
export async function watchConfigFile(options: ConfigWatchOptions): Promise<{ stop(): void }> {
  const initial = await contentHash(options.path);
  let done = false;
  const timer = setInterval(async () => {
    const current = await contentHash(options.path);
    if (done || current === undefined || current === initial) return;
    done = true;
    clearInterval(timer);
    log.info('lifecycle.ts', 'Configuration file changed; exiting so that kproxy restarts with it', {
      path: options.path,
    });
    options.onChange();
  }, options.intervalMs ?? 2000);
  timer.unref();
  return {
    stop() {
      done = true;
      clearInterval(timer);
    },
  };
}

async function contentHash(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    return undefined;
  }
}

export interface SupervisionOptions extends LifecycleOptions {
  /** The `--config` file: a change of its content stops kproxy so that it restarts with it. */
  readonly configPath: string;
  readonly configPollMs?: number;
}

/** The running daemon's supervision: signals and config changes stop the parts that joined it. */
export interface Supervision {
  readonly lifecycle: Lifecycle;
  /**
   * Resolves once a signal stopped everything (exit 0); rejects with KPROXY_E_CONFIG_CHANGED once a
   * config change did (exit 1, so the kubelet, or a unit with Restart=on-failure, starts kproxy again).
   */
  untilStopped(): Promise<void>;
}

/**
 * What `kproxy run` starts first, before it reads its config file, so that no change to the file
 * goes unnoticed; each part it then starts joins `lifecycle`.
 */
export async function startSupervision(options: SupervisionOptions): Promise<Supervision> {
  const lifecycle = new Lifecycle(options);
  const watcher = await watchConfigFile({
    path: options.configPath,
    intervalMs: options.configPollMs,
    onChange: () => void lifecycle.stop({ kind: 'config-changed', path: options.configPath }),
  });
  return {
    lifecycle,
    async untilStopped() {
      const reason = await lifecycle.stopped;
      watcher.stop();
      if (reason.kind === 'config-changed') {
        throw new KproxyError(
          'KPROXY_E_CONFIG_CHANGED',
          `${reason.path} changed; exiting to restart with it`,
          {
            hint: 'nothing to do under a DaemonSet or a systemd unit: kproxy is started again and the rules stayed in place',
          },
        );
      }
    },
  };
}
