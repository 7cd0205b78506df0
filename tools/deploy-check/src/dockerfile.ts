/** One instruction of a Dockerfile: `COPY --from=build /a ./b` -> { keyword: 'COPY', args: '--from=build /a ./b' }. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** A build stage: its `FROM` image (build args substituted), optional `AS` name and its instructions. */
export interface DockerStage {
  readonly image: string;
  readonly name?: string;
  readonly instructions: DockerInstruction[];
}

export interface ParsedDockerfile {
  /** `ARG`s before the first `FROM` with their defaults (usable in `FROM` lines). */
  readonly globalArgs: Record<string, string>;
  readonly stages: DockerStage[];
}

/**
 * Parses a Dockerfile far enough for static checks: comments and parser directives dropped, `\` continuations
 * joined, instructions grouped by stage, `${ARG}` / `$ARG` in `FROM` replaced with the global ARG defaults.
 * Heredocs are not supported (the checks reject what they cannot read rather than guess).
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: DockerInstruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (pending !== '' && line.trim().startsWith('#')) return; // comments inside a continuation
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^([A-Za-z]+)\s*(.*)$/.exec(full);
    if (!match) throw new Error(`line ${startLine}: cannot read "${full}"`);
    if (/<<-?\s*["']?[A-Z]/.test(match[2]) && ['RUN', 'COPY'].includes(match[1].toUpperCase())) {
      throw new Error(`line ${startLine}: heredocs are not supported by this check`);
    }
    instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: startLine });
  });
  if (pending !== '') throw new Error('the Dockerfile ends inside a line continuation');

  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name, ...rest] = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--platform='));
      if ((as !== undefined && as.toUpperCase() !== 'AS') || (as !== undefined && !name) || rest.length > 0) {
        throw new Error(`line ${instruction.line}: FROM <image> [AS <name>] expected, got "${instruction.args}"`);
      }
      const resolved = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, arg: string) => globalArgs[arg] ?? `\${${arg}}`);
      stages.push({ image: resolved, ...(name ? { name } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`line ${instruction.line}: only ARG may come before the first FROM`);
      const [arg, value = ''] = instruction.args.split('=');
      globalArgs[arg] = value;
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The tag of an image reference (`node:20` -> `20`), undefined without one; a digest counts as pinned (`@sha256:`). */
export function imageTag(image: string): { tag?: string; digest?: string } {
  const [reference, digest] = image.split('@');
  const lastSlash = reference.lastIndexOf('/');
  const colon = reference.indexOf(':', lastSlash + 1);
  return { ...(colon >= 0 ? { tag: reference.slice(colon + 1) } : {}), ...(digest ? { digest } : {}) };
}

/** Where a runtime `COPY --from=<stage>` may take files from: the bundle output, production node_modules, package.json. */
const RUNTIME_SOURCES = [
  /^\/out\/service\/?$/,
  /^(\/[\w.-]+)*\/?dist\/apps\/[\w-]+\/?$/,
  /^(\/[\w.-]+)*\/node_modules\/?$/,
  /^(\/[\w.-]+)*\/package\.json$/,
];

/** Splits `COPY [--flags] <src>... <dest>` into flags, sources and destination (exec/JSON form not supported). */
function copyParts(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [flag, value = ''] = words.shift()!.slice(2).split('=');
    flags[flag] = value;
  }
  const dest = words.pop() ?? '';
  return { flags, sources: words, dest };
}

/**
 * Static checks of the service image's Dockerfile (deploy/README.md, "The image"); returns one message per problem.
 * - multi-stage, and every base image pinned by a tag other than `latest` (or a digest);
 * - the final stage copies only the built bundle, production node_modules and package.json from earlier stages,
 *   never from the build context; runs nothing (no RUN: it needs no shell); ends with a numeric non-root USER;
 *   starts in exec form;
 * - production dependencies are installed with `npm ci --omit=dev`;
 * - no HEALTHCHECK (Kubernetes probes gRPC health; Docker's would need a client binary in the image).
 */
export function dockerfileProblems(dockerfile: ParsedDockerfile): string[] {
  const problems: string[] = [];
  const { stages } = dockerfile;
  if (stages.length < 2) problems.push(`not multi-stage: ${stages.length} stage(s)`);
  const names = new Set<string>();
  for (const stage of stages) {
    if (!names.has(stage.image)) {
      const { tag, digest } = imageTag(stage.image);
      if (stage.image.includes('${')) problems.push(`FROM ${stage.image}: unresolved build arg`);
      else if (!digest && (tag === undefined || tag === 'latest'))
        problems.push(`FROM ${stage.image}: pin a tag other than latest (or a digest)`);
    }
    if (stage.name) names.add(stage.name);
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'HEALTHCHECK' && instruction.args.toUpperCase() !== 'NONE') {
        problems.push(`line ${instruction.line}: HEALTHCHECK (Kubernetes probes gRPC health; none in the image)`);
      }
    }
  }
  const runtime = stages[stages.length - 1];
  if (!runtime) return [...problems, 'no FROM'];
  const copiedStages = new Set<string>();
  for (const instruction of runtime.instructions) {
    const at = `line ${instruction.line} (final stage)`;
    if (instruction.keyword === 'RUN') problems.push(`${at}: RUN in the runtime stage (it must need no shell)`);
    if (instruction.keyword === 'ADD') problems.push(`${at}: ADD in the runtime stage; COPY the built output from a build stage`);
    if (instruction.keyword === 'COPY') {
      const { flags, sources } = copyParts(instruction.args);
      if (!flags.from || !names.has(flags.from) || flags.from === runtime.name) {
        problems.push(`${at}: COPY ${instruction.args} takes files from the build context; copy only built output from an earlier stage`);
        continue;
      }
      copiedStages.add(flags.from);
      for (const source of sources) {
        if (!RUNTIME_SOURCES.some((allowed) => allowed.test(source))) {
          problems.push(`${at}: COPY of ${source} from ${flags.from}: only the bundle, node_modules and package.json belong in the image`);
        }
      }
    }
    if ((instruction.keyword === 'CMD' || instruction.keyword === 'ENTRYPOINT') && !instruction.args.startsWith('[')) {
      problems.push(`${at}: ${instruction.keyword} in shell form needs a shell; use the exec form ["…"]`);
    }
  }
  const users = runtime.instructions.filter((instruction) => instruction.keyword === 'USER');
  const user = users[users.length - 1]?.args;
  if (!user) problems.push('the runtime stage sets no USER (it would run as root)');
  else if (!/^\d+(:\d+)?$/.test(user)) problems.push(`USER ${user}: use a numeric uid[:gid] so Kubernetes can verify runAsNonRoot`);
  else if (Number(user.split(':')[0]) === 0) problems.push(`USER ${user} is root`);
  const installsProdDeps = stages.some(
    (stage) =>
      stage.name !== undefined &&
      copiedStages.has(stage.name) &&
      stage.instructions.some((instruction) => instruction.keyword === 'RUN' && /\bnpm ci\b[^&;|]*--omit=dev\b/.test(instruction.args)),
  );
  if (!installsProdDeps) problems.push('no stage the runtime copies from installs production dependencies with `npm ci --omit=dev`');
  return problems;
}
