export { DEFAULT_PORTS, freeStackPorts, REGION_PORT_OFFSET, regionNatsStoreDir, regionPorts, SERVICES, startLocalStack } from './stack';
export type { LocalStack, Region, RegionStack, ServiceName, StackOptions, StackPorts } from './stack';
export { loadDevCredentials } from './dev-credentials';
export {
  customerWritesFirst,
  DEMO_RECIPIENT,
  DEMO_TEMPLATE_RECIPIENT,
  sendDemoMessage,
  sendDemoTemplate,
  untilWindowOpen,
} from './demo-message';
export type { DevCredentials, RegionDemoTenant } from './dev-credentials';
