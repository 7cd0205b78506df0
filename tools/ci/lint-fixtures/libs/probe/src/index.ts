// Probe: a lib's public entry. `export *` is banned everywhere; so are the simulator and devDependencies in libs.
export * from './probe-values'; // expect: no-restricted-syntax
export * as values from './probe-values'; // expect: no-restricted-syntax
export { PROBE_VALUE } from './probe-values';
import '@waygate/whatsapp-simulator'; // expect: no-restricted-imports
import 'esbuild'; // expect: import-x/no-extraneous-dependencies
