/**
 * Goal: the peer client-certificate SAN rule is etcd 3.4's checkCertSAN: no SANs pass; a matching IP SAN passes
 * without lookups; IP SANs alone that miss give Go's x509 error; DNS SANs pass by reverse lookup (name or `*.`
 * wildcard) or forward lookup, and otherwise give etcd's "does not match any of DNSNames" with the last lookup error.
 * Method: checkClientSan with a scripted resolver; sansOf on an openssl-made certificate; texts as etcd 3.4.23 logged
 * them for the same certificates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { canonicalIp, checkClientSan, sansOf, type SanResolver } from '../../src/peer/client-san.js';

const notFound = (): Error => Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });

/** /etc/hosts as here: 127.0.0.1 is localhost; nothing else resolves. Records every lookup. */
function resolver(): SanResolver & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    reverse: (ip) => {
      lookups.push(`reverse ${ip}`);
      return ip === '127.0.0.1' ? Promise.resolve(['localhost']) : Promise.reject(notFound());
    },
    forward: (name) => {
      lookups.push(`forward ${name}`);
      return name === 'localhost' ? Promise.resolve(['127.0.0.1']) : Promise.reject(notFound());
    },
  };
}

describe('checkClientSan', () => {
  it('passes a certificate without SANs', async () => {
    expect(await checkClientSan({ ips: [], dnsNames: [] }, '10.9.9.9', resolver())).toBeUndefined();
  });

  it('passes a matching IP SAN without looking anything up, even beside a DNS SAN that resolves nowhere', async () => {
    const r = resolver();
    expect(await checkClientSan({ ips: ['127.0.0.1'], dnsNames: ['nothere.invalid'] }, '::ffff:127.0.0.1', r)).toBeUndefined();
    expect(r.lookups).toEqual([]);
  });

  it("refuses IP SANs that miss with Go's x509 text", async () => {
    expect(await checkClientSan({ ips: ['10.1.2.3'], dnsNames: [] }, '127.0.0.1', resolver()))
      .toBe('x509: certificate is valid for 10.1.2.3, not 127.0.0.1');
    expect(await checkClientSan({ ips: ['10.1.2.3', '::1'], dnsNames: [] }, '127.0.0.1', resolver()))
      .toBe('x509: certificate is valid for 10.1.2.3, ::1, not 127.0.0.1');
  });

  it('passes a DNS SAN that the remote IP reverse-resolves to, or that resolves to the remote IP', async () => {
    expect(await checkClientSan({ ips: [], dnsNames: ['localhost'] }, '127.0.0.1', resolver())).toBeUndefined();
    expect(await checkClientSan({ ips: [], dnsNames: ['*.localhost'] }, '127.0.0.1', { ...resolver(), reverse: () => Promise.resolve(['peer.localhost.']) })).toBeUndefined();
    const forwardOnly: SanResolver = { reverse: () => Promise.reject(notFound()), forward: () => Promise.resolve(['10.0.0.1', '127.0.0.1']) };
    expect(await checkClientSan({ ips: ['10.1.2.3'], dnsNames: ['peer.example'] }, '127.0.0.1', forwardOnly)).toBeUndefined();
  });

  it("refuses DNS SANs that miss with etcd's text and the last lookup error", async () => {
    expect(await checkClientSan({ ips: ['10.1.2.3'], dnsNames: ['nothere.invalid'] }, '127.0.0.1', resolver()))
      .toBe('tls: "127.0.0.1" does not match any of DNSNames ["nothere.invalid"] (lookup nothere.invalid: no such host)');
    // The reverse lookup answered and no forward lookup ran (only a wildcard): no error to add, as etcd's.
    expect(await checkClientSan({ ips: [], dnsNames: ['*.localdomain'] }, '127.0.0.1', resolver()))
      .toBe('tls: "127.0.0.1" does not match any of DNSNames ["*.localdomain"]');
    expect(await checkClientSan({ ips: [], dnsNames: ['a.invalid', 'b.invalid'] }, '127.0.0.1', resolver()))
      .toBe('tls: "127.0.0.1" does not match any of DNSNames ["a.invalid" "b.invalid"] (lookup b.invalid: no such host)');
  });
});

describe('sansOf and canonicalIp', () => {
  it('reads IP and DNS SANs from a certificate, IPv6 compressed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'corvid-san-'));
    try {
      const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k', '-out', 'c', '-days', '1', '-subj', '/CN=x', '-addext', 'subjectAltName=IP:10.1.2.3,IP:::1,DNS:localhost,DNS:*.example');
      expect(sansOf(readFileSync(join(dir, 'c')))).toEqual({ ips: ['10.1.2.3', '::1'], dnsNames: ['localhost', '*.example'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(canonicalIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
  });
});
