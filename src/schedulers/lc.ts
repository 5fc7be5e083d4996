/**
 * lc — least connection (ip_vs_lc.c). The destination with the lowest overhead
 * (active × 256 + inactive) takes the new connection; the first one wins a tie. What the seed's
 * author wished for: long connections no longer pile up on one pod.
 */
import {
  connectionOverhead,
  type Destination,
  isAvailable,
  type Scheduler,
  type SchedulerDescriptor,
} from './scheduler.js';

export const leastConnectionScheduler: SchedulerDescriptor = {
  name: 'lc',
  summary: 'least connection: the endpoint with the fewest active connections',
  create<D extends Destination>(): Scheduler<D> {
    let destinations: readonly D[] = [];
    return {
      name: 'lc',
      update(next) {
        destinations = next;
      },
      pick() {
        let least: D | undefined;
        let leastOverhead = Number.POSITIVE_INFINITY;
        for (const destination of destinations) {
          if (!isAvailable(destination)) continue;
          const overhead = connectionOverhead(destination);
          if (overhead < leastOverhead) {
            least = destination;
            leastOverhead = overhead;
          }
        }
        return least;
      },
    };
  },
};
