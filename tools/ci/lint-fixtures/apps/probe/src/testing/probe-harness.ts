// Probe: a test harness folder. The simulator and devDependencies are allowed here; tools/ci/lint-rules.test.ts
// expects no report at all.
import '@waygate/whatsapp-simulator';
import 'fast-check';
import '@opentelemetry/context-async-hooks';
