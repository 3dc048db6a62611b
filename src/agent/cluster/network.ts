/**
 * The cluster IP on the cluster interface (cluster.md §3): added as an additional address with its prefix,
 * removed on leave. Uses iproute2 (`ip`), so it needs CAP_NET_ADMIN; on loopback without it, an address that is
 * already local (127.0.0.0/8 on `lo`) is accepted as is.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import os from 'node:os';

const run = promisify(execFile);

/** `ip` failed; `command` is the argv, `stderr` what iproute2 said. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    message: string,
    readonly command: string[],
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** The `ip/prefix` forms of `ip` on interface `ifname` (empty when it is not assigned there). */
export function addressesOf(ifname: string, ip: string): string[] {
  return (os.networkInterfaces()[ifname] ?? []).filter((a) => a.address === ip).map((a) => a.cidr ?? `${ip}/${a.family === 'IPv4' ? 32 : 128}`);
}

/** Whether `ip` is currently assigned to interface `ifname` (with `prefix` when given). */
export function hasAddress(ifname: string, ip: string, prefix?: number): boolean {
  const found = addressesOf(ifname, ip);
  return prefix === undefined ? found.length > 0 : found.includes(`${ip}/${prefix}`);
}

async function ip(args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (e) {
    const raw = (e as { stderr?: unknown }).stderr;
    const stderr = (typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString() : '').trim();
    throw new NetworkError(`ip ${args.join(' ')}: ${stderr || (e as Error).message}`, ['ip', ...args], stderr);
  }
}

/**
 * Adds `ip/prefix` to `ifname` unless present with that prefix; loopback addresses already served by `lo` need no
 * change. The same address with another prefix is replaced (a renumbered prefix must not keep the old route).
 */
export async function addClusterAddress(ifname: string, address: string, prefix: number): Promise<'added' | 'present'> {
  if (hasAddress(ifname, address, prefix)) return 'present';
  for (const other of addressesOf(ifname, address)) await ip(['addr', 'del', other, 'dev', ifname]);
  try {
    await ip(['addr', 'add', `${address}/${prefix}`, 'dev', ifname]);
    return 'added';
  } catch (e) {
    // Without CAP_NET_ADMIN a 127.x address still works on lo (the whole /8 is local): accept it.
    if (ifname === 'lo' && address.startsWith('127.') && e instanceof NetworkError && /not permitted/i.test(e.stderr)) {
      return 'present';
    }
    throw e;
  }
}

/**
 * Removes `address` from `ifname` when present, with the prefix the kernel holds it under (a delete naming another
 * prefix is refused, so a renumbered prefix must not be used to remove the old address).
 * @throws NetworkError when `ip` refuses
 */
export async function removeClusterAddress(ifname: string, address: string): Promise<void> {
  for (const cidr of addressesOf(ifname, address)) await ip(['addr', 'del', cidr, 'dev', ifname]);
}

/** Sets the link up or down (the cluster-interface-down fault). */
export async function setLinkUp(ifname: string, up: boolean): Promise<void> {
  await ip(['link', 'set', 'dev', ifname, up ? 'up' : 'down']);
}
