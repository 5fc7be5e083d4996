/**
 * UDP pods and a UDP client for kernel tests in a NetnsLab: pods are addresses on the node
 * namespace's loopback, answering each datagram with the address it was sent to; the client
 * sends from one fixed source address and port, as a long-lived UDP client (DNS, statsd) does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { runChecked } from '../../../src/dataplanes/netns.js';

const podScript = `
const dgram = require('node:dgram');
const addresses = process.argv.slice(1);
let bound = 0;
for (const address of addresses) {
  const colon = address.lastIndexOf(':');
  const socket = dgram.createSocket('udp4');
  socket.on('message', (_message, from) => socket.send(address, from.port, from.address));
  socket.bind(Number(address.slice(colon + 1)), address.slice(0, colon), () => {
    if (++bound === addresses.length) console.log('ready');
  });
}
`;

/** Puts `ips` on the node's loopback and answers UDP on `port` there; resolves once listening. */
export async function startUdpPods(
  netns: string,
  ips: readonly string[],
  port: number,
): Promise<ChildProcess> {
  for (const ip of ips) await runChecked(['ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo'], { netns });
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, process.execPath, '-e', podScript, ...ips.map((ip) => `${ip}:${port}`)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('UDP pods did not start')), 10_000);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`UDP pods exited ${code}`)));
  });
  return child;
}

const clientScript = `
const dgram = require('node:dgram');
const [host, port, address, sourcePort, count, timeoutMs] = process.argv.slice(1);
const socket = dgram.createSocket('udp4');
const answers = [];
function ask() {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.off('message', onMessage); resolve('timeout'); }, Number(timeoutMs));
    function onMessage(message) { clearTimeout(timer); socket.off('message', onMessage); resolve(String(message)); }
    socket.on('message', onMessage);
    socket.send('who', Number(port), host);
  });
}
socket.bind(Number(sourcePort), address, async () => {
  for (let i = 0; i < Number(count); i++) answers.push(await ask());
  socket.close();
  console.log(JSON.stringify(answers));
});
`;

export interface UdpAsk {
  readonly host: string;
  readonly port: number;
  readonly source: { readonly address: string; readonly port: number };
  readonly count: number;
  readonly timeoutMs: number;
}

/** Sends `count` datagrams one after another from the client namespace; each answer is a pod's `ip:port` or `timeout`. */
export async function askUdp(netns: string, ask: UdpAsk): Promise<string[]> {
  const argv = [
    process.execPath,
    '-e',
    clientScript,
    ask.host,
    String(ask.port),
    ask.source.address,
    String(ask.source.port),
    String(ask.count),
    String(ask.timeoutMs),
  ];
  return JSON.parse(await runChecked(argv, { netns })) as string[];
}
