/**
 * Runs kproxy's userspace data plane as its own process for the benchmarks: one Service whose
 * endpoints are given as `host:port` arguments, its frontend on 127.0.0.1:PORT.
 * Usage: node --import tsx userspace-proxy-process.ts PORT SCHEDULER host:port…
 */
import { buildProxyState } from '../../src/control/build-proxy-state.js';
import { UserspaceDataplane } from '../../src/dataplanes/userspace/userspace-dataplane.js';
import { benchService } from './bench-service.js';

const [portText = '0', scheduler = 'rr', ...backends] = process.argv.slice(2);
const { service, endpointSlice } = benchService(backends);
const dataplane = new UserspaceDataplane({
  scheduler,
  listenAddress: () => ({ host: '127.0.0.1', port: Number(portText) }),
});
const result = await dataplane.sync(
  buildProxyState({ services: [service], endpointSlices: [endpointSlice], nodeName: 'bench' }),
);
for (const error of result.failed.values()) throw error;
console.log(`LISTENING ${dataplane.frontends()[0]?.address.port}`);
process.on('SIGTERM', () => {
  void dataplane.cleanup().then(() => process.exit(0));
});
