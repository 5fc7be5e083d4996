/**
 * How a connection table reports counter changes to the schedulers, so that lc, wlc, sed, nq,
 * fo, ovf, lblc and lblcr can keep an index instead of scanning every destination per pick (the
 * kernel's way). Change a destination's counters with these functions — or change them yourself
 * and call `countersChanged` — and create the scheduler with `countersReported: true`. Without
 * that option the schedulers scan, as the kernel does, and need no reports.
 */
import { applyConnectionThresholds, type Destination } from './scheduler.js';

/**
 * The watchers live on the destination under a symbol, not enumerable: a report costs one
 * property read, and copies or JSON of the destination do not carry them.
 */
const watchersKey = Symbol('kproxy.destination.watchers');
type Watched = Destination & { readonly [watchersKey]?: (() => void)[] };

/** Calls `watcher` on every report for `destination`; returns the function that stops it. */
export function watchDestination(destination: Destination, watcher: () => void): () => void {
  const watched = destination as Watched;
  if (!watched[watchersKey]) Object.defineProperty(watched, watchersKey, { value: [], enumerable: false });
  const own = watched[watchersKey] as (() => void)[];
  own.push(watcher);
  return () => {
    const at = own.indexOf(watcher);
    if (at >= 0) own.splice(at, 1);
  };
}

/** Reports that the destination's counters or overload flag changed. */
export function countersChanged(destination: Destination): void {
  const list = (destination as Watched)[watchersKey];
  if (list) for (const watcher of list) watcher();
}

/** A new connection on the destination: one more active, overloaded at its upper threshold. */
export function connectionOpened(destination: Destination): void {
  destination.activeConns++;
  applyConnectionThresholds(destination, 'opened');
  countersChanged(destination);
}

/** An established connection started closing (FIN): active → inactive. */
export function connectionDeactivated(destination: Destination): void {
  destination.activeConns--;
  destination.inactiveConns++;
  countersChanged(destination);
}

/** A connection is gone: one fewer of its kind; the overload flag may clear. */
export function connectionClosed(destination: Destination, wasActive: boolean): void {
  if (wasActive) destination.activeConns--;
  else destination.inactiveConns--;
  applyConnectionThresholds(destination, 'closed');
  countersChanged(destination);
}
