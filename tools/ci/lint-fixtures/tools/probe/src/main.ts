// Probe: a tool. devDependencies are fine in tools/; `export *` is still banned.
import 'esbuild';
import 'fast-check';
export * from './probe-main-values'; // expect: no-restricted-syntax
