import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newBackend } from '../../../src/dataplanes/userspace/backend.js';
import { ConnectionTable } from '../../../src/dataplanes/userspace/connection-table.js';
import { podEndpoint } from './helpers.js';

describe('connection table (IPVS counting)', () => {
  it('moves a TCP connection inactive → active → inactive, and forgets it tcpFinTimeout after close', () => {
    let now = 0;
    const table = new ConnectionTable(
      { tcpTimeout: 0, tcpFinTimeout: 1000, udpTimeout: 0 },
      { now: () => now },
    );
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

  it('ends a connection whose time is up in its state: connecting, established idle, half-closed idle', () => {
    let now = 0;
    const table = new ConnectionTable(
      { tcpTimeout: 900, tcpFinTimeout: 100, udpTimeout: 0 },
      { connectTimeoutMs: 50, now: () => now },
    );
    const backend = newBackend(podEndpoint({ name: 'a', port: 1 }));
    const expired: string[] = [];
    const open = (name: string) => {
      const entry = table.openTcp(backend);
      entry.onExpire = () => {
        expired.push(name);
        entry.closed();
      };
      return entry;
    };
    open('never connects');
    const quiet = open('quiet');
    const talking = open('talking');
    const halfClosed = open('half-closed');
    for (const entry of [quiet, talking, halfClosed]) entry.established();
    halfClosed.closing();

    now = 49;
    table.sweep();
    assert.deepEqual(expired, []);
    now = 50;
    table.sweep();
    assert.deepEqual(expired, ['never connects'], 'connectTimeoutMs from the start');

    now = 99;
    halfClosed.touch();
    now = 198;
    table.sweep();
    assert.deepEqual(expired, ['never connects'], 'a byte renews the half-closed entry');
    now = 199;
    table.sweep();
    assert.deepEqual(expired, ['never connects', 'half-closed'], 'tcpFinTimeout once half-closed');

    now = 800;
    talking.touch();
    now = 900;
    table.sweep();
    assert.deepEqual(expired, ['never connects', 'half-closed', 'quiet'], 'tcpTimeout when established');
    now = 1699;
    table.sweep();
    assert.equal(expired.length, 3, 'the talking one lives on');
    now = 1700;
    table.sweep();
    assert.deepEqual(expired.at(-1), 'talking');
    table.stop();
  });

  it('a limit of 0 never expires a connection', () => {
    let now = 0;
    const table = new ConnectionTable({ tcpTimeout: 0, tcpFinTimeout: 0, udpTimeout: 0 }, { now: () => now });
    const entry = table.openTcp(newBackend(podEndpoint({ name: 'a', port: 1 })));
    let expired = false;
    entry.onExpire = () => {
      expired = true;
    };
    entry.established();
    now = 10 ** 9;
    table.sweep();
    assert.equal(expired, false);
    table.stop();
  });
});
