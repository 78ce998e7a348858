/**
 * The client gRPC server's connection options from etcd's flags: --max-concurrent-streams
 * (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection) and the server keepalive pings
 * (--grpc-keepalive-interval / -timeout; as etcd's embed, either one at 0 switches pings off).
 * --grpc-keepalive-min-time is enforced by api/ping-policy.ts (grpc-js 1.14's server has no ping policy).
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import type { GrpcServerConfig } from '../config/index.js';

/** grpc-js takes timer delays as 32-bit signed ms (and treats its maximum as "never"). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function grpcServerOptions(config: GrpcServerConfig): ChannelOptions {
  const options: ChannelOptions = { 'grpc.max_concurrent_streams': config.maxConcurrentStreams };
  if (config.keepaliveIntervalMs > 0 && config.keepaliveTimeoutMs > 0) {
    options['grpc.keepalive_time_ms'] = Math.min(config.keepaliveIntervalMs, MAX_TIMER_MS - 1);
    options['grpc.keepalive_timeout_ms'] = Math.min(config.keepaliveTimeoutMs, MAX_TIMER_MS - 1);
  }
  return options;
}
