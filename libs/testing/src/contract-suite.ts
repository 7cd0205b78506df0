import { describe, test, type TestContext } from 'node:test';

/** The part of a storage backend that a contract suite's registration needs (`ContractBackend` of @waygate/storage). */
export interface ContractSuiteBackend {
  readonly name: string;
  /** Why this backend cannot run here (for example 'MONGODB_URI not set'); undefined when it runs. */
  readonly skip?: string;
}

/** Registers one test of a contract suite; `test` of node:test with the backend's skip applied. */
export type ContractTest = (name: string, fn: (t: TestContext) => void | Promise<void>) => void;

/**
 * Declares a storage port's contract suite for one backend, as `describe('<title> (<backend>)')`. The body registers
 * its tests through the `test` it is given. On a backend that cannot run here every test is still listed, skipped
 * with the reason, so the run's summary counts them as skipped instead of passing over them in silence (a skipped
 * `describe` alone is not counted by Node 20's summary).
 */
export function describeContract(backend: ContractSuiteBackend, title: string, body: (test: ContractTest) => void): void {
  const skip = backend.skip ?? false;
  void describe(`${title} (${backend.name})`, () => {
    body((name, fn) => void test(name, { skip }, fn));
  });
}
