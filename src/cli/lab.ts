import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { KproxyError } from '../errors.js';
import { IptablesLabBackend } from '../lab/backends/iptables-lab-backend.js';
import { kernelLabUnavailable } from '../lab/backends/kernel-lab-backend.js';
import type { LabBackendFactory } from '../lab/backends/lab-backend.js';
import { NftablesLabBackend } from '../lab/backends/nftables-lab-backend.js';
import { UserspaceLabBackend } from '../lab/backends/userspace-lab-backend.js';
import { parseLabModes } from '../lab/lab-mode.js';
import { renderLabHtml } from '../lab/report/lab-html.js';
import { formatScenarioTable } from '../lab/report/lab-text.js';
import { runLab } from '../lab/run-lab.js';
import { scenarioNamed, scenarios } from '../lab/scenarios.js';
import { positiveInteger } from './options.js';

interface LabFlags {
  modes: string;
  scenarios: string;
  requests: number;
  concurrency?: number;
  pods: number;
  html?: string;
  jsonFile?: string;
  json: boolean;
  dataplane: 'auto' | 'userspace' | 'kernel';
}

const ALL = scenarios.map((scenario) => scenario.name).join(',');

export function registerLab(program: Command): void {
  program
    .command('lab')
    .description(
      'one workload through several modes, side by side: spread, fairness, latency; text, JSON, HTML',
    )
    .option(
      '--modes <list>',
      'modes to compare, e.g. iptables,ipvs:rr,ipvs:sh,ipvs:lc',
      'iptables,ipvs:rr,ipvs:sh,ipvs:lc',
    )
    .option('--scenarios <list>', `scenarios to run (${ALL}, or all)`, 'new-connections')
    .option('-n, --requests <n>', 'requests per mode and scenario', positiveInteger, 1000)
    .option('-c, --concurrency <c>', "requests in flight at once (default: the scenario's)", positiveInteger)
    .option('--pods <k>', 'pods behind the Service', positiveInteger, 3)
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--json-file <file>', 'write the results as JSON')
    .option('--json', 'print the results as JSON instead of tables', false)
    .option(
      '--dataplane <where>',
      'auto: iptables and nftables on the kernel when root, the rest in userspace; userspace; kernel',
      dataplaneChoice,
      'auto',
    )
    .action(async (flags: LabFlags) => {
      if (flags.pods > 60) {
        throw new KproxyError('KPROXY_E_USAGE', `--pods ${flags.pods} is too many`, {
          hint: 'use 1 to 60 pods',
        });
      }
      const names = flags.scenarios === 'all' ? ALL : flags.scenarios;
      const report = await runLab({
        modes: parseLabModes(flags.modes),
        scenarios: names.split(',').map((name) => scenarioNamed(name.trim())),
        backend: await backendFactory(flags.dataplane),
        pods: flags.pods,
        requests: flags.requests,
        concurrency: flags.concurrency,
        onScenario: (result) => {
          if (!flags.json) console.log(`${formatScenarioTable(result)}\n`);
        },
      });
      if (flags.json) console.log(JSON.stringify(report, null, 2));
      if (flags.jsonFile) writeFileSync(flags.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
      if (flags.html) {
        writeFileSync(flags.html, renderLabHtml(report));
        if (!flags.json) console.log(`HTML report: ${flags.html}`);
      }
    });
}

function dataplaneChoice(value: string): LabFlags['dataplane'] {
  if (value === 'auto' || value === 'userspace' || value === 'kernel') return value;
  throw new KproxyError('KPROXY_E_USAGE', `--dataplane ${value}: not auto, userspace or kernel`);
}

/**
 * iptables and nftables modes run on the kernel (in private network namespaces) when they can;
 * every other mode, and all of them without root, on the userspace data plane with the mode's scheduler — the same
 * way of picking endpoints, so the same spread.
 */
async function backendFactory(choice: LabFlags['dataplane']): Promise<LabBackendFactory> {
  const userspace: LabBackendFactory = () => new UserspaceLabBackend();
  if (choice === 'userspace') return userspace;
  const unavailable = await kernelLabUnavailable();
  if (unavailable) {
    if (choice === 'kernel') {
      throw new KproxyError('KPROXY_E_LAB', `--dataplane kernel: ${unavailable}`, {
        hint: 'run as root, or use --dataplane userspace',
      });
    }
    return userspace;
  }
  return (mode) => {
    if (mode.mode === 'iptables') return new IptablesLabBackend();
    if (mode.mode === 'nftables') return new NftablesLabBackend();
    return new UserspaceLabBackend();
  };
}
