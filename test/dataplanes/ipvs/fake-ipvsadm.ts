import {
  parseIpvsadmSave,
  realServerLine,
  type VirtualServer,
  virtualServerLine,
} from '../../../src/dataplanes/ipvs/ipvs-table.js';
import type { IpvsadmRunner } from '../../../src/dataplanes/ipvs/ipvsadm-runner.js';

/**
 * An IPVS table in memory behind the IpvsadmRunner interface, for a kernel without IPVS: `-R`
 * applies each line on its own and goes on past a failing one, as ipvsadm does, with the same
 * errors for a server that exists or is missing. `failOn` makes chosen lines fail;
 * `showsSchedulerFlags = false` makes `save` print as older ipvsadm does, without `-b`.
 */
export class FakeIpvsadm implements IpvsadmRunner {
  readonly table = new Map<string, VirtualServer>();
  /** Every `-R` input, in order. */
  readonly restores: string[] = [];
  failOn: (line: string) => boolean = () => false;
  /** The last `--set TCP TCPFIN UDP` line. */
  timeouts: string | undefined;
  /** Open connections per `VIRTUAL-KEY REAL-ADDRESS`. */
  connections = new Map<string, number>();
  showsSchedulerFlags = true;

  async save(): Promise<string> {
    const lines: string[] = [];
    for (const vs of this.table.values()) {
      lines.push(virtualServerLine('-A', this.showsSchedulerFlags ? vs : { ...vs, flags: [] }));
      for (const real of vs.realServers.values()) lines.push(realServerLine('-a', vs.key, real));
    }
    return lines.map((line) => `${line}\n`).join('');
  }

  async list(): Promise<string> {
    const names: Record<string, string> = { '-t': 'TCP', '-u': 'UDP', '--sctp-service': 'SCTP' };
    const lines = ['IP Virtual Server version 1.2.1 (size=4096)'];
    for (const vs of this.table.values()) {
      const [protocol = '', address = ''] = vs.key.split(' ');
      lines.push(`${names[protocol]}  ${address} ${vs.scheduler}`);
      for (const real of vs.realServers.values()) {
        const open = this.connections.get(`${vs.key} ${real.address}`) ?? 0;
        lines.push(`  -> ${real.address}  Masq  ${real.weight}  ${open}  0`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  async restore(text: string): Promise<{ code: number; stderr: string }> {
    this.restores.push(text);
    const errors: string[] = [];
    let code = 0;
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      const error = this.failOn(line) ? 'Memory allocation problem' : this.apply(line);
      code = error ? 2 : 0;
      if (error) errors.push(error);
    }
    return { code, stderr: errors.map((e) => `${e}\n`).join('') };
  }

  private apply(line: string): string | undefined {
    const [command = '', protocol = '', address = ''] = line.split(/\s+/);
    if (command === '--set') {
      this.timeouts = line;
      return undefined;
    }
    const key = `${protocol} ${address}`;
    const vs = this.table.get(key);
    if (command === '-A' || command === '-E') {
      if ((command === '-A') === (vs !== undefined)) return vs ? 'Service already exists' : 'No such service';
      const parsed = parseIpvsadmSave(line.replace(/^-E/, '-A')).get(key);
      if (!parsed) return 'Invalid line';
      this.table.set(key, { ...parsed, realServers: vs?.realServers ?? new Map() });
      return undefined;
    }
    if (!vs) return 'No such service';
    if (command === '-D') {
      this.table.delete(key);
      return undefined;
    }
    const real = /-r (\S+)/.exec(line)?.[1] ?? '';
    const servers = new Map(vs.realServers);
    if (command === '-d') {
      if (!servers.delete(real)) return 'No such destination';
    } else {
      if ((command === '-a') === servers.has(real))
        return servers.has(real) ? 'Destination already exists' : 'No such destination';
      const parsed = parseIpvsadmSave(`-A ${key} -s rr\n${line.replace(/^-e/, '-a')}`).get(key);
      const server = parsed?.realServers.get(real);
      if (!server) return 'Invalid line';
      servers.set(real, server);
    }
    this.table.set(key, { ...vs, realServers: servers });
    return undefined;
  }
}
