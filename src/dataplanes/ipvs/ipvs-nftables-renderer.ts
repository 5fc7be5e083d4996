import { placeServices } from '../ipvs-placement.js';
import { renderNftablesTable } from '../nftables/nftables-renderer.js';
import type { RuleRenderer } from '../rule-renderer.js';
import { ipvsSchedulerPicker } from './ipvs-nft-picker.js';

/**
 * ipvs mode on a kernel without IPVS, as text: the nft table with a scheduler chain per Service.
 * Services placed in userspace appear as a DNAT to `127.0.0.1:0`, the listener the run command
 * opens for them (its port is known only once it listens).
 */
export const ipvsNftablesRenderer: RuleRenderer = {
  mode: 'ipvs',
  render(state, options) {
    const decisions = placeServices(state, { ipvsAvailable: false, defaultScheduler: options.ipvsScheduler });
    const picker = ipvsSchedulerPicker((id) => {
      const decision = decisions.get(id);
      if (decision?.placement === 'userspace') return { userspace: { host: '127.0.0.1', port: 0 } };
      return { scheduler: decision?.scheduler ?? options.ipvsScheduler, flags: decision?.flags ?? [] };
    });
    return renderNftablesTable(state, options, picker);
  },
};
