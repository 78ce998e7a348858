/**
 * Builds the token provider `--auth-token` names (etcd's auth.NewTokenProvider): `simple`
 * (default) or `jwt,pub-key=…,priv-key=…,sign-method=…[,ttl=…]`. A bad option stops the member
 * at start, as etcd refuses to start.
 */
import { DEFAULT_JWT_TTL_MS, JwtTokens, readJwtKeys } from './jwt.js';
import { SimpleTokens, type TokenProvider } from './tokens.js';

export interface TokenProviderConfig {
  readonly authToken: string;
  readonly authTokenTtlSeconds: number;
  /** Monotonic milliseconds, for simple tokens' TTL. */
  readonly monotonicNowMs: () => number;
  /** Wall-clock milliseconds, for a JWT's exp. */
  readonly wallNowMs: () => number;
}

export class AuthTokenOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthTokenOptionError';
  }
}

export function createTokenProvider(config: TokenProviderConfig): TokenProvider {
  const [kind, ...rest] = config.authToken.split(',');
  const options = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new AuthTokenOptionError(`invalid --auth-token option ${JSON.stringify(part)}`);
    options.set(part.slice(0, eq), part.slice(eq + 1));
  }
  if (kind === 'simple') return new SimpleTokens({ ttlMs: config.authTokenTtlSeconds * 1000, nowMs: config.monotonicNowMs });
  if (kind === 'jwt') {
    try {
      const ttl = options.get('ttl');
      return new JwtTokens({
        signMethod: options.get('sign-method') ?? '',
        ...readJwtKeys(options),
        ttlMs: ttl === undefined ? DEFAULT_JWT_TTL_MS : parseGoDurationMs(ttl),
        nowMs: config.wallNowMs,
      });
    } catch (err) {
      throw new AuthTokenOptionError(`failed to create JWT token provider: ${(err as Error).message}`);
    }
  }
  throw new AuthTokenOptionError(`unknown token type: ${kind ?? ''}`);
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "5m", "30s", "1h30m": Go's time.ParseDuration for the units a token TTL needs. */
function parseGoDurationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`invalid ttl ${JSON.stringify(text)}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}
