/**
 * Owns `flow_interfaces`: the numbers flows carry in `iface` for their (ENI, account, region). An ENI belongs to
 * one account and region, so the table is as small as the set of interfaces seen, and flows hold one small
 * integer instead of three strings per row (strings cost most of DuckDB's ingest time even when constant).
 * The whole dictionary is held in memory (read back on open); new entries are written just before the flow
 * rows that use them are committed (flow-writer.ts), so a committed flow never names a missing interface.
 * Retention drops entries no flow uses any more and reads the dictionary again (`reload`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { PlaceMap, type FlowPlace } from './store-rows.js';

export class InterfaceDictionary {
  /** (ENI, account, region) → iface */
  #ids = new PlaceMap<number>();
  #next = 0;
  /** entries not yet written to the table */
  #pending: { iface: number; eni: string | null; account: string | null; region: string | null }[] = [];

  /** Reads the table (the store's open and reopen; after retention). */
  async reload(conn: DuckDBConnection): Promise<void> {
    this.#ids = new PlaceMap<number>();
    this.#pending = [];
    this.#next = 0;
    const rows = (await conn.runAndReadAll('SELECT iface, eni, account, region FROM flow_interfaces')).getRowObjectsJson();
    for (const r of rows) {
      const iface = Number(r.iface);
      this.#ids.set({ eni: r.eni as string | null, account: r.account as string | null, region: r.region as string | null }, iface);
      if (iface >= this.#next) this.#next = iface + 1;
    }
  }

  /** The iface number of each place (new interfaces get the next numbers), then of each row: `out[r]` for rows 0..rows-1. */
  idsOf(places: readonly FlowPlace[], place: Uint32Array, rows: number, out: Uint32Array): void {
    const ids = places.map((p) => this.#id(p));
    for (let r = 0; r < rows; r++) out[r] = ids[place[r] as number] as number;
  }

  #id(p: FlowPlace): number {
    let id = this.#ids.get(p);
    if (id === undefined) {
      id = this.#next++;
      this.#ids.set(p, id);
      this.#pending.push({ iface: id, eni: p.eni, account: p.account, region: p.region });
    }
    return id;
  }

  /** Writes the new entries (committed at once: before the flows that name them). */
  async write(conn: DuckDBConnection): Promise<void> {
    if (this.#pending.length === 0) return;
    const a = await conn.createAppender('flow_interfaces');
    try {
      for (const p of this.#pending) {
        a.appendUInteger(p.iface);
        for (const v of [p.eni, p.account, p.region]) {
          if (v === null) a.appendNull();
          else a.appendVarchar(v);
        }
        a.endRow();
      }
      a.flushSync();
      // committed: never written twice, even if closing the appender fails
      this.#pending = [];
    } finally {
      a.closeSync();
    }
  }
}
