/** The parser of iptables-restore / iptables-save text the tests read rules with (the one `kproxy stats` uses). */
export {
  type ParsedRule,
  type ParsedRules,
  parseIptablesRules,
  ruleComment,
  splitWords,
} from '../../src/dataplanes/iptables/parse-rules.js';
