import type { LabBackendFactory } from './backends/lab-backend.js';
import type { LabMode } from './lab-mode.js';
import type { LabReport, LabScenarioResult } from './lab-result.js';
import { runScenario } from './run-scenario.js';
import type { Scenario } from './scenarios.js';

export interface LabOptions {
  readonly modes: readonly LabMode[];
  readonly scenarios: readonly Scenario[];
  readonly backend: LabBackendFactory;
  readonly pods: number;
  readonly requests: number;
  /** Overrides each scenario's own concurrency. */
  readonly concurrency?: number;
  /** Called after each scenario, e.g. to print its table at once. */
  readonly onScenario?: (result: LabScenarioResult) => void;
}

/** Runs every scenario through every mode: the data behind the table, the JSON and the HTML. */
export async function runLab(options: LabOptions): Promise<LabReport> {
  const scenarios: LabScenarioResult[] = [];
  for (const scenario of options.scenarios) {
    const result = await runScenario({ ...options, scenario });
    options.onScenario?.(result);
    scenarios.push(result);
  }
  const dataplanes = new Set(scenarios.flatMap((scenario) => scenario.modes.map((mode) => mode.dataplane)));
  return {
    generatedAt: new Date().toISOString(),
    backend: [...dataplanes].join(', '),
    pods: options.pods,
    scenarios,
  };
}
