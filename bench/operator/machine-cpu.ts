// CPU seconds of the processes on a benchmark's path, and of the whole machine, read at two points.
import { readFileSync } from "node:fs";
import { cpuSecondsOfTrees, readAllProcStats } from "./process-memory.js";

/** One reading: each named process tree's CPU seconds so far, and the machine's busy seconds. */
export interface CpuReading {
  processes: Map<string, number>;
  machineBusySeconds: number;
}

/** The row of `cpuSpent` that holds every process's CPU, the kernel's included: what the others leave out. */
export const MACHINE_CPU = "machine, all processes";

/**
 * Reads the CPU so far of each named process with everything below it (the control plane's components,
 * the operator, KEDA's programs), of this benchmark's own process, and of the machine.
 */
export function readCpu(roots: ReadonlyMap<string, number>, benchmarkName: string): CpuReading {
  const usage = process.cpuUsage();
  const processes = cpuSecondsOfTrees(roots, readAllProcStats());
  processes.set(benchmarkName, (usage.user + usage.system) / 1e6);
  return { processes, machineBusySeconds: machineBusySeconds() };
}

/** Seconds the cores have spent busy since boot: /proc/stat's first line less idle and iowait. */
function machineBusySeconds(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1);
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
  const ticks = fields.slice(0, 8).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (total - idle) / 100; // USER_HZ
}

/**
 * The CPU each process spent between two readings, most first, then their sum ("total") and the machine's
 * busy time (MACHINE_CPU), in seconds to a tenth.
 */
export function cpuSpent(before: CpuReading, after: CpuReading): Record<string, number> {
  const spent = [...after.processes].map(([name, total]): [string, number] => [
    name,
    total - (before.processes.get(name) ?? 0),
  ]);
  spent.sort((a, b) => b[1] - a[1]);
  const sum = spent.reduce((total, [, cpu]) => total + cpu, 0);
  const machine = after.machineBusySeconds - before.machineBusySeconds;
  const rows: [string, number][] = [...spent, ["total", sum], [MACHINE_CPU, machine]];
  return Object.fromEntries(rows.map(([name, cpu]) => [name, Math.round(cpu * 10) / 10]));
}
