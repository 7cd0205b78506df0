export { freePort, natsServerBinary, startNatsServer } from './nats-server';
export type { NatsServerHandle } from './nats-server';
export { waitFor } from './wait-for';
export { createTempDir } from './temp-dir';
