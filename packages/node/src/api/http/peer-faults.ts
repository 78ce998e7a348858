/**
 * Fault injection for tests (CORVID_EXPERIMENTAL_FAULT_INJECTION=1 only): `POST
 * /corvid/faults/peers` with `{"isolate":["<member id hex>", ...]}` makes this member drop every
 * peer message to and from those members; `{"isolate":[]}` heals. Partition tests isolate a
 * member on both sides. Never served unless the variable is set.
 */
import type http from 'node:http';

export const PEER_FAULTS_PATH = '/corvid/faults/peers';
const MAX_BODY_BYTES = 64 * 1024;

export interface PeerFaults {
  isolate(ids: readonly bigint[]): void;
}

export async function servePeerFaults(faults: PeerFaults, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const reply = (code: number, body: unknown): void => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST') return reply(405, { error: 'POST only' });
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY_BYTES) return reply(413, { error: 'body too large' });
  }
  let ids: bigint[];
  try {
    const parsed = JSON.parse(body) as { isolate?: unknown };
    if (!Array.isArray(parsed.isolate) || !parsed.isolate.every((v) => typeof v === 'string' && /^[0-9a-f]{1,16}$/.test(v))) throw new Error('bad');
    ids = (parsed.isolate as string[]).map((hex) => BigInt(`0x${hex}`));
  } catch {
    return reply(400, { error: 'expected {"isolate":["<member id hex>", ...]}' });
  }
  faults.isolate(ids);
  return reply(200, { isolate: ids.map((id) => id.toString(16)) });
}
