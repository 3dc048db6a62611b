/** Parsing of key store spec strings (`--tpm` flag). */

/**
 * A parsed key store spec. `tcti` is what tpm2_send gets; `flush` says whether contexts leaked by others may be
 * flushed; `exclusive` whether only one process may open the TPM at a time (a raw device node).
 */
export type KeyStoreSpec =
  | { kind: 'soft' }
  | { kind: 'tpm'; tcti: string; flush: boolean; exclusive: boolean; label: string };

/**
 * Parses 'soft', 'swtpm:host=H,port=N', 'device:/dev/tpmrm0', 'device:/dev/tpm0' or 'tabrmd[:conf]'.
 * swtpm and raw devices have no resource manager, so contexts other programs leave behind stay until flushed
 * (cipher-and-tpm.md §13); /dev/tpmrm0 and tabrmd flush per connection.
 */
export function parseKeyStoreSpec(spec: string): KeyStoreSpec {
  const s = spec.trim();
  if (s === 'soft') return { kind: 'soft' };
  if (s.startsWith('swtpm:')) {
    const params = new Map(
      s
        .slice('swtpm:'.length)
        .split(',')
        .map((kv) => kv.split('=') as [string, string | undefined]),
    );
    const host = params.get('host') ?? '127.0.0.1';
    const port = Number(params.get('port') ?? '2321');
    if (!Number.isInteger(port) || port < 1 || port > 65534) {
      throw new RangeError(`--tpm ${spec}: port must be an integer in 1-65534 (the control channel uses port+1)`);
    }
    const tcti = `swtpm:host=${host},port=${port}`;
    // The swtpm TCTI connects per command, so processes take turns.
    return { kind: 'tpm', tcti, flush: true, exclusive: false, label: tcti };
  }
  if (s.startsWith('device:')) {
    const dev = s.slice('device:'.length);
    if (!dev.startsWith('/')) throw new RangeError(`--tpm ${spec}: expected device:/dev/tpmrm0 or device:/dev/tpm0`);
    const raw = !/\/tpmrm\d+$/.test(dev);
    return { kind: 'tpm', tcti: `device:${dev}`, flush: raw, exclusive: raw, label: `device:${dev}` };
  }
  if (s === 'tabrmd' || s.startsWith('tabrmd:')) return { kind: 'tpm', tcti: s, flush: false, exclusive: false, label: s };
  throw new RangeError(
    `--tpm ${spec}: expected 'soft', 'swtpm:host=H,port=N', 'device:/dev/tpmrm0', 'device:/dev/tpm0' or 'tabrmd'`,
  );
}
