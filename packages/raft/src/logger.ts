/**
 * The minimal logger the core accepts. Messages are constant strings (grep-able); fields reuse etcd's names.
 * The only side effect the core performs is calling it.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const SILENT_LOGGER: Logger = {
  debug() {},
  info() {},
  warn() {},
};
