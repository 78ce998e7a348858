/**
 * A self-signed certificate as etcd's --auto-tls makes one (pkg/transport SelfCert): an ECDSA P-256
 * key, subject and issuer O=etcd, valid one year, key usage digitalSignature + keyEncipherment,
 * extended key usage serverAuth, not a CA, and the listen URLs' hosts as SANs (IP or DNS). Node
 * can sign but not build certificates, so the DER is written here (RFC 5280, the fields above only).
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

const YEAR_MS = 365 * 24 * 3_600_000;

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const seq = (...c: Buffer[]): Buffer => der(0x30, ...c);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) groups.unshift((x & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

/** UTCTime (YYMMDDHHMMSSZ), valid for the years 1950–2049 that RFC 5280 gives it. */
function utcTime(ms: number): Buffer {
  const iso = new Date(ms).toISOString();
  return der(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`, 'latin1'));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  return Buffer.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

/** A fresh self-signed certificate for `hosts` (IPs and DNS names), PEM encoded with its PKCS#8 key. */
export function selfSignedCert(hosts: readonly string[], nowMs: number = Date.now()): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(der(0x31, seq(oid('2.5.4.10'), der(0x0c, Buffer.from('etcd', 'utf8')))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const sans = hosts.map((h) => (isIP(h) !== 0 ? der(0x87, ipBytes(h)) : der(0x82, Buffer.from(h, 'latin1'))));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ecdsaWithSha256,
    name,
    seq(utcTime(nowMs), utcTime(nowMs + YEAR_MS)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(
      extension('2.5.29.15', true, der(0x03, Buffer.from([0x05, 0xa0]))),
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
      extension('2.5.29.19', true, seq()),
      ...(sans.length > 0 ? [extension('2.5.29.17', false, seq(...sans))] : []),
    )),
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = seq(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const base64 = cert.toString('base64').replace(/.{1,64}/g, '$&\n');
  return { certPem: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
