export { DEFAULT_PORTS, SERVICES, startLocalStack } from './stack';
export type { LocalStack, ServiceName, StackOptions, StackPorts } from './stack';
export { loadDevCredentials } from './dev-credentials';
export { customerWritesFirst, DEMO_RECIPIENT } from './demo-message';
export type { DevCredentials } from './dev-credentials';
