import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newBackend } from '../../../src/dataplanes/userspace/backend.js';
import { ConnectionTable } from '../../../src/dataplanes/userspace/connection-table.js';
import { podEndpoint } from './helpers.js';

describe('connection table (IPVS counting)', () => {
  it('moves a TCP connection inactive → active → inactive, and forgets it tcpFinTimeout after close', () => {
    let now = 0;
    const table = new ConnectionTable({ tcpTimeout: 0, tcpFinTimeout: 1000, udpTimeout: 0 }, () => now);
    const backend = newBackend(podEndpoint({ name: 'a', port: 1 }));
    const counts = () => [backend.activeConns, backend.inactiveConns];
    const entry = table.openTcp(backend);
    assert.deepEqual(counts(), [0, 1], 'connecting counts as inactive');
    entry.established();
    assert.deepEqual(counts(), [1, 0]);
    entry.closing();
    entry.closing();
    assert.deepEqual(counts(), [0, 1], 'a FIN makes it inactive, once');
    entry.closed();
    now = 999;
    table.sweep();
    assert.deepEqual(counts(), [0, 1], 'still in TIME_WAIT');
    now = 1250;
    table.sweep();
    assert.deepEqual(counts(), [0, 0]);
    assert.equal(backend.connections, 1);
    table.stop();
  });

  it('a connect that never succeeded leaves nothing behind', () => {
    const table = new ConnectionTable({ tcpTimeout: 0, tcpFinTimeout: 1000, udpTimeout: 0 });
    const backend = newBackend(podEndpoint({ name: 'a', port: 1 }));
    table.openTcp(backend).closed();
    assert.deepEqual([backend.activeConns, backend.inactiveConns], [0, 0]);
    table.stop();
  });
});
