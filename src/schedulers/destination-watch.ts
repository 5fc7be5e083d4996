/**
 * Lets a scheduler keep an index over destinations exact while the connection table changes
 * their counters by plain assignment (`backend.activeConns++`), as the kernel's atomics are
 * changed under the schedulers' feet. On first watch, the fields a scheduler reads
 * (activeConns, inactiveConns, weight, overloaded) become accessors over the same values whose
 * setter tells each watcher; reading and writing them looks unchanged to everyone else.
 * The accessors are shared functions, so every watched destination keeps one hidden class.
 */
import type { Destination } from './scheduler.js';

const countersKey = Symbol('kproxy.destination.counters');

interface Counters {
  activeConns: number;
  inactiveConns: number;
  weight: number;
  overloaded: boolean | undefined;
  readonly watchers: (() => void)[];
}

type WatchedField = 'activeConns' | 'inactiveConns' | 'weight' | 'overloaded';
type Watched = Destination & { [countersKey]: Counters };

const watchedFields: readonly WatchedField[] = ['activeConns', 'inactiveConns', 'weight', 'overloaded'];

const accessors: PropertyDescriptorMap = Object.fromEntries(
  watchedFields.map((field) => [
    field,
    {
      enumerable: true,
      configurable: true,
      get(this: Watched) {
        return this[countersKey][field];
      },
      set(this: Watched, value: never) {
        const counters = this[countersKey];
        if (counters[field] === value) return;
        counters[field] = value;
        for (const watcher of counters.watchers) watcher();
      },
    },
  ]),
);

/** Calls `watcher` after every change of the destination's counters, weight or overload flag; returns the unwatch. */
export function watchDestination(destination: Destination, watcher: () => void): () => void {
  const watched = destination as Watched;
  let counters = watched[countersKey];
  if (!counters) {
    counters = {
      activeConns: destination.activeConns,
      inactiveConns: destination.inactiveConns,
      weight: destination.weight,
      overloaded: destination.overloaded,
      watchers: [],
    };
    Object.defineProperty(watched, countersKey, { value: counters, enumerable: false });
    Object.defineProperties(watched, accessors);
  }
  const watchers = counters.watchers;
  watchers.push(watcher);
  return () => {
    const at = watchers.indexOf(watcher);
    if (at >= 0) watchers.splice(at, 1);
  };
}
