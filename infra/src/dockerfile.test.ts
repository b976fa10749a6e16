import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT, repoFile } from './testing.test.util';
import { TOPOLOGY } from './topology';

/** A small Dockerfile reader: instructions (continuations joined, comments dropped) grouped by stage. */
interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly name: string;
  readonly instructions: Instruction[];
}

function readStages(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), instructions: [] });
    stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const stages = readStages(readFileSync(repoFile('infra/Dockerfile'), 'utf8'));
const final = stages.at(-1)!;
const build = stages.find((stage) => stage.name === 'build')!;
const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const copies = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);

/** Every workspace folder of the root package.json (globs like shared/* expanded). */
function workspaces(): string[] {
  const globs = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  return globs.flatMap((glob) => {
    if (!glob.endsWith('/*')) return [glob];
    const parent = glob.slice(0, -2);
    return readdirSync(path.join(REPO_ROOT, parent))
      .map((entry) => `${parent}/${entry}`)
      .filter((folder) => existsSync(path.join(REPO_ROOT, folder, 'package.json')));
  });
}

/** A tsconfig.json (comments allowed), its `references` and `include`. */
function readTsconfig(folder: string): { references?: { path: string }[]; include?: string[] } {
  const file = path.join(REPO_ROOT, folder, 'tsconfig.json');
  const { config, error } = ts.parseConfigFileTextToJson(file, readFileSync(file, 'utf8'));
  if (error !== undefined) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  return config as { references?: { path: string }[]; include?: string[] };
}

/** Every project `tsc -b` at the root builds: the root's references, and theirs, transitively. */
function projectsOfTheRootBuild(): string[] {
  const seen = new Set<string>();
  const visit = (folder: string): void => {
    for (const reference of readTsconfig(folder).references ?? []) {
      const next = path.posix.normalize(path.posix.join(folder, reference.path));
      if (seen.has(next)) continue;
      seen.add(next);
      visit(next);
    }
  };
  visit('.');
  return [...seen].sort();
}

describe('infra/Dockerfile', () => {
  test('is multi-stage: a build stage and a final runtime stage', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
  });

  test('the final stage runs as a non-root user', () => {
    const users = final.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  test('installs from the lock file only (npm ci, never npm install), the lock file copied first', () => {
    for (const stage of stages) {
      const install = stage.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
      expect({ stage: stage.name, installs: install >= 0 }).toEqual({ stage: stage.name, installs: true });
      const lock = stage.instructions.findIndex((i) => i.keyword === 'COPY' && /\bpackage-lock\.json\b/.test(i.args));
      expect(lock).toBeGreaterThanOrEqual(0);
      expect(lock).toBeLessThan(install);
      for (const run of runs(stage)) expect(run).not.toMatch(/\bnpm (install|i|add)\b|\byarn\b(?! --frozen)/);
    }
  });

  test('the final stage installs production dependencies only and copies no dev dependencies or sources', () => {
    expect(runs(final).some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(final.instructions.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args))).toBe(true);
    for (const copy of copies(final)) {
      expect(copy).not.toMatch(/node_modules/);
      if (copy.startsWith('--from=')) {
        // Only compiled output from the build stage.
        expect(copy).toMatch(/^--from=build \/app\/\S+\/dist \S+\/dist\/$/);
      } else {
        // From the context: manifests only (no sources, no `COPY . .`).
        for (const source of copy.split(/\s+/).slice(0, -1)) expect(source).toMatch(/(^|\/)(package\.json|package-lock\.json)$/);
      }
    }
  });

  test('the final stage has the compiled code of every service entry point and of the shared packages', () => {
    const dist = copies(final).filter((copy) => copy.startsWith('--from=build')).map((copy) => /\/app\/(\S+)\/dist/.exec(copy)![1]);
    for (const spec of TOPOLOGY) expect(dist).toContain(spec.workspace);
    for (const shared of ['shared/breaker', 'shared/service-kit', 'shared/messaging']) expect(dist).toContain(shared);
  });

  test('both stages see every workspace manifest (npm ci needs the same workspaces as the lock file)', () => {
    for (const stage of [build, final]) {
      const copied = copies(stage).filter((copy) => !copy.startsWith('--from=')).map((copy) => copy.split(/\s+/)[0]!);
      for (const folder of workspaces()) expect({ stage: stage.name, folder, copied: copied.includes(`${folder}/package.json`) }).toEqual({ stage: stage.name, folder, copied: true });
    }
  });

  test('the build stage compiles every workspace with tsc -b from its sources', () => {
    expect(runs(build).some((run) => /\bnpx tsc -b\b/.test(run))).toBe(true);
    const copied = copies(build).map((copy) => copy.split(/\s+/)[0]!);
    for (const folder of workspaces()) {
      if (!existsSync(path.join(REPO_ROOT, folder, 'tsconfig.json'))) continue;
      expect(copied).toEqual(expect.arrayContaining([`${folder}/tsconfig.json`, `${folder}/src`]));
    }
  });

  test("the build stage has every project the root `tsc -b` builds: each one's tsconfig and sources (or a folder holding them)", () => {
    expect(runs(build).some((run) => /\bnpx tsc -b(?!\s+\S)/.test(run.replace(/&&.*$/, '').trim()))).toBe(true); // the root build, no project named
    const copied = copies(build).filter((copy) => !copy.startsWith('--from=')).map((copy) => copy.split(/\s+/)[0]!.replace(/\/$/, ''));
    const covered = (file: string): boolean => copied.some((source) => source === file || file.startsWith(`${source}/`));
    const projects = projectsOfTheRootBuild();
    expect(projects).toEqual(expect.arrayContaining(['infra', 'services/checkout', 'tests', 'tests/load']));
    for (const project of projects) {
      const needed = [`${project}/tsconfig.json`, ...(readTsconfig(project).include ?? []).map((folder) => `${project}/${folder}`)];
      for (const file of needed) expect({ project, file, copied: covered(file) }).toEqual({ project, file, copied: true });
    }
  });
});
