/**
 * The per-Service IPVS annotations: `kproxy.io/ipvs-scheduler` names the scheduler and
 * `kproxy.io/ipvs-scheduler-flags` (comma-separated, e.g. `sh-port,sh-fallback`) its flags.
 * Flags belong to one scheduler, so the flags annotation needs the scheduler annotation beside
 * it: the configured default may change under a Service, its flags would then be wrong. An empty
 * flags annotation means no flags, even where kube-proxy would set some (mh without mh-port).
 */
import { KproxyError } from '../errors.js';
import { checkSchedulerOptions, schedulerDescriptor } from '../schedulers/registry.js';
import type { FieldReader } from './field-reader.js';
import { SCHEDULER_ANNOTATION, SCHEDULER_FLAGS_ANNOTATION } from './k8s-objects.js';
import { isSchedulerName } from './validation.js';

const SCHEDULER_PATH = `metadata.annotations[${SCHEDULER_ANNOTATION}]`;
const FLAGS_PATH = `metadata.annotations[${SCHEDULER_FLAGS_ANNOTATION}]`;

/** The flags of an annotation value: trimmed, without empty items or repeats. */
export function parseSchedulerFlags(value: string): string[] {
  return [...new Set(value.split(',').map((flag) => flag.trim()))].filter((flag) => flag !== '');
}

/** Checks both annotations of a Service, reporting each problem with its field path. */
export function checkSchedulerAnnotations(
  reader: FieldReader,
  annotations: Readonly<Record<string, string>> | undefined,
): void {
  const scheduler = annotations?.[SCHEDULER_ANNOTATION];
  const schedulerOk =
    scheduler !== undefined &&
    reader.string({ scheduler }, 'scheduler', SCHEDULER_PATH, isSchedulerName) !== undefined;
  const flags = annotations?.[SCHEDULER_FLAGS_ANNOTATION];
  if (flags === undefined) return;
  if (scheduler === undefined) {
    reader.invalid(
      FLAGS_PATH,
      flags,
      `scheduler flags need the ${SCHEDULER_ANNOTATION} annotation beside them (e.g. sh with sh-port)`,
    );
    return;
  }
  if (!schedulerOk) return;
  const problem = flagsProblem(scheduler, parseSchedulerFlags(flags));
  if (problem) reader.invalid(FLAGS_PATH, flags, problem);
}

/** The registry's own words for flags a scheduler does not take (or an unknown scheduler). */
function flagsProblem(scheduler: string, flags: readonly string[]): string | undefined {
  try {
    checkSchedulerOptions(schedulerDescriptor(scheduler), { flags });
    return undefined;
  } catch (error) {
    if (!(error instanceof KproxyError)) throw error;
    return error.hint ? `${error.message}; ${error.hint}` : error.message;
  }
}
