/**
 * Attacker locations for the world map (issue 15, item 10): GuardDuty's geolocation of the remote address of each
 * finding in the range, one point per place. Coordinates are the finding's own (attacker-influenced data, like
 * everything in a log): only numbers inside the globe are kept. The map itself (countries) is world-atlas's
 * countries-110m.json, served from node_modules with topojson-client (analyst-routes.ts), never fetched from the
 * internet.
 */
import type { Store } from '../store/index.js';
import type { Range } from './queries.js';

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;

export async function attackLocations(s: Store, r: Range) {
  return s.query(`SELECT country, city, round(lat, 2) AS lat, round(lon, 2) AS lon, count(*)::INTEGER AS findings, max(severity) AS severity,
      list(DISTINCT remote_ip ORDER BY remote_ip)[1:20] AS ips
    FROM findings WHERE last_seen BETWEEN ${T(1)} AND ${T(2)} AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 AND isfinite(lat) AND isfinite(lon)
    GROUP BY country, city, round(lat, 2), round(lon, 2) ORDER BY findings DESC, country, city LIMIT 500`, [r.from, r.to]);
}
