import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadProxyConfig } from '../../../src/config/load-config.js';
import { ConntrackCleaningDataplane } from '../../../src/dataplanes/conntrack-cleanup.js';
import { DualStackDataplane } from '../../../src/dataplanes/dual-stack.js';
import { createDataplane } from '../../../src/dataplanes/factory.js';
import { IpvsNftablesDataplane } from '../../../src/dataplanes/ipvs/ipvs-dataplane.js';
import { IpvsKernelDataplane } from '../../../src/dataplanes/ipvs/ipvs-kernel-dataplane.js';
import {
  chooseIpvsDataplane,
  kernelHasIpvs,
  placeServicePort,
  placeServices,
} from '../../../src/dataplanes/ipvs-placement.js';
import { freezeProxyState } from '../../../src/model/proxy-state.js';
import { servicePort, stateOf } from '../nftables/fixtures.js';

const noIpvs = { ipvsAvailable: false, defaultScheduler: 'rr' };

describe('which data plane runs ipvs mode', () => {
  const table: [boolean, string | undefined, string][] = [
    [true, undefined, 'ipvs'],
    [false, undefined, 'nftables'],
    [true, 'nftables', 'nftables'],
    [true, 'userspace', 'nftables'],
    [false, 'ipvs', 'ipvs'],
  ];
  for (const [ipvsAvailable, force, expected] of table) {
    it(`${ipvsAvailable ? 'with' : 'without'} IPVS, forced ${force ?? 'nowhere'}: ${expected}`, () => {
      const chosen = chooseIpvsDataplane({ ipvsAvailable, force: force as 'ipvs' | undefined });
      assert.equal(chosen, expected);
    });
  }

  it('the factory builds the kernel IPVS data plane when asked, nftables otherwise (this kernel has none)', () => {
    const config = { ...loadProxyConfig('examples/config/ipvs-lc.yaml'), mode: 'ipvs' as const };
    const innerOf = (dataplane: unknown) => {
      assert.ok(dataplane instanceof ConntrackCleaningDataplane);
      const dual = dataplane.inner;
      assert.ok(dual instanceof DualStackDataplane);
      return (dual as unknown as { families: unknown[] }).families[0];
    };
    const forced = createDataplane({ mode: 'ipvs', config, nodeName: 'n', ipvsPlacement: 'ipvs' });
    assert.ok(innerOf(forced.dataplane) instanceof IpvsKernelDataplane);
    const chosen = createDataplane({ mode: 'ipvs', config, nodeName: 'n' });
    const expected = kernelHasIpvs() ? IpvsKernelDataplane : IpvsNftablesDataplane;
    assert.ok(innerOf(chosen.dataplane) instanceof expected);
  });
});

