// Attacker locations on a world map (GuardDuty's geolocation of remote addresses). The countries come from the
// world-atlas package (countries-110m.json) turned into GeoJSON by topojson-client, both served by this dashboard
// from node_modules: nothing is fetched from the internet. Place names are log data: drawn on canvas as text.
import { el, api, chart, pageHref } from './analyst-dom.js';

let world;
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = el('script', { src });
    s.addEventListener('load', resolve);
    s.addEventListener('error', () => reject(new Error(`could not load ${src}`)));
    document.head.append(s);
  });
}

/** Registers the world map with ECharts once per page load. */
async function worldMap() {
  world ??= (async () => {
    if (!window.topojson) await loadScript('/assets/vendor/topojson-client.min.js');
    const res = await fetch('/assets/vendor/countries-110m.json');
    if (!res.ok) throw new Error(`the map data /assets/vendor/countries-110m.json answered HTTP ${res.status}`);
    const topology = await res.json();
    const countries = topojson.feature(topology, topology.objects.countries);
    // Antarctica takes a fifth of the height and holds no attacker; rings crossing the antimeridian (Russia, Fiji)
    // are made continuous, or ECharts draws them as lines across the whole map
    countries.features = countries.features.filter((f) => f.properties?.name !== 'Antarctica');
    for (const f of countries.features) {
      const polygons = f.geometry?.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry?.type === 'MultiPolygon' ? f.geometry.coordinates : [];
      for (const ring of polygons.flat()) for (let i = 1; i < ring.length; i++) {
        const d = ring[i][0] - ring[i - 1][0];
        if (d > 180) ring[i][0] -= 360;
        else if (d < -180) ring[i][0] += 360;
      }
    }
    echarts.registerMap('world', countries);
  })().catch((e) => {
    world = undefined; // tried again on the next visit
    throw e;
  });
  return world;
}

/** Draws the map of attacker locations in the range into `body` (a failure is told in the panel, not the page). */
export async function attackMap(body) {
  try {
    await drawMap(body);
  } catch (e) {
    body.append(el('p', { class: 'lvl-high' }, `Could not draw the map: ${e.message}`));
  }
}

async function drawMap(body) {
  const [rows] = await Promise.all([api('/api/attack-map'), worldMap()]);
  const place = (r) => [r.city, r.country].filter(Boolean).join(', ') || 'unknown place';
  const c = chart(body, {
    tooltip: { trigger: 'item', renderMode: 'richText', formatter: (p) => (p.data?.row ? `${place(p.data.row)}: ${p.data.row.findings} findings from ${p.data.row.ips.join(', ')}` : String(p.name ?? '')) },
    geo: { map: 'world', roam: true, zoom: 1.1, itemStyle: { areaColor: '#243040', borderColor: '#3a4a5c' }, emphasis: { disabled: true }, select: { disabled: true } },
    series: [{
      name: 'attackers', type: 'scatter', coordinateSystem: 'geo', itemStyle: { color: '#e8384f' },
      symbolSize: (v) => 6 + Math.sqrt(v[2]) * 3,
      data: rows.map((r) => ({ name: place(r), value: [Number(r.lon), Number(r.lat), Number(r.findings)], row: r })),
    }],
  }, 'map');
  c.on('click', (p) => {
    const ip = p.data?.row?.ips?.[0];
    if (ip) location.hash = pageHref('ip', ip);
  });
  if (!rows.length) body.append(el('div', { class: 'empty' }, 'No finding with a remote location in this time range.'));
}
