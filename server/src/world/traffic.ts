/**
 * Message counters by transport and type, kept in a typed array so the hot paths pay one increment;
 * the metrics module reads them on scrape.
 */
import { TRANSPORTS, type TransportName } from '../../../contract/ports.ts';
import { CLIENT_TYPE, SERVER_TYPE } from '../../../protocol/codec.ts';

/** Each transport's row in the counters (and a player sink's `transport`). */
export const TRANSPORT_INDEX: Readonly<Record<TransportName, number>> = { ws: 0, udp: 1 };

/** Type bytes go up to 127; one row of 128 counters per transport. */
const ROW = 128;

export class Traffic {
  /** received[transport * 128 + clientTypeByte] */
  readonly received = new Float64Array(TRANSPORTS.length * ROW);
  /** sent[transport * 128 + serverTypeByte] */
  readonly sent = new Float64Array(TRANSPORTS.length * ROW);

  /** Counts one inbound message of a known type. */
  in(transport: number, type: number): void {
    this.received[transport * ROW + type]!++;
  }

  /** Counts one outbound message. */
  out(transport: number, type: number): void {
    this.sent[transport * ROW + type]!++;
  }

  /** Counts `n` outbound messages of one type. */
  outMany(transport: number, type: number, n: number): void {
    this.sent[transport * ROW + type]! += n;
  }

  /** Current totals as (transport, type name, count) rows, for the metrics collector. */
  rows(direction: 'in' | 'out'): Array<{ transport: TransportName; type: string; count: number }> {
    const table = direction === 'in' ? CLIENT_TYPE : SERVER_TYPE;
    const counts = direction === 'in' ? this.received : this.sent;
    const rows: Array<{ transport: TransportName; type: string; count: number }> = [];
    for (let t = 0; t < TRANSPORTS.length; t++) {
      for (const [name, byte] of Object.entries(table)) {
        rows.push({ transport: TRANSPORTS[t]!, type: name, count: counts[t * ROW + byte]! });
      }
    }
    return rows;
  }
}
