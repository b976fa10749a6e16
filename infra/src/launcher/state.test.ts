import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, leftoverChildren, readState, removeState, stateFilePath, writeState } from './state';

describe('the launcher state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'launcher-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const state = { pid: process.pid, controlUrl: 'http://127.0.0.1:4000', host: '127.0.0.1', ports: { payment: 3001 }, adminToken: 'generated-token', startedAt: 'now' };

  test('is readable by its owner only, in a folder only its owner can enter', () => {
    const file = path.join(dir, '.run', 'launcher.json');
    writeState(file, state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readState(file)).toEqual(state);
  });

  test('an existing file with a loose mode is tightened', () => {
    const file = path.join(dir, 'launcher.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    writeState(file, state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('missing or broken files read as no launcher', () => {
    expect(readState(path.join(dir, 'none.json'))).toBeUndefined();
    writeFileSync(path.join(dir, 'bad.json'), '{ nope');
    expect(readState(path.join(dir, 'bad.json'))).toBeUndefined();
  });

  test("is removed by its own launcher only", () => {
    const file = path.join(dir, 'launcher.json');
    writeState(file, state);
    removeState(file, process.pid + 1);
    expect(readFileSync(file, 'utf8')).toContain('generated-token');
    removeState(file, process.pid);
    expect(readState(file)).toBeUndefined();
  });

  test('lives in infra/.run (git-ignored) unless LAUNCHER_STATE_FILE says otherwise', () => {
    expect(stateFilePath({})).toBe(path.resolve(__dirname, '..', '..', '.run', 'launcher.json'));
    expect(readFileSync(path.resolve(__dirname, '..', '..', '.gitignore'), 'utf8')).toMatch(/^\.run\/$/m);
    expect(stateFilePath({ LAUNCHER_STATE_FILE: '/tmp/x.json' })).toBe('/tmp/x.json');
  });

  test('isAlive tells a running process from a gone one', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(2 ** 22 + 12345)).toBe(false);
  });

  test('leftoverChildren: the live children of a dead launcher, when they are still in their own folder', () => {
    const dead = { ...state, pid: 1000, children: { payment: 1001, inventory: 1002, shipping: 1003 } };
    const alive = (pid: number) => pid !== 1000 && pid !== 1003;
    const cwd = (pid: number) => (pid === 1001 ? '/repo/services/payment' : '/somewhere/else');
    const cwdFor = (name: string) => `/repo/services/${name}`;
    expect(leftoverChildren(dead, cwdFor, alive, cwd)).toEqual([{ name: 'payment', pid: 1001 }]);
    expect(leftoverChildren({ ...dead, pid: 999 }, cwdFor, () => true, cwd)).toEqual([]); // its launcher still runs them
    expect(leftoverChildren({ ...state, pid: 1000 }, cwdFor, alive, cwd)).toEqual([]);
  });
});
