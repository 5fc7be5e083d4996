/** Inline SVG charts for the lab report: no scripts, no external assets, numbers in data-* attributes. */

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#000';
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface BarGroup {
  readonly label: string;
  readonly bars: readonly { readonly key: string; readonly value: number }[];
}

/** Grouped bars: one group per mode, one bar per pod, the count written above each bar. */
export function groupedBarChart(
  groups: readonly BarGroup[],
  options: { title: string; chart: string },
): string {
  const keys = [...new Set(groups.flatMap((group) => group.bars.map((bar) => bar.key)))];
  const max = Math.max(1, ...groups.flatMap((group) => group.bars.map((bar) => bar.value)));
  const barWidth = 22;
  const groupWidth = keys.length * barWidth + 24;
  const height = 220;
  const plot = 160;
  const width = Math.max(320, 50 + groups.length * groupWidth);
  const parts: string[] = [];
  groups.forEach((group, g) => {
    const x0 = 50 + g * groupWidth;
    for (const bar of group.bars) {
      const k = keys.indexOf(bar.key);
      const h = (bar.value / max) * plot;
      const x = x0 + k * barWidth;
      const y = 20 + plot - h;
      parts.push(
        `<rect class="bar" x="${x}" y="${y.toFixed(1)}" width="${barWidth - 3}" height="${h.toFixed(1)}" fill="${colorOf(k)}" data-mode="${escapeXml(group.label)}" data-pod="${escapeXml(bar.key)}" data-value="${bar.value}"><title>${escapeXml(`${group.label} ${bar.key}: ${bar.value}`)}</title></rect>`,
        `<text class="bar-label" x="${x + (barWidth - 3) / 2}" y="${(y - 3).toFixed(1)}" font-size="9" text-anchor="middle">${bar.value}</text>`,
      );
    }
    parts.push(
      `<text x="${x0 + (keys.length * barWidth) / 2}" y="${height - 20}" font-size="11" text-anchor="middle">${escapeXml(group.label)}</text>`,
    );
  });
  return svg(width, height, options, [
    axisLines(50, 20, plot, width - 60),
    ...parts,
    legend(keys, 50, height - 6),
  ]);
}

export interface Series {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

/** Lines on linear axes from zero; each series a path with its points in data-points. */
export function lineChart(
  series: readonly Series[],
  options: { title: string; chart: string; xLabel: string; yLabel: string; yMax?: number },
): string {
  const width = 460;
  const height = 240;
  const plot = { x: 50, y: 20, w: 390, h: 170 };
  const xMax = Math.max(1e-9, ...series.flatMap((s) => s.points.map(([x]) => x)));
  const yMax = options.yMax ?? Math.max(1, ...series.flatMap((s) => s.points.map(([, y]) => y)));
  const sx = (x: number) => plot.x + (x / xMax) * plot.w;
  const sy = (y: number) => plot.y + plot.h - (y / yMax) * plot.h;
  const paths = series.map((s, i) => {
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join('');
    return `<path class="series" d="${d}" fill="none" stroke="${colorOf(i)}" stroke-width="1.5" data-series="${escapeXml(s.label)}" data-points="${escapeXml(JSON.stringify(s.points))}"><title>${escapeXml(s.label)}</title></path>`;
  });
  const labels = [
    `<text x="${plot.x + plot.w / 2}" y="${height - 22}" font-size="10" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text x="10" y="${plot.y + plot.h / 2}" font-size="10" transform="rotate(-90 10 ${plot.y + plot.h / 2})" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    ...ticks(xMax).map(
      (t) =>
        `<text x="${sx(t).toFixed(1)}" y="${plot.y + plot.h + 11}" font-size="8" text-anchor="middle">${formatTick(t)}</text>`,
    ),
    ...ticks(yMax).map(
      (t) =>
        `<text x="${plot.x - 3}" y="${(sy(t) + 3).toFixed(1)}" font-size="8" text-anchor="end">${formatTick(t)}</text>`,
    ),
  ];
  return svg(width, height, options, [
    axisLines(plot.x, plot.y, plot.h, plot.w),
    ...paths,
    ...labels,
    legend(
      series.map((s) => s.label),
      plot.x,
      height - 6,
    ),
  ]);
}

function svg(
  width: number,
  height: number,
  options: { title: string; chart: string },
  body: string[],
): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${options.chart}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}"><title>${escapeXml(options.title)}</title>${body.join('')}</svg>`;
}

function axisLines(x: number, y: number, h: number, w: number): string {
  return `<path d="M${x},${y}V${y + h}H${x + w}" stroke="#444" fill="none"/>`;
}

function legend(labels: readonly string[], x: number, y: number): string {
  return labels
    .map(
      (label, i) =>
        `<rect x="${x + i * 90}" y="${y - 8}" width="8" height="8" fill="${colorOf(i)}"/><text x="${x + i * 90 + 11}" y="${y}" font-size="9">${escapeXml(label)}</text>`,
    )
    .join('');
}

/** Five evenly spaced tick values from 0 to max. */
function ticks(max: number): number[] {
  return [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  return value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2);
}
