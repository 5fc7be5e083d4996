/**
 * A worker process of the userspace data plane (see worker-pool.ts): it runs an ordinary
 * UserspaceDataplane on the state the primary sends, and answers with its listen failures,
 * frontends and counters. Its listeners share the primary's listening sockets (node:cluster), so
 * the kernel hands each new connection to one of the workers.
 */
import { log } from '../../log.js';
import { freezeProxyState } from '../../model/proxy-state.js';
import { backendCounters } from './backend.js';
import { UserspaceDataplane } from './userspace-dataplane.js';
import {
  type PrimaryMessage,
  type ServicePortCounters,
  serializeError,
  type WorkerMessage,
} from './worker-protocol.js';

let dataplane: UserspaceDataplane | undefined;
let queue: Promise<void> = Promise.resolve();

function reply(message: WorkerMessage): void {
  process.send?.(message);
}

function counters(plane: UserspaceDataplane): [string, ServicePortCounters][] {
  const ids = new Set(plane.frontends().map((frontend) => frontend.servicePortId));
  return [...ids].map((id): [string, ServicePortCounters] => [
    id,
    {
      cluster: plane.backends(id, 'cluster').map(backendCounters),
      external: plane.backends(id, 'external').map(backendCounters),
    },
  ]);
}

async function handle(message: PrimaryMessage): Promise<void> {
  if (message.type === 'init') {
    dataplane = new UserspaceDataplane({ ...message.options, manageServiceInterface: false });
    return;
  }
  if (!dataplane) return;
  if (message.type === 'sync') {
    const result = await dataplane.sync(freezeProxyState(message.nodeName, message.servicePorts));
    const failed = [...result.failed].map(([id, error]) => [id, serializeError(error)] as const);
    reply({ type: 'synced', seq: message.seq, failed, frontends: dataplane.frontends() });
  } else if (message.type === 'counters') {
    reply({ type: 'counters', seq: message.seq, counters: counters(dataplane) });
  } else {
    await dataplane.cleanup();
    // The primary ends this process once it has the reply.
    reply({ type: 'cleaned', seq: message.seq });
  }
}

process.on('message', (message: PrimaryMessage) => {
  // One failure must not stop the queue: the primary waits for a reply to every message.
  queue = queue
    .then(() => handle(message))
    .catch((error: unknown) =>
      log.error('userspace-worker.ts', 'Worker request failed', { error: String(error) }),
    );
});
// Messages that arrive before a listener exists are lost (this module loads asynchronously), so
// the primary sends nothing until it hears this.
reply({ type: 'ready' });
