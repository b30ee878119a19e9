export { ChannelBridge } from './channel-bridge.js';
export { fingerprintSha256, HostKeyMismatchError, normalizePin } from './host-key.js';
export { openTunnel, type Tunnel, type TunnelOptions } from './tunnel.js';
export { createTunneledMysqlSource, type TunneledMysqlSourceOptions } from './tunneled-mysql-source.js';
