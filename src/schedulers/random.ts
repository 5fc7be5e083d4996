/**
 * random — what iptables mode does. kube-proxy writes one rule per endpoint into the Service's
 * chain; rule i of n (counting from 0) matches with probability 1/(n−i) (`-m statistic --mode
 * random --probability`), the last one always. Each endpoint thus gets 1/n of new connections,
 * independently of any state. Endpoints with weight 0 (terminating) get no rule, as kube-proxy
 * leaves them out of the chain.
 *
 * Example: 3 endpoints → rule 0 matches 1/3; rule 1 matches 1/2 of the remaining 2/3 = 1/3;
 * rule 2 takes the rest, 1/3.
 */
import { type Destination, isAvailable, type Scheduler, type SchedulerDescriptor } from './scheduler.js';

export const randomScheduler: SchedulerDescriptor = {
  name: 'random',
  summary: "iptables mode's statistic cascade: each endpoint 1/n at random",
  create<D extends Destination>(options: { random?: () => number } = {}): Scheduler<D> {
    const random = options.random ?? Math.random;
    let candidates: D[] = [];
    return {
      name: 'random',
      update(destinations) {
        candidates = destinations.filter(isAvailable);
      },
      pick() {
        const n = candidates.length;
        for (let i = 0; i < n - 1; i++) {
          if (random() < 1 / (n - i)) return candidates[i];
        }
        return candidates[n - 1];
      },
    };
  },
};
