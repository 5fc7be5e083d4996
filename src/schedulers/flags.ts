/** Reading a scheduler's flags out of SchedulerOptions (the registry has already checked them). */
import type { SchedulerOptions } from './scheduler.js';

export function hasFlag(options: SchedulerOptions | undefined, flag: string): boolean {
  return options?.flags?.includes(flag) ?? false;
}
