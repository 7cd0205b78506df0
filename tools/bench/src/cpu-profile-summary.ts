/**
 * Summarises V8 CPU profiles (`npm run bench -- --cpu-prof <dir>` writes `<dir>/<service>/*.cpuprofile`) as text:
 * per service, the share of sampled time by area (node internals, each package, each Waygate project, GC, idle) and
 * the functions with the most self time. The flame summaries in tools/bench/README.md are its output.
 *
 *   npx tsx tools/bench/src/cpu-profile-summary.ts <dir> [--top 15]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The area a frame's code belongs to: a package, a Waygate project, node's internals, or V8's own entries. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program (native, unattributed)';
    return `native ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const project = /\/(apps|libs|tools)\/([^/]+)\//.exec(url);
  if (project) return `${project[1]}/${project[2]}`;
  return url;
}

/** Self time (ms) per frame id of one profile, from its samples and time deltas. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const byNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    byNode.set(profile.samples[i], (byNode.get(profile.samples[i]) ?? 0) + delta);
  }
  return byNode;
}

function summarise(name: string, profile: CpuProfile, top: number): string {
  const self = selfTimes(profile);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = (nodes.get(id) as ProfileNode).callFrame;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    if (area === 'idle') continue;
    busy += ms;
    const where =
      url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|apps|libs|tools)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  const wall = (profile.endTime - profile.startTime) / 1000;
  const pct = (ms: number): string => `${((100 * ms) / busy).toFixed(1).padStart(5)} %`;
  const lines = [
    `## ${name}: ${(busy / 1000).toFixed(1)} s busy of ${(wall / 1000).toFixed(1)} s sampled`,
    '',
    'by area (share of busy time):',
  ];
  for (const [area, ms] of [...byArea]
    .filter(([area]) => area !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    lines.push(`  ${pct(ms)}  ${area}`);
  lines.push('', 'functions by self time:');
  for (const [fn, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(ms)}  ${fn}`);
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 15;
  const dir = args[0];
  if (dir === undefined || !Number.isInteger(top) || top < 1) {
    process.stderr.write('usage: npx tsx tools/bench/src/cpu-profile-summary.ts <dir> [--top 15]\n');
    process.exit(2);
  }
  const files: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const full = path.join(at, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.cpuprofile')) files.push(full);
    }
  };
  walk(dir);
  for (const file of files.sort()) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`${summarise(path.relative(dir, file), profile, top)}\n\n`);
  }
}

if (require.main === module) main();
