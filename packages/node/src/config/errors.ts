/** A bad command line or environment: the CLI prints the message and exits as etcd does. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
