/**
 * Computes the Nx project graph (which also primes the cache that @nx/enforce-module-boundaries needs; without it
 * the lint rule is silently skipped on a fresh clone) and checks the dependency direction: apps -> libs, never
 * libs -> apps. Writes dist/project-graph.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../..');
const graphFile = path.join(REPO_ROOT, 'dist', 'project-graph.json');
mkdirSync(path.dirname(graphFile), { recursive: true });
const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'nx'), ['graph', `--file=${graphFile}`], {
  cwd: REPO_ROOT,
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

interface ProjectGraph {
  graph: {
    nodes: Record<string, { type: string; data: { tags?: string[] } }>;
    dependencies: Record<string, { target: string; type: string }[]>;
  };
}
const { graph } = JSON.parse(readFileSync(graphFile, 'utf8')) as ProjectGraph;
const isApp = (name: string) => graph.nodes[name]?.type === 'app';
const problems: string[] = [];
for (const [source, dependencies] of Object.entries(graph.dependencies)) {
  if (!graph.nodes[source]) continue;
  const tags = graph.nodes[source].data.tags ?? [];
  if (tags.length === 0) problems.push(`${source} has no type:* tag`);
  for (const dependency of dependencies) {
    // The e2e suite declares the apps it starts as implicit dependencies; no code imports them.
    if (isApp(dependency.target) && !(source === 'e2e' && dependency.type === 'implicit')) {
      problems.push(`${source} depends on app ${dependency.target} (${dependency.type})`);
    }
  }
}
if (problems.length > 0) {
  console.error(`project graph problems:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
const apps = Object.keys(graph.nodes).filter(isApp).sort();
console.log(`project graph ok: ${Object.keys(graph.nodes).length} projects; apps ${apps.join(', ')} depend only on libs`);
