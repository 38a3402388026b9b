/**
 * Line charts (learning curves, the paper's Fig. 3) as SVG and as PNG, from one layout: axes,
 * grid, ticks, title, axis labels, a legend, distinct colours; gaps where values are NaN.
 */
import { type ChartLayout, type ChartOptions, type Series, LEGEND_ROW, LEGEND_SWATCH, TITLE_SCALE, layoutChart } from './chart-layout.js';
import { textWidth } from './font.js';
import { Canvas, type Rgb, parseHex } from './raster.js';

export type { ChartOptions, Series } from './chart-layout.js';

const INK = '#333333';
const GRID = '#e6e6e6';
const LINE_WIDTH = 2;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const n = (v: number) => Number(v.toFixed(2));

/**
 * The chart as a standalone SVG document (UTF-8 text). Series are clipped to the plot area.
 *
 * @throws ShapeError / InputError for series of unequal lengths or bad options.
 */
export function lineChartSvg(series: Series[], options: ChartOptions): string {
  const c = layoutChart(series, options);
  const { plot } = c;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${c.width}" height="${c.height}" viewBox="0 0 ${c.width} ${c.height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${c.width}" height="${c.height}" fill="#ffffff"/>`);
  out.push(`<defs><clipPath id="plot-area"><rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}"/></clipPath></defs>`);
  out.push(`<text x="${n(c.width / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold" fill="${INK}">${escapeXml(c.title)}</text>`);
  out.push(`<g stroke="${GRID}" stroke-width="1">`);
  for (const t of c.yTicks) out.push(`<line x1="${plot.left}" y1="${n(t.at)}" x2="${plot.right}" y2="${n(t.at)}"/>`);
  for (const t of c.xTicks) out.push(`<line x1="${n(t.at)}" y1="${plot.top}" x2="${n(t.at)}" y2="${plot.bottom}"/>`);
  out.push('</g>');
  out.push(`<g stroke="${INK}" stroke-width="1">`);
  out.push(`<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}"/>`);
  out.push(`<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}"/>`);
  for (const t of c.yTicks) out.push(`<line x1="${plot.left - 4}" y1="${n(t.at)}" x2="${plot.left}" y2="${n(t.at)}"/>`);
  for (const t of c.xTicks) out.push(`<line x1="${n(t.at)}" y1="${plot.bottom}" x2="${n(t.at)}" y2="${plot.bottom + 4}"/>`);
  out.push('</g>');
  out.push(`<g fill="${INK}">`);
  for (const t of c.yTicks) out.push(`<text x="${plot.left - 7}" y="${n(t.at + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  for (const t of c.xTicks) out.push(`<text x="${n(t.at)}" y="${plot.bottom + 17}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  out.push(`<text x="${n((plot.left + plot.right) / 2)}" y="${c.height - 10}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`);
  const yMid = n((plot.top + plot.bottom) / 2);
  out.push(`<text x="18" y="${yMid}" text-anchor="middle" transform="rotate(-90 18 ${yMid})">${escapeXml(c.yLabel)}</text>`);
  out.push('</g>');
  out.push('<g clip-path="url(#plot-area)" fill="none" stroke-linejoin="round" stroke-linecap="round">');
  for (const s of c.series) {
    const lines = s.runs.filter((r) => r.length > 1);
    if (lines.length > 0) {
      const d = lines.map((r) => r.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n(x)} ${n(y)}`).join(' ')).join(' ');
      out.push(`<path d="${d}" stroke="${s.color}" stroke-width="${LINE_WIDTH}"/>`);
    }
    for (const r of s.runs.filter((r) => r.length === 1)) out.push(`<circle cx="${n(r[0]![0])}" cy="${n(r[0]![1])}" r="2.5" fill="${s.color}"/>`);
  }
  out.push('</g>');
  if (c.series.length > 0) {
    out.push(`<g font-size="11" fill="${INK}">`);
    c.series.forEach((s, i) => {
      const y = c.legend.y + i * LEGEND_ROW + LEGEND_ROW / 2;
      out.push(`<line x1="${c.legend.x}" y1="${y}" x2="${c.legend.x + LEGEND_SWATCH}" y2="${y}" stroke="${s.color}" stroke-width="3"/>`);
      out.push(`<text x="${c.legend.x + LEGEND_SWATCH + 6}" y="${y + 4}">${escapeXml(s.label)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Draws a laid-out chart on a canvas. */
function drawChart(c: ChartLayout): Canvas {
  const canvas = new Canvas(c.width, c.height);
  const ink: Rgb = parseHex(INK);
  const grid: Rgb = parseHex(GRID);
  const { plot } = c;
  const px = Math.round;
  for (const t of c.yTicks) canvas.fillRect(plot.left, px(t.at), plot.right, px(t.at) + 1, grid);
  for (const t of c.xTicks) canvas.fillRect(px(t.at), plot.top, px(t.at) + 1, plot.bottom, grid);
  canvas.fillRect(plot.left, plot.bottom, plot.right + 1, plot.bottom + 1, ink);
  canvas.fillRect(plot.left, plot.top, plot.left + 1, plot.bottom + 1, ink);
  for (const t of c.yTicks) {
    canvas.fillRect(plot.left - 4, px(t.at), plot.left, px(t.at) + 1, ink);
    canvas.text(t.label, plot.left - 7 - textWidth(t.label), px(t.at) - 3, ink);
  }
  for (const t of c.xTicks) {
    canvas.fillRect(px(t.at), plot.bottom, px(t.at) + 1, plot.bottom + 5, ink);
    canvas.text(t.label, px(t.at - textWidth(t.label) / 2), plot.bottom + 8, ink);
  }
  // A title too wide for the picture at twice the size is drawn at the tick labels' size.
  const titleScale = textWidth(c.title, TITLE_SCALE) <= c.width - 16 ? TITLE_SCALE : 1;
  canvas.text(c.title, px((c.width - textWidth(c.title, titleScale)) / 2), titleScale === TITLE_SCALE ? 12 : 16, ink, titleScale);
  canvas.text(c.xLabel, px((plot.left + plot.right - textWidth(c.xLabel)) / 2), c.height - 8 - 7, ink);
  canvas.text(c.yLabel, 14, px((plot.top + plot.bottom + textWidth(c.yLabel)) / 2), ink, 1, true);
  const clip = { left: plot.left + 1, top: plot.top, right: plot.right + 1, bottom: plot.bottom };
  for (const s of c.series) {
    const color = parseHex(s.color);
    for (const run of s.runs) {
      if (run.length === 1) canvas.dot(run[0]![0], run[0]![1], 2.5, color, clip);
      else canvas.polyline(run, color, LINE_WIDTH, clip);
    }
  }
  c.series.forEach((s, i) => {
    const y = c.legend.y + i * LEGEND_ROW;
    canvas.fillRect(c.legend.x, y + LEGEND_ROW / 2 - 1, c.legend.x + LEGEND_SWATCH, y + LEGEND_ROW / 2 + 2, parseHex(s.color));
    canvas.text(s.label, c.legend.x + LEGEND_SWATCH + 6, y + (LEGEND_ROW - 7) / 2, ink);
  });
  return canvas;
}

/**
 * The same chart as an 8-bit RGB PNG, drawn by the built-in rasteriser (anti-aliased lines, bitmap
 * font).
 *
 * @throws ShapeError / InputError for series of unequal lengths or bad options.
 */
export function lineChartPng(series: Series[], options: ChartOptions): Uint8Array {
  return drawChart(layoutChart(series, options)).toPng();
}
