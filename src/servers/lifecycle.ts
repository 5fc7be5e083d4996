import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { log } from '../log.js';

/** Why the daemon stops. */
export type StopReason =
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'config-changed'; readonly path: string };

/** Exit code per reason: 0 after a signal; 1 after a config change, so a `Restart=on-failure` unit restarts too. */
export function exitCodeFor(reason: StopReason): number {
  return reason.kind === 'signal' ? 0 : 1;
}

export interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

export interface LifecycleOptions {
  /** Stopped in order: typically the sources, the sync runner, the servers. */
  readonly parts: readonly Stoppable[];
  /** With `--cleanup`-on-exit semantics: removes the rules after everything stopped. Unset: rules stay. */
  readonly removeRules?: () => Promise<void>;
  /** The process to watch (a fake in tests). */
  readonly process?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/**
 * Stops kproxy cleanly on SIGTERM or SIGINT (the kubelet sends SIGTERM): it stops watching, stops
 * syncing and closes its servers, and leaves the kernel rules in place, so traffic keeps flowing
 * through the rules until the next kproxy takes over and syncs them (a sync rewrites the rules
 * in one atomic restore, so there is never a moment without them). A second signal while
 * stopping is ignored: the stop is short and bounded by each part's own close.
 */
export class Lifecycle {
  private stopping?: Promise<StopReason>;
  private resolveStopped!: (reason: StopReason) => void;
  /** Settles with the reason once everything stopped. */
  readonly stopped: Promise<StopReason>;
  private readonly target: Pick<NodeJS.Process, 'on' | 'off'>;
  private readonly onSignal = (signal: NodeJS.Signals) => void this.stop({ kind: 'signal', signal });

  constructor(private readonly options: LifecycleOptions) {
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    this.target = options.process ?? process;
    this.target.on('SIGTERM', this.onSignal);
    this.target.on('SIGINT', this.onSignal);
  }

  stop(reason: StopReason): Promise<StopReason> {
    this.stopping ??= this.stopAll(reason);
    return this.stopping;
  }

  private async stopAll(reason: StopReason): Promise<StopReason> {
    log.info('lifecycle.ts', 'Stopping kproxy', describe(reason));
    this.target.off('SIGTERM', this.onSignal);
    this.target.off('SIGINT', this.onSignal);
    for (const part of this.options.parts) {
      try {
        await part.stop();
      } catch (error) {
        log.error('lifecycle.ts', 'Failed to stop cleanly', { part: part.name, err: String(error) });
      }
    }
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
}

function describe(reason: StopReason): Record<string, string> {
  return reason.kind === 'signal'
    ? { signal: reason.signal }
    : { reason: 'config file changed', path: reason.path };
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
