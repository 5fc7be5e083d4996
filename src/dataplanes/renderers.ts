import { KproxyError } from '../errors.js';
import { iptablesRenderer } from './iptables/render.js';
import { ipvsNftablesRenderer } from './ipvs/ipvs-nftables-renderer.js';
import { ipvsadmRenderer } from './ipvs/ipvsadm-renderer.js';
import { nftablesRenderer } from './nftables/nftables-renderer.js';
import type { RuleRenderer } from './rule-renderer.js';

/**
 * Every kernel renderer by mode; a new mode is one more entry. `ipvs` is what a kernel with IPVS
 * gets (ipvsadm-restore, ipsets, kube-ipvs0 addresses); `ipvs-nftables` what one without it gets.
 */
const renderers: readonly RuleRenderer[] = [
  iptablesRenderer,
  nftablesRenderer,
  ipvsadmRenderer,
  ipvsNftablesRenderer,
];

export function rendererModes(): string[] {
  return renderers.map((renderer) => renderer.mode);
}

/** The renderer for `mode`, or a usage error listing the modes that have one. */
export function rendererFor(mode: string): RuleRenderer {
  const renderer = renderers.find((candidate) => candidate.mode === mode);
  if (!renderer) {
    throw new KproxyError('KPROXY_E_USAGE', `no rule renderer for mode "${mode}"`, {
      hint: `use --mode ${rendererModes().join(' | ')}`,
    });
  }
  return renderer;
}
