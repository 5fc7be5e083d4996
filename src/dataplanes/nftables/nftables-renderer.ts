import type { ProxyState } from '../../model/proxy-state.js';
import type { RenderOptions, RuleRenderer } from '../rule-renderer.js';
import type { NftFragment } from './nft-fragment.js';
import { type EndpointPicker, type PickerContext, randomPicker } from './nft-picker.js';
import { renderServiceFragment } from './nft-service-fragment.js';
import { familyTerms } from './nft-terms.js';
import { declareTable } from './nft-text.js';

/** Makes the picker a mode uses; nftables mode draws at random, ipvs mode runs a scheduler per Service. */
export type PickerFactory = (context: PickerContext) => EndpointPicker;

/** Turns service ports into fragments for one family, with one mode's picker. */
export class FragmentRenderer {
  private readonly context: PickerContext & { picker: EndpointPicker };

  constructor(options: RenderOptions, pickerFactory: PickerFactory = randomPicker) {
    const base = { options, terms: familyTerms(options.ipFamily) };
    this.context = { ...base, picker: pickerFactory(base) };
  }

  get terms() {
    return this.context.terms;
  }

  fragment(state: ProxyState, id: string): NftFragment | undefined {
    const servicePort = state.servicePorts.get(id);
    return servicePort ? renderServiceFragment(servicePort, this.context) : undefined;
  }

  allFragments(state: ProxyState): Map<string, NftFragment> {
    const fragments = new Map<string, NftFragment>();
    for (const id of [...state.servicePorts.keys()].sort()) {
      fragments.set(id, this.fragment(state, id) as NftFragment);
    }
    return fragments;
  }
}

/** The whole `table ip kproxy` (or `ip6`) for a state: what `nft -f` loads on a full sync. */
export function renderNftablesTable(
  state: ProxyState,
  options: RenderOptions,
  pickers?: PickerFactory,
): string {
  const renderer = new FragmentRenderer(options, pickers);
  return `${declareTable(renderer.allFragments(state).values(), options, renderer.terms).lines.join('\n')}\n`;
}

export const nftablesRenderer: RuleRenderer = {
  mode: 'nftables',
  render: (state, options) => renderNftablesTable(state, options),
};
