import { type ProxyMode, resolveProxyMode } from '../config/proxy-mode.js';
import { KproxyError } from '../errors.js';
import { schedulerDescriptor } from '../schedulers/registry.js';

/** One column of a comparison: a proxy mode and the scheduler that decides its spread. */
export interface LabMode {
  /** As the user wrote it: `iptables`, `ipvs:rr`, … */
  readonly label: string;
  readonly mode: ProxyMode;
  readonly scheduler: string;
}

/**
 * Parses `mode[:scheduler]`. iptables and nftables spread at random (their only way); ipvs and
 * userspace take any IPVS scheduler, rr when none is named (kube-proxy's default).
 */
export function parseLabMode(text: string): LabMode {
  const [modeText = '', schedulerText] = text.split(':');
  const mode = resolveProxyMode(modeText, `mode "${text}"`);
  if (mode === 'iptables' || mode === 'nftables') {
    if (schedulerText !== undefined && schedulerText !== 'random') {
      throw new KproxyError('KPROXY_E_USAGE', `mode "${text}": ${mode} mode has no scheduler choice`, {
        hint: `${mode} picks endpoints at random; use ipvs:${schedulerText} for the ${schedulerText} scheduler`,
      });
    }
    return { label: mode, mode, scheduler: 'random' };
  }
  const scheduler = schedulerText || 'rr';
  schedulerDescriptor(scheduler);
  return { label: `${mode}:${scheduler}`, mode, scheduler };
}

export function parseLabModes(list: string): LabMode[] {
  const modes = list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map(parseLabMode);
  if (modes.length === 0)
    throw new KproxyError('KPROXY_E_USAGE', 'no modes given', { hint: 'e.g. --modes iptables,ipvs:rr' });
  return modes;
}
