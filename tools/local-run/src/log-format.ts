const COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[32m', '\x1b[34m', '\x1b[96m', '\x1b[95m', '\x1b[93m'];
const RESET = '\x1b[0m';
const DROPPED_FIELDS = new Set(['time', 'level', 'msg', 'service', 'region', 'pid', 'hostname', 'span_id']);

/** A readable one-line rendering of a JSON log line, prefixed with its process name; other lines pass through. */
export function formatLogLine(name: string, line: string, colorIndex: number, useColor: boolean): string {
  const prefix = useColor ? `${COLORS[colorIndex % COLORS.length]}${name.padEnd(15)}${RESET}` : name.padEnd(15);
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  if (!parsed) return `${prefix} ${line}`;
  const level = String(parsed.level ?? 'info')
    .toUpperCase()
    .padEnd(5);
  const fields = Object.entries(parsed)
    .filter(([key]) => !DROPPED_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${prefix} ${level} ${String(parsed.msg ?? '')}${fields ? `  ${fields}` : ''}`;
}
