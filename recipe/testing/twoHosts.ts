/**
 * Two hosts for a multi-machine launch on one machine. As root with `ip netns`, each host is its own
 * network namespace (and UTS namespace, for its own hostname), joined to the other by a veth pair, so
 * every byte between them crosses an interface; each namespace's /etc/hosts (ip netns exec mounts
 * /etc/netns/NAME/hosts over it) maps both hostnames to their addresses, as a cluster's DNS would, which
 * is how torchrun and gloo find the address to announce. Otherwise both hosts are this machine on loopback.
 *
 * Names carry this process's id, so parallel runs cannot clash; namespaces left by a test process that
 * died are removed on the next open. The addresses live inside the namespaces, so they never clash.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

export interface Host {
  /** The address the other host reaches this one at. */
  address: string;
  /** The command run on this host. */
  wrap(command: string[]): string[];
}

export interface TwoHosts {
  kind: 'network namespaces joined by a veth pair' | 'loopback';
  /** Why loopback ran, when it did. */
  why?: string;
  hosts: [Host, Host];
  /** Bytes the first host sent over its interface (network namespaces only). */
  sentBytes(): number | null;
  close(): void;
}

const PREFIX = 's2r';
const ADDRESSES = ['10.231.0.1', '10.231.0.2'] as const;

function ip(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? r.error?.message ?? ''}` };
}

const namespaces = (pid: number) => [`${PREFIX}${pid}-0`, `${PREFIX}${pid}-1`];

function removeNamespaces(pid: number): void {
  for (const ns of namespaces(pid)) {
    ip(['netns', 'del', ns]); // takes its end of the veth pair, and so the pair, with it
    rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Namespaces of test processes that died before closing theirs. */
function removeStale(): void {
  const listed = ip(['netns', 'list']).out;
  const pids = new Set([...listed.matchAll(new RegExp(`^${PREFIX}(\\d+)-[01]\\b`, 'gm'))].map((m) => Number(m[1])));
  for (const pid of pids) if (pid !== process.pid && !alive(pid)) removeNamespaces(pid);
}

function loopback(why: string): TwoHosts {
  const host: Host = { address: '127.0.0.1', wrap: (command) => command };
  return { kind: 'loopback', why, hosts: [host, host], sentBytes: () => null, close: () => {} };
}

export function openTwoHosts(): TwoHosts {
  if (process.getuid?.() !== 0) return loopback('not root: network namespaces need root');
  removeStale();
  const pid = process.pid;
  const ns = namespaces(pid);
  const veth = [`${PREFIX}${pid}a`, `${PREFIX}${pid}b`]; // ≤ 15 characters, as interface names must be
  const hostnames = [`s2ft-${pid}-node0`, `s2ft-${pid}-node1`];
  const hostsFile = `127.0.0.1 localhost\n${ADDRESSES.map((a, i) => `${a} ${hostnames[i]}`).join('\n')}\n`;
  const steps: string[][] = [
    ['netns', 'add', ns[0]],
    ['netns', 'add', ns[1]],
    ['link', 'add', veth[0], 'type', 'veth', 'peer', 'name', veth[1]],
    ...[0, 1].flatMap((i) => [
      ['link', 'set', veth[i], 'netns', ns[i]],
      ['-n', ns[i], 'addr', 'add', `${ADDRESSES[i]}/30`, 'dev', veth[i]],
      ['-n', ns[i], 'link', 'set', 'lo', 'up'],
      ['-n', ns[i], 'link', 'set', veth[i], 'up'],
    ]),
  ];
  for (const step of steps) {
    const r = ip(step);
    if (!r.ok) {
      removeNamespaces(pid);
      ip(['link', 'del', veth[0]]);
      return loopback(`\`ip ${step.join(' ')}\` failed: ${r.out.trim()}`);
    }
  }
  for (const name of ns) {
    mkdirSync(`/etc/netns/${name}`, { recursive: true });
    writeFileSync(`/etc/netns/${name}/hosts`, hostsFile);
  }
  const host = (i: number): Host => ({
    address: ADDRESSES[i],
    wrap: (command) => [
      'ip',
      'netns',
      'exec',
      ns[i],
      'unshare',
      '--uts',
      'sh',
      '-c',
      'hostname "$0" && exec "$@"',
      hostnames[i],
      ...command,
    ],
  });
  return {
    kind: 'network namespaces joined by a veth pair',
    hosts: [host(0), host(1)],
    sentBytes: () => {
      const r = ip(['-n', ns[0], '-j', '-s', 'link', 'show', 'dev', veth[0]]);
      return r.ok ? (JSON.parse(r.out) as { stats64: { tx: { bytes: number } } }[])[0].stats64.tx.bytes : null;
    },
    close: () => removeNamespaces(pid),
  };
}
