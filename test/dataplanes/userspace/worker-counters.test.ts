import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendCounters } from '../../../src/dataplanes/userspace/backend.js';
import { PoolCounters } from '../../../src/dataplanes/userspace/worker-counters.js';
import type { ServicePortCounters } from '../../../src/dataplanes/userspace/worker-protocol.js';

function counted(endpoint: string, connections: number, activeConns: number): BackendCounters {
  return {
    endpoint,
    weight: 1,
    connections,
    activeConns,
    inactiveConns: 0,
    bytesFromClients: connections * 10,
    bytesToClients: connections * 100,
    failedConnects: 0,
  };
}

function answer(...backends: BackendCounters[]): [string, ServicePortCounters][] {
  return [['demo/web:http', { cluster: backends, external: [] }]];
}

function sumOf(pool: PoolCounters<string>): { connections: number; activeConns: number; bytes: number } {
  const backends = pool.sums().get('demo/web:http')?.cluster ?? [];
  return {
    connections: backends.reduce((sum, b) => sum + b.connections, 0),
    activeConns: backends.reduce((sum, b) => sum + b.activeConns, 0),
    bytes: backends.reduce((sum, b) => sum + b.bytesToClients, 0),
  };
}

describe('the worker pool counters', () => {
  it('sum the workers endpoint by endpoint, and keep a dead worker’s counts without its open connections', () => {
    const pool = new PoolCounters<string>();
    pool.record('a', answer(counted('10.0.0.1:80', 20, 3), counted('10.0.0.2:80', 5, 1)));
    pool.record('b', answer(counted('10.0.0.1:80', 10, 2)));
    assert.deepEqual(sumOf(pool), { connections: 35, activeConns: 6, bytes: 3500 });
    pool.retire('a');
    assert.deepEqual(sumOf(pool), { connections: 35, activeConns: 2, bytes: 3500 });
    pool.record('b', answer(counted('10.0.0.1:80', 15, 2)));
    pool.record('c', answer(counted('10.0.0.2:80', 4, 4)));
    assert.deepEqual(sumOf(pool), { connections: 44, activeConns: 6, bytes: 4400 });
    pool.retire('b');
    pool.retire('c');
    assert.deepEqual(sumOf(pool), { connections: 44, activeConns: 0, bytes: 4400 });
  });

  it('count a worker that dies before it ever answered as nothing, and never twice', () => {
    const pool = new PoolCounters<string>();
    pool.record('a', answer(counted('10.0.0.1:80', 7, 0)));
    pool.retire('never-answered');
    pool.retire('a');
    pool.retire('a');
    assert.deepEqual(sumOf(pool), { connections: 7, activeConns: 0, bytes: 700 });
  });
});
