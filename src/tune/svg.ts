// The Pareto front as a standalone SVG: GPU-hours across, SLO violations up (a log scale, so 0.1 % and 50 %
// both read), every candidate as a grey dot, the front as a line, the original and the recommendation
// marked, and the allowed share of violations as a dashed line.
import { percent } from "./explain.js";
import type { Scored } from "./search.js";

const WIDTH = 900;
const HEIGHT = 560;
const MARGIN = { left: 80, right: 40, top: 56, bottom: 92 };
/** Violations below this share sit on the bottom edge. */
const FLOOR = 1e-4;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export interface FrontChart {
  title: string;
  candidates: readonly Scored[];
  front: readonly Scored[];
  original: Scored;
  recommended: Scored;
  maxViolationRatio: number;
}

export function renderFrontSvg(chart: FrontChart): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const hours = chart.candidates.map((c) => c.outcome.gpuHours);
  let low = Math.min(...hours);
  let high = Math.max(...hours);
  if (!(high > low)) {
    low -= 1;
    high += 1;
  }
  const pad = (high - low) * 0.05;
  low = Math.max(0, low - pad);
  high += pad;
  const x = (value: number) => MARGIN.left + ((value - low) / (high - low)) * plotWidth;
  const decades = [1e-4, 1e-3, 1e-2, 1e-1, 1];
  const logLow = Math.log10(FLOOR);
  const y = (ratio: number) =>
    MARGIN.top + plotHeight - ((Math.log10(Math.max(ratio, FLOOR)) - logLow) / -logLow) * plotHeight;
  const point = (scored: Scored) => [
    x(scored.outcome.gpuHours).toFixed(1),
    y(scored.outcome.violationRatio).toFixed(1),
  ];

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="28" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  for (const decade of decades) {
    const py = y(decade).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" fill="#555">${decade === FLOOR ? "≤0.01%" : percent(decade).replace(/\.?0+%$/, "%")}</text>`,
    );
  }
  for (let tick = 0; tick <= 5; tick++) {
    const value = low + ((high - low) * tick) / 5;
    const px = x(value).toFixed(1);
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight + 4}" stroke="#555"/>`,
    );
    parts.push(
      `<text x="${px}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle" fill="#555">${value.toFixed(value < 10 ? 2 : 1)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 40}" text-anchor="middle" fill="#333">GPU-hours over the trace</text>`,
    `<text x="20" y="${MARGIN.top + plotHeight / 2}" text-anchor="middle" fill="#333" transform="rotate(-90 20 ${MARGIN.top + plotHeight / 2})">requests over the SLO</text>`,
  );
  const limit = y(chart.maxViolationRatio).toFixed(1);
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${limit}" y2="${limit}" stroke="#2ca02c" stroke-dasharray="6 4"/>`,
    `<text x="${WIDTH - MARGIN.right - 4}" y="${Number(limit) - 6}" text-anchor="end" fill="#2ca02c">allowed: ${percent(chart.maxViolationRatio)}</text>`,
  );
  for (const candidate of chart.candidates) {
    const [px, py] = point(candidate);
    parts.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="#bbbbbb"/>`);
  }
  const frontPath = chart.front
    .map((scored, index) => `${index === 0 ? "M" : "L"}${point(scored).join(",")}`)
    .join("");
  parts.push(`<path d="${frontPath}" fill="none" stroke="#1f77b4" stroke-width="1.8"/>`);
  for (const scored of chart.front) {
    const [px, py] = point(scored);
    parts.push(`<circle cx="${px}" cy="${py}" r="3.5" fill="#1f77b4"/>`);
  }
  const [ox, oy] = point(chart.original);
  parts.push(`<circle cx="${ox}" cy="${oy}" r="7" fill="none" stroke="#d62728" stroke-width="2"/>`);
  const [rx, ry] = point(chart.recommended);
  parts.push(
    `<circle cx="${rx}" cy="${ry}" r="7" fill="#2ca02c" fill-opacity="0.6" stroke="#2ca02c" stroke-width="2"/>`,
  );
  const legend = (index: number, colour: string, filled: boolean, text: string) => {
    const ly = HEIGHT - 40 + index * 18;
    parts.push(
      `<circle cx="${MARGIN.left + 6}" cy="${ly - 4}" r="6" fill="${filled ? colour : "none"}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + 18}" y="${ly}">${escapeXml(text)}</text>`,
    );
  };
  const describe = (scored: Scored) =>
    `${scored.outcome.gpuHours.toFixed(2)} GPU-hours, ${percent(scored.outcome.violationRatio)} over the SLO`;
  legend(0, "#d62728", false, `original: ${describe(chart.original)}`);
  legend(1, "#2ca02c", true, `recommended: ${describe(chart.recommended)}`);
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