describe('ipvs placement', () => {
  const table: [string, string][] = [
    ['rr', 'nftables'],
    ['wrr', 'nftables'],
    ['sh', 'nftables'],
    ['dh', 'nftables'],
    ['mh', 'nftables'],
    ['lc', 'userspace'],
    ['wlc', 'userspace'],
    ['sed', 'userspace'],
    ['nq', 'userspace'],
    ['lblc', 'userspace'],
    ['lblcr', 'userspace'],
    ['fo', 'userspace'],
    ['ovf', 'userspace'],
    ['twos', 'userspace'],
  ];
  for (const [scheduler, placement] of table) {
    it(`without IPVS, ${scheduler} runs in ${placement}`, () => {
      const port = servicePort({ id: 'ns/a', clusterIP: '172.30.0.1', scheduler });
      assert.equal(placeServicePort(port, noIpvs).placement, placement);
    });
  }

  it('with IPVS every scheduler stays in IPVS', () => {
    const port = servicePort({ id: 'ns/a', clusterIP: '172.30.0.1', scheduler: 'lc' });
    assert.equal(placeServicePort(port, { ...noIpvs, ipvsAvailable: true }).placement, 'ipvs');
  });

  it('the flag forces one place; a stateful scheduler forced into nftables becomes rr, and says so', () => {
    const port = servicePort({ id: 'ns/a', clusterIP: '172.30.0.1', scheduler: 'lc' });
    const decision = placeServicePort(port, { ...noIpvs, force: 'nftables' });
    assert.deepEqual([decision.placement, decision.scheduler], ['nftables', 'rr']);
    assert.match(decision.reason, /approximated/);
    assert.equal(
      placeServicePort(servicePort({ id: 'ns/b', clusterIP: '172.30.0.2' }), {
        ...noIpvs,
        force: 'userspace',
      }).placement,
      'userspace',
    );
  });

  it('UDP with a stateful scheduler stays in the kernel (userspace proxies TCP only)', () => {
    const port = servicePort({ id: 'ns/dns', clusterIP: '172.30.0.1', protocol: 'UDP', scheduler: 'lc' });
    assert.deepEqual(placeServicePort(port, noIpvs).placement, 'nftables');
  });

  it('uses the configured scheduler when a Service has no annotation', () => {
    const decision = placeServicePort(servicePort({ id: 'ns/a', clusterIP: '172.30.0.1' }), {
      ...noIpvs,
      defaultScheduler: 'wlc',
    });
    assert.deepEqual([decision.placement, decision.scheduler], ['userspace', 'wlc']);
  });

  it('logs each decision once, and again only when it changes', () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      const first = placeServices(stateOf({ id: 'ns/a', clusterIP: '172.30.0.1', scheduler: 'sh' }), noIpvs);
      placeServices(stateOf({ id: 'ns/a', clusterIP: '172.30.0.1', scheduler: 'sh' }), noIpvs, first);
      placeServices(stateOf({ id: 'ns/a', clusterIP: '172.30.0.1', scheduler: 'lc' }), noIpvs, first);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? '',
      /ipvs-placement.go\] "Placed service scheduler" servicePort="ns\/a" scheduler="sh" placement="nftables"/,
    );
    assert.match(lines[1] ?? '', /scheduler="lc" placement="userspace"/);
  });

  describe('scheduler flags', () => {
    const withFlags = (scheduler: string, flags?: string[], protocol: 'TCP' | 'UDP' = 'TCP') => ({
      ...servicePort({ id: 'ns/a', clusterIP: '172.30.0.1', scheduler, protocol }),
      schedulerFlags: flags,
    });
    const table: [string, ReturnType<typeof withFlags>, object, string, string[], RegExp][] = [
      ["mh gets kube-proxy's mh-port", withFlags('mh'), noIpvs, 'nftables', ['mh-port'], /exactly/],
      ['an empty annotation clears it', withFlags('mh', []), noIpvs, 'nftables', [], /exactly/],
      [
        'sh-port stays in the kernel',
        withFlags('sh', ['sh-port']),
        noIpvs,
        'nftables',
        ['sh-port'],
        /exactly/,
      ],
      [
        'sh-fallback goes to userspace',
        withFlags('sh', ['sh-port', 'sh-fallback']),
        noIpvs,
        'userspace',
        ['sh-port', 'sh-fallback'],
        /no IPVS; the sh-fallback flag needs per-pick availability/,
      ],
      [
        'mh-fallback goes to userspace',
        withFlags('mh', ['mh-fallback']),
        noIpvs,
        'userspace',
        ['mh-fallback'],
        /mh-fallback/,
      ],
      [
        'forced into nftables, the fallback is dropped and the reason says so',
        withFlags('sh', ['sh-fallback', 'sh-port']),
        { ...noIpvs, force: 'nftables' },
        'nftables',
        ['sh-port'],
        /forced by --ipvs-placement; sh-fallback dropped/,
      ],
      [
        'UDP cannot go to userspace: the fallback is dropped',
        withFlags('mh', ['mh-fallback'], 'UDP'),
        noIpvs,
        'nftables',
        [],
        /UDP cannot go to userspace; mh-fallback dropped/,
      ],
      [
        'with IPVS the flags go to IPVS as they are',
        withFlags('sh', ['sh-fallback']),
        { ...noIpvs, ipvsAvailable: true },
        'ipvs',
        ['sh-fallback'],
        /IPVS/,
      ],
    ];
    for (const [what, port, options, placement, flags, reason] of table) {
      it(what, () => {
        const decision = placeServicePort(port, options as typeof noIpvs);
        assert.deepEqual([decision.placement, decision.flags], [placement, flags]);
        assert.match(decision.reason, reason);
      });
    }

    it('a change of flags is logged again', () => {
      const lines: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string) =>
        lines.push(String(chunk)) > 0) as typeof process.stderr.write;
      try {
        const first = placeServices(freezeProxyState('n', [withFlags('sh')]), noIpvs);
        placeServices(freezeProxyState('n', [withFlags('sh', ['sh-port'])]), noIpvs, first);
      } finally {
        process.stderr.write = write;
      }
      assert.equal(lines.length, 2);
      assert.match(lines[1] ?? '', /scheduler="sh" placement="nftables" flags="sh-port"/);
    });
  });
});
