// ECharts panels (canvas; tooltips in richText mode, never HTML). Colours are a function of the series name
// (the same series keeps its colour across reloads and ranges); count axes tick on whole numbers; legends
// scroll on one line above the plot (or are cut to their column beside a pie) so they never cover it; every
// time chart narrows the global range when dragged across.
import { el, charts, setRange } from './core.js';

/** severity bands keep their order (low → critical) and their colours */
export const BANDS = { 'low (≤4)': '#5b8ff9', 'medium (5–7)': '#f6bd16', 'high (8–11)': '#ff8a3d', 'critical (12+)': '#e8384f', low: '#5b8ff9', medium: '#f6bd16', high: '#ff8a3d', critical: '#e8384f' };
/** fixed colours of known series names */
const FIXED = { cloudtrail: '#4e79a7', guardduty: '#f28e2b', vpc: '#59a14f', vpcflow: '#59a14f', other: '#bab0ac', bytes: '#4aa3ff', packets: '#9b7bff', flows: '#36c5a0', rejected: '#ff5c5c', ACCEPT: '#36c5a0', REJECT: '#ff5c5c', NODATA: '#8a97a6', SKIPDATA: '#b0a060', ...BANDS };
// distinct hues (Tableau 10 and four more), so two names rarely look alike even when their hashes differ
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#17becf', '#bcbd22', '#d62728', '#9467bd'];

/**
 * A series' colour: fixed for known names, else from a hash of the name (FNV-1a with a final mix, so similar
 * names spread over the palette), never from its position. Two names can share a colour (14 colours); a pie's
 * slices are outlined so neighbours stay apart.
 */
export function colourOf(name) {
  const key = String(name);
  if (key in FIXED) return FIXED[key];
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul((h ^ (h >>> 16)) >>> 0, 0x85ebca6b) >>> 0;
  h = Math.imul((h ^ (h >>> 13)) >>> 0, 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

const LEGEND_TOP = { type: 'scroll', top: 0, left: 10, right: 10, textStyle: { color: '#aab' }, pageTextStyle: { color: '#aab' } };

export function chart(body, option, tall = false) {
  const box = el('div', { class: `chart${tall ? ' tall' : ''}` });
  body.append(box);
  const c = echarts.init(box, 'dark', { renderer: 'canvas' });
  if (option.series?.[0]?.type === 'pie') {
    // legend names end before the doughnut's left edge (center 72%, outer radius 70% of half the shorter side)
    const [w, h] = [box.clientWidth, box.clientHeight];
    option.legend.textStyle.width = Math.max(40, Math.floor(0.72 * w - 0.35 * Math.min(w, h) - 50));
  }
  // the plot starts below a one-line legend
  c.setOption({ backgroundColor: 'transparent', tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 60, right: 20, top: option.legend ? 44 : 30, bottom: 30 }, ...option });
  charts.push(c);
  if (option.xAxis?.type === 'time') zoomable(c);
  return c;
}

/** Dragging across a time chart sets the global range to what was dragged over (history entry: back undoes it). */
function zoomable(c) {
  c.setOption({ brush: { xAxisIndex: 0, brushType: 'lineX', brushMode: 'single', throttleType: 'debounce' }, toolbox: { show: false } });
  c.dispatchAction({ type: 'takeGlobalCursor', key: 'brush', brushOption: { brushType: 'lineX', brushMode: 'single' } });
  c.on('brushEnd', (e) => {
    const range = e.areas?.[0]?.coordRange;
    if (range && range[1] > range[0]) setRange(range[0], range[1]);
  });
}

/** Stacked series from rows {t, k, n}; counts, so the axis ticks on whole numbers. */
export function stacked(rows, type = 'bar') {
  const present = new Set(rows.map((r) => r.k));
  // severity bands in their order, other keys by name (the same order on every load)
  const keys = [...Object.keys(BANDS).filter((k) => present.has(k)), ...[...present].filter((k) => !(k in BANDS)).sort()];
  const times = [...new Set(rows.map((r) => Number(r.t)))].sort((a, b) => a - b);
  const sum = new Map();
  for (const r of rows) sum.set(`${r.k}\u0000${Number(r.t)}`, (sum.get(`${r.k}\u0000${Number(r.t)}`) ?? 0) + Number(r.n));
  return {
    legend: LEGEND_TOP,
    xAxis: { type: 'time' },
    yAxis: { type: 'value', minInterval: 1 },
    series: keys.map((k) => ({ name: k, type, stack: 'all', itemStyle: { color: colourOf(k) }, ...(type === 'line' ? { areaStyle: {}, lineStyle: { color: colourOf(k) } } : {}), data: times.map((t) => [t, sum.get(`${k}\u0000${t}`) ?? 0]) })),
  };
}

/** A doughnut with its legend in the left column, names cut to that column's width. */
export function pie(rows) {
  const data = rows.map((r) => ({ name: r.k, value: Number(r.n), itemStyle: { color: colourOf(r.k) } }));
  return {
    tooltip: { trigger: 'item', renderMode: 'richText' },
    legend: { type: 'scroll', orient: 'vertical', left: 0, top: 10, bottom: 10, width: '40%', textStyle: { color: '#aab', width: 150, overflow: 'truncate' }, pageTextStyle: { color: '#aab' } },
    series: [{ type: 'pie', radius: ['35%', '70%'], center: ['72%', '50%'], label: { show: false }, itemStyle: { borderColor: '#182028', borderWidth: 2 }, data }],
  };
}

/** the options of a time series chart's legend (one scrolling line above the plot) */
export const legendTop = LEGEND_TOP;
