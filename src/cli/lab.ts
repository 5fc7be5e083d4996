import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { KproxyError } from '../errors.js';
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
        // Without root every mode runs on the userspace data plane, with the mode's scheduler.
        backend: () => new UserspaceLabBackend(),
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
