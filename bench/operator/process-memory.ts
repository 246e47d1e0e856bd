// Resident memory of a process from /proc/<pid>/status (Linux): VmRSS now, VmHWM the peak so far; the CPU
// time of a process, or of a process and everything it started, from /proc/<pid>/stat.
import { readdirSync, readFileSync } from "node:fs";

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
  const fields = statFields(text);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("unreadable /proc stat line");
  return (utime + stime) / USER_HZ;
}

export function readProcessCpuSeconds(pid: number): number {
  return parseProcStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** The fields of a /proc/<pid>/stat line after the command name: [state, ppid, ...]. */
function statFields(text: string): string[] {
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU seconds of each named process together with every live process below it, from the stat lines of
 * all processes (by pid): user and system time, and that of their children already waited for. A
 * component that runs its work in a child (RabbitMQ's start script and its Erlang VM) counts as a whole.
 */
export function cpuSecondsOfTrees(
  roots: ReadonlyMap<string, number>,
  statLines: ReadonlyMap<number, string>,
): Map<string, number> {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const [pid, line] of statLines) {
    const fields = statFields(line);
    const parent = Number(fields[1]);
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [pid]);
    else siblings.push(pid);
    ticks.set(
      pid,
      [11, 12, 13, 14].reduce((sum, i) => sum + (Number(fields[i]) || 0), 0),
    );
  }
  const treeTicks = (pid: number): number =>
    (ticks.get(pid) ?? 0) + (children.get(pid) ?? []).reduce((sum, child) => sum + treeTicks(child), 0);
  return new Map([...roots].map(([name, pid]) => [name, treeTicks(pid) / USER_HZ]));
}

/** Every process's /proc/<pid>/stat line, by pid (processes that exit while being read are left out). */
export function readAllProcStats(): Map<number, string> {
  const lines = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      lines.set(Number(entry), readFileSync(`/proc/${entry}/stat`, "utf8"));
    } catch {
      // Exited meanwhile.
    }
  }
  return lines;
}
