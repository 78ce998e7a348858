/**
 * --auto-tls: without --cert-file/--key-file, the client listeners serve a self-signed certificate
 * for the --listen-client-urls hosts, made once into `<data-dir>/fixtures/client/{cert,key}.pem`
 * and reused at later starts, as etcd 3.4's (clients then skip verification or trust that file).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, TlsConfig } from '../config/index.js';
import type { Logger } from '../util/logger.js';
import { selfSignedCert } from '../util/self-signed-cert.js';

export function clientTlsOf(config: Pick<Config, 'autoTls' | 'clientTls' | 'dataDir' | 'listenClientUrls'>, logger: Logger): TlsConfig {
  if (!config.autoTls) return config.clientTls;
  if (config.clientTls.certFile !== '' || config.clientTls.keyFile !== '') {
    logger.warn('ignoring client auto TLS since certs given');
    return config.clientTls;
  }
  const dir = join(config.dataDir, 'fixtures', 'client');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const hosts = [...new Set(config.listenClientUrls.map((u) => new URL(u).hostname.replace(/^\[|\]$/g, '')))];
    const { certPem, keyPem } = selfSignedCert(hosts);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
    writeFileSync(certFile, certPem);
    logger.info('made a self-signed client certificate (--auto-tls)', { cert: certFile, hosts });
  }
  return { ...config.clientTls, certFile, keyFile };
}
