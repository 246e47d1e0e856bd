// A standalone SVG chart: load and queue on top, replicas (desired and ready) below, one colour per
// policy when comparing. No scripts, no external fonts: any browser shows it as is.
import type { SimulationResult, SimulationStep } from "./simulate.js";

const WIDTH = 1000;
const PANEL_HEIGHT = 220;
const MARGIN = { left: 64, right: 64, top: 48, gap: 56, bottom: 48 };
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A round axis maximum and tick step for values up to `max`. */
function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= raw) ?? 10) * magnitude;
  return { top: Math.ceil(max / step) * step, step };
}

function timeLabel(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds % 3600) / 60);
  return `${hours}:${String(minutes).padStart(2, "0")}`;
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function renderSvg(results: readonly SimulationResult[], title = "mlautoscale simulate"): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const loadTop = MARGIN.top;
  const replicaTop = MARGIN.top + PANEL_HEIGHT + MARGIN.gap;
  const height = replicaTop + PANEL_HEIGHT + MARGIN.bottom + 18 * results.length;
  const allSteps = results.flatMap((result) => result.steps);
  const start = Math.min(...allSteps.map((step) => step.t));
  const end = Math.max(
    ...results.map((result) => (result.steps.at(-1)?.t ?? 0) + result.summary.tickSeconds),
  );
  const x = (t: number) => MARGIN.left + ((t - start) / Math.max(end - start, 1)) * plotWidth;

  const loadScale = niceScale(Math.max(...allSteps.map((step) => step.load)));
  const queueScale = niceScale(Math.max(...allSteps.map((step) => step.queue)));
  const replicaScale = niceScale(
    Math.max(
      ...allSteps.map((step) => Math.max(step.desiredReplicas, step.readyReplicas + step.loadingReplicas)),
    ),
  );
  const yIn = (top: number, scaleTop: number) => (value: number) =>
    top + PANEL_HEIGHT - (value / scaleTop) * PANEL_HEIGHT;
  const yLoad = yIn(loadTop, loadScale.top);
  const yQueue = yIn(loadTop, queueScale.top);
  const yReplicas = yIn(replicaTop, replicaScale.top);

  // Step functions: each value holds until the next step.
  const stepPath = (
    steps: readonly SimulationStep[],
    read: (step: SimulationStep) => number,
    y: (v: number) => number,
    tick: number,
  ) => {
    let path = "";
    steps.forEach((step, index) => {
      const px = x(step.t).toFixed(1);
      const py = y(read(step)).toFixed(1);
      path += index === 0 ? `M${px},${py}` : `H${px}V${py}`;
    });
    const last = steps.at(-1);
    if (last) path += `H${x(last.t + tick).toFixed(1)}`;
    return path;
  };

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
  );

  const grid = (
    top: number,
    scale: { top: number; step: number },
    label: string,
    side: "left" | "right",
    y: (v: number) => number,
  ) => {
    for (let value = 0; value <= scale.top + 1e-9; value += scale.step) {
      const py = y(value).toFixed(1);
      if (side === "left") {
        parts.push(
          `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`,
        );
        parts.push(
          `<text x="${MARGIN.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" fill="#555">${fmt(value)}</text>`,
        );
      } else {
        parts.push(
          `<text x="${WIDTH - MARGIN.right + 6}" y="${py}" dominant-baseline="middle" fill="#999">${fmt(value)}</text>`,
        );
      }
    }
    const labelX = side === "left" ? MARGIN.left : WIDTH - MARGIN.right;
    parts.push(
      `<text x="${labelX}" y="${top - 10}" text-anchor="${side === "left" ? "start" : "end"}" fill="#333">${escapeXml(label)}</text>`,
    );
  };
  grid(loadTop, loadScale, "load (requests/s)", "left", yLoad);
  grid(loadTop, queueScale, "queue (requests, dashed)", "right", yQueue);
  grid(replicaTop, replicaScale, "replicas: desired (solid), ready (shaded)", "left", yReplicas);

  // Time axis under each panel.
  const timeScale = niceScale((end - start) / 3600, 8);
  for (let hours = 0; hours * 3600 <= end - start + 1e-6; hours += timeScale.step) {
    const t = start + hours * 3600;
    const px = x(t).toFixed(1);
    for (const top of [loadTop, replicaTop]) {
      parts.push(
        `<line x1="${px}" x2="${px}" y1="${top + PANEL_HEIGHT}" y2="${top + PANEL_HEIGHT + 4}" stroke="#555"/>`,
      );
      parts.push(
        `<text x="${px}" y="${top + PANEL_HEIGHT + 16}" text-anchor="middle" fill="#555">${timeLabel(t)}</text>`,
      );
    }
  }
  for (const top of [loadTop, replicaTop]) {
    parts.push(
      `<rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`,
    );
  }

  // Load comes from the trace and is the same for every policy: draw it once.
  const first = results[0];
  if (first) {
    const tick = first.summary.tickSeconds;
    parts.push(
      `<path d="${stepPath(first.steps, (s) => s.load, yLoad, tick)}" fill="none" stroke="#444" stroke-width="1.5"/>`,
    );
  }
  results.forEach((result, index) => {
    const colour = COLOURS[index % COLOURS.length] ?? "#000";
    const tick = result.summary.tickSeconds;
    const ready = stepPath(result.steps, (s) => s.readyReplicas, yReplicas, tick);
    const baseline = yReplicas(0).toFixed(1);
    const firstX = x(result.steps[0]?.t ?? start).toFixed(1);
    parts.push(
      `<path d="${ready}V${baseline}H${firstX}Z" fill="${colour}" fill-opacity="0.18" stroke="none"/>`,
    );
    parts.push(
      `<path d="${stepPath(result.steps, (s) => s.desiredReplicas, yReplicas, tick)}" fill="none" stroke="${colour}" stroke-width="1.8"/>`,
    );
    parts.push(
      `<path d="${stepPath(result.steps, (s) => s.queue, yQueue, tick)}" fill="none" stroke="${colour}" stroke-width="1.2" stroke-dasharray="4 3"/>`,
    );
    const s = result.summary;
    const legendY = replicaTop + PANEL_HEIGHT + 36 + index * 18;
    parts.push(`<rect x="${MARGIN.left}" y="${legendY - 9}" width="12" height="12" fill="${colour}"/>`);
    parts.push(
      `<text x="${MARGIN.left + 18}" y="${legendY + 1}">${escapeXml(
        `${s.name} (${s.engine}): peak ${s.peakReplicas} replicas, ${s.gpuHours.toFixed(1)} GPU-h, $${s.cost.toFixed(2)}, SLO violations ${(s.sloViolationRatio * 100).toFixed(2)}%`,
      )}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
