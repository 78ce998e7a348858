/** Authentication and RBAC: users, roles, permissions, the auth switch and tokens (etcd's auth package). */
export { AuthStore, ROOT_ROLE, ROOT_USER } from './auth-store.js';
export { AuthGate, type AppliedLog } from './gate.js';
export { DEFAULT_JWT_TTL_MS, JwtTokens, type JwtOptions } from './jwt.js';
export { effectiveBcryptCost, hashPassword, verifyPassword } from './password.js';
export { AuthTokenOptionError, createTokenProvider, type TokenProviderConfig } from './provider.js';
export { compareBound, mergePerms, permits, type KeyInterval, type MergedPerms } from './range-perms.js';
export { DEFAULT_AUTH_TOKEN_TTL_SECONDS, SimpleTokens, type AuthInfo, type SimpleTokenOptions, type TokenProvider } from './tokens.js';
