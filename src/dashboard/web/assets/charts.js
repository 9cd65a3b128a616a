// ECharts panels (canvas; tooltips in richText mode, never HTML).
import { el, charts } from './core.js';

export function chart(body, option, tall = false) {
  const box = el('div', { class: `chart${tall ? ' tall' : ''}` });
  body.append(box);
  const c = echarts.init(box, 'dark', { renderer: 'canvas' });
  c.setOption({ backgroundColor: 'transparent', tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 60, right: 20, top: 30, bottom: 30 }, ...option });
  charts.push(c);
  return c;
}
/** Stacked series from rows {t, k, n}. */
export const BANDS = { 'low (≤4)': '#5b8ff9', 'medium (5–7)': '#f6bd16', 'high (8–11)': '#ff8a3d', 'critical (12+)': '#e8384f', low: '#5b8ff9', medium: '#f6bd16', high: '#ff8a3d', critical: '#e8384f' };
export function stacked(rows, type = 'bar') {
  const present = new Set(rows.map((r) => r.k));
  // severity bands keep their order and colour (low → critical); other keys in order of appearance
  const keys = [...Object.keys(BANDS).filter((k) => present.has(k)), ...[...present].filter((k) => !(k in BANDS))];
  const times = [...new Set(rows.map((r) => Number(r.t)))].sort((a, b) => a - b);
  return {
    legend: { top: 0, textStyle: { color: '#aab' } },
    xAxis: { type: 'time' },
    yAxis: { type: 'value' },
    series: keys.map((k) => ({ name: k, type, stack: 'all', ...(BANDS[k] ? { itemStyle: { color: BANDS[k] } } : {}), areaStyle: type === 'line' ? {} : undefined, data: times.map((t) => [t, rows.filter((r) => r.k === k && Number(r.t) === t).reduce((s, r) => s + Number(r.n), 0)]) })),
  };
}
export function pie(rows) {
  return { tooltip: { trigger: 'item', renderMode: 'richText' }, legend: { type: 'scroll', orient: 'vertical', left: 0, textStyle: { color: '#aab' } }, series: [{ type: 'pie', radius: ['35%', '70%'], center: ['72%', '50%'], label: { show: false }, data: rows.map((r) => ({ name: r.k, value: Number(r.n) })) }] };
}
