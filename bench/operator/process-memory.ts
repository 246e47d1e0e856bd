// Resident memory of a process from /proc/<pid>/status (Linux): VmRSS now, VmHWM the peak so far.
import { readFileSync } from "node:fs";

export interface ProcessMemory {
  rssMiB: number;
  peakRssMiB: number;
}

/** Parses the `VmRSS:` and `VmHWM:` lines (in kB) of a /proc/<pid>/status text. */
export function parseProcStatus(text: string): ProcessMemory {
  const kibOf = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(text);
    if (match === null) throw new Error(`no ${field} line in /proc status`);
    return Number(match[1]);
  };
  return { rssMiB: kibOf("VmRSS") / 1024, peakRssMiB: kibOf("VmHWM") / 1024 };
}

export function readProcessMemory(pid: number): ProcessMemory {
  return parseProcStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
}

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every Linux architecture in use. */
const USER_HZ = 100;

/** User plus system CPU seconds of a /proc/<pid>/stat line (fields 14 and 15, after the command name). */
export function parseProcStatCpuSeconds(text: string): number {
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("unreadable /proc stat line");
  return (utime + stime) / USER_HZ;
}

export function readProcessCpuSeconds(pid: number): number {
  return parseProcStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
}
