import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConntrackFlow } from '../../../src/dataplanes/conntrack-flows.js';
import {
  type ConntrackEntry,
  flowMatchesEntry,
  flowsWithEntries,
  parseConntrackList,
} from '../../../src/dataplanes/conntrack-table.js';

const listing = `udp      17 29 src=192.168.50.2 dst=172.30.0.10 sport=40001 dport=53 [UNREPLIED] src=10.180.0.1 dst=192.168.50.2 sport=5353 dport=40001 mark=0 use=1
udp      17 117 src=192.168.50.2 dst=192.168.50.1 sport=40002 dport=30053 src=10.180.0.2 dst=192.168.50.2 sport=5353 dport=40002 [ASSURED] mark=0 use=1
udp      17 25 src=fd00:50::2 dst=fd00:30::10 sport=40003 dport=53 [UNREPLIED] src=fd00:30::10 dst=fd00:50::2 sport=53 dport=40003 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.
`;

test('parseConntrackList reads the original destination and the reply source of each entry', () => {
  assert.deepEqual(parseConntrackList(listing), [
    {
      originalDestination: '172.30.0.10',
      originalDestinationPort: 53,
      replySource: '10.180.0.1',
      replySourcePort: 5353,
    },
    {
      originalDestination: '192.168.50.1',
      originalDestinationPort: 30053,
      replySource: '10.180.0.2',
      replySourcePort: 5353,
    },
    {
      originalDestination: 'fd00:30::10',
      originalDestinationPort: 53,
      replySource: 'fd00:30::10',
      replySourcePort: 53,
    },
  ]);
});

const [dnated, nodePort, ipv6] = parseConntrackList(listing) as [
  ConntrackEntry,
  ConntrackEntry,
  ConntrackEntry,
];
const flow = (fields: Partial<ConntrackFlow>): ConntrackFlow => ({
  servicePortId: 'lab/dns:udp',
  family: 'IPv4',
  originalDestinationPort: 53,
  ...fields,
});

describe('flowMatchesEntry', () => {
  const cases: [string, ConntrackFlow, ConntrackEntry, boolean][] = [
    [
      'frontend and endpoint',
      flow({ originalDestination: '172.30.0.10', replySource: '10.180.0.1', replySourcePort: 5353 }),
      dnated,
      true,
    ],
    [
      'another endpoint',
      flow({ originalDestination: '172.30.0.10', replySource: '10.180.0.2', replySourcePort: 5353 }),
      dnated,
      false,
    ],
    [
      'the endpoint on another port',
      flow({ originalDestination: '172.30.0.10', replySource: '10.180.0.1', replySourcePort: 5454 }),
      dnated,
      false,
    ],
    [
      'another frontend port',
      flow({ originalDestination: '172.30.0.10', originalDestinationPort: 54, replySource: '10.180.0.1' }),
      dnated,
      false,
    ],
    [
      'never DNATed, but this one was',
      flow({ originalDestination: '172.30.0.10', replySource: '172.30.0.10' }),
      dnated,
      false,
    ],
    [
      'node port, any local address',
      flow({ originalDestinationPort: 30053, replySource: '10.180.0.2', replySourcePort: 5353 }),
      nodePort,
      true,
    ],
    [
      'node port never DNATed, but this one was',
      flow({ originalDestinationPort: 30053, replySourcePort: 30053 }),
      nodePort,
      false,
    ],
    [
      'IPv6 written in full matches the short form',
      flow({
        family: 'IPv6',
        originalDestination: 'fd00:30:0:0:0:0:0:10',
        replySource: 'fd00:0030::0010',
      }),
      ipv6,
      true,
    ],
  ];
  for (const [name, candidate, entry, expected] of cases) {
    test(name, () => assert.equal(flowMatchesEntry(candidate, entry), expected));
  }
});

test('flowsWithEntries keeps the flows that would delete something', () => {
  const removed = flow({
    originalDestination: '172.30.0.10',
    replySource: '10.180.0.1',
    replySourcePort: 5353,
  });
  const idle = flow({ originalDestination: '172.30.0.11', replySource: '10.180.0.1', replySourcePort: 5353 });
  assert.deepEqual(flowsWithEntries([removed, idle], [dnated, nodePort, ipv6]), [removed]);
});
