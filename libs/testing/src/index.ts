export {
  explainNatsServerStartFailure,
  freePort,
  isPortOpen,
  natsServerBinary,
  natsServerCommand,
  startNatsServer,
  withSbinOnPath,
} from './nats-server';
export type { NatsServerHandle } from './nats-server';
export { waitFor } from './wait-for';
export type { Truthy, WaitForOptions } from './wait-for';
export { waitForConsumersCaughtUp } from './consumers-caught-up';
export { bearerMetadata, callUnary } from './grpc-calls';
export type { UnaryMethodOf } from './grpc-calls';
export type { ConsumerInfoReader } from './consumers-caught-up';
export { describeContract } from './contract-suite';
export type { ContractSuiteBackend, ContractTest } from './contract-suite';
export { createTempDir } from './temp-dir';
export { tenantsYaml } from './tenants-yaml';
export type { TestApiKey, TestTenant } from './tenants-yaml';
export { startServiceProcess } from './service-process';
export type { ServiceProcess } from './service-process';
export { launchProcess, ProcessLaunchError, tsxEntryCommand } from './process-launcher';
export type { LaunchedProcess, LaunchOptions, ProcessExit, ProcessLaunchFailure, ProcessOutput, ReadinessProbe } from './process-launcher';
export { DEFAULT_FUZZ_RUNS, fuzzParameters, fuzzRuns } from './fuzz-parameters';
export type { FuzzParameters } from './fuzz-parameters';
export { createTestCertificates } from './test-certificates';
export type { TestCertificates } from './test-certificates';
export { SAMPLE_CONTENTS } from './sample-contents';
export {
  independentLeafHash,
  independentRootFromInclusion,
  independentVerifyCheckpoint,
  independentVerifyConsistency,
} from './independent-log-verifier';
export type { IndependentCheckpoint } from './independent-log-verifier';
