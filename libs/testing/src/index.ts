export { freePort, isPortOpen, natsServerBinary, startNatsServer } from './nats-server';
export type { NatsServerHandle } from './nats-server';
export { waitFor } from './wait-for';
export { createTempDir } from './temp-dir';
export { tenantsYaml } from './tenants-yaml';
export type { TestTenant } from './tenants-yaml';
export { startServiceProcess } from './service-process';
export type { ServiceProcess } from './service-process';
