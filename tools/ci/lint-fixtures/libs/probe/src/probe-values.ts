// Probe: a module the probe lib re-exports.

/** A value to re-export. */
export const PROBE_VALUE = 1;
