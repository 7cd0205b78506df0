// Probe: a pure domain module that allowed-imports.ts imports.

/** Returns the report unchanged. */
export function applyReport(report: string): string {
  return report;
}
