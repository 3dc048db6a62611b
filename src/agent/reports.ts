/**
 * Builders of the device's own reports: ZInfoDevice and ZMetricMsg (eve-api.md §10, §15.8, §15.10).
 * Plain inputs in, wire messages out; no I/O.
 */
import os from 'node:os';
import type { metrics} from '../eve/index.js';
import { info, timestampFromMs } from '../eve/index.js';

/** This machine's CPU count, read once: os.cpus() parses /proc/cpuinfo, and a fleet reports for every device. */
const HOST_NCPU = os.cpus().length;

/** What the device reports about itself. */
export interface DeviceInfoInput {
  deviceUuid: string;
  deviceName: string;
  bootTimeMs: number;
  hostname: string;
  /** HSM status: TPM in use → ENABLED, soft keys → NOTFOUND (cipher-and-tpm.md §12). */
  tpm: boolean;
  attestationState: number;
  /** Ports and their addresses (cluster IP included on its port, cluster.md §3). */
  ports: { ifname: string; label: string; addrs: string[]; up: boolean }[];
  /** EVE-k capabilities (cluster.md §7.9). */
  kubevirt: boolean;
  lastConfigError?: string;
  /** A simulated hardware model (a fleet's profile); absent = this machine's CPUs and memory. */
  hardware?: HardwareFigures | undefined;
}

/** What ZInfoDevice carries of a hardware model. */
export interface HardwareFigures {
  ncpu?: number;
  memoryMB?: number;
  storageMB?: number;
}

/** Builds ZInfoMsg{ztype ZiDevice, dinfo}. */
export function deviceInfoMessage(i: DeviceInfoInput, nowMs: number): info.IZInfoMsg {
  return {
    ztype: info.ZInfoTypes.ZiDevice,
    devId: i.deviceUuid,
    atTimeStamp: timestampFromMs(nowMs),
    dinfo: {
      machineArch: os.arch() === 'x64' ? 'x86_64' : os.arch(),
      cpuArch: os.arch() === 'x64' ? 'x86_64' : os.arch(),
      platform: 'edgesim',
      ncpu: i.hardware?.ncpu ?? HOST_NCPU,
      memory: i.hardware?.memoryMB ?? Math.round(os.totalmem() / 1024 / 1024),
      ...(i.hardware?.storageMB !== undefined ? { storage: i.hardware.storageMB } : {}),
      bootTime: timestampFromMs(i.bootTimeMs),
      HostName: i.hostname,
      HSMStatus: i.tpm ? info.HwSecurityModuleStatus.ENABLED : info.HwSecurityModuleStatus.NOTFOUND,
      HSMInfo: i.tpm ? 'TPM 2.0 (tpm2-tools)' : 'software keys (not hardware-protected)',
      state: info.ZDeviceState.ZDEVICE_STATE_ONLINE,
      attestation_info: { state: i.attestationState },
      optional_capabilities: { hv_type_kubevirt: i.kubevirt, etcd_snapshot: i.kubevirt },
      device_name: i.deviceName,
      swList: [{ activated: true, partitionLabel: 'IMGA', shortVersion: '0.1.0-edgesim', status: info.ZSwState.RUNNING }],
      systemAdapter: {
        status: [
          {
            ports: i.ports.map((p) => ({ ifname: p.ifname, name: p.label, IPAddrs: p.addrs, up: p.up })),
          },
        ],
      },
    },
  };
}

/** This process's RSS, read at most once per (clock) second: a fleet's devices all report the one process. */
let rssRead = { atMs: -Infinity, bytes: 0 };
function processRss(nowMs: number): number {
  if (Math.abs(nowMs - rssRead.atMs) >= 1000) rssRead = { atMs: nowMs, bytes: process.memoryUsage.rss() };
  return rssRead.bytes;
}

/** Builds the periodic ZMetricMsg. */
export function metricsMessage(deviceUuid: string, nowMs: number, lastConfigMs: number): metrics.IZMetricMsg {
  const rss = processRss(nowMs);
  return {
    devID: deviceUuid,
    atTimeStamp: timestampFromMs(nowMs),
    dm: {
      deviceMemory: { memoryMB: Math.round(os.totalmem() / 1024 / 1024), allocated_appsMB: Math.round(rss / 1024 / 1024) },
      ...(lastConfigMs ? { last_received_config: timestampFromMs(lastConfigMs), last_processed_config: timestampFromMs(lastConfigMs) } : {}),
    },
  };
}
