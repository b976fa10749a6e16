import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from './journal';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'journal-'));
  path = join(dir, 'nested', 'checkout.journal');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = () => readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').length;

describe('Journal', () => {
  it('gives back after a reopen what was set and not deleted, in the order it was first set', () => {
    const journal = Journal.open(path);
    journal.set('key:a', { n: 1 });
    journal.set('key:b', { n: 2 });
    journal.set('repair:x', { kind: 'release' });
    journal.set('key:a', { n: 3 });
    journal.delete('key:b');
    journal.close();

    const reopened = Journal.open(path);
    expect([...reopened.list('key:')]).toEqual([['key:a', { n: 3 }]]);
    expect(reopened.get('repair:x')).toEqual({ kind: 'release' });
    expect(reopened.size).toBe(2);
    reopened.close();
  });

  it('keeps each change once it is made, without close() (a killed process loses nothing)', () => {
    const journal = Journal.open(path);
    journal.set('key:a', 1);
    const onDisk = readFileSync(path, 'utf8');
    expect(onDisk).toContain('"k":"key:a"');
    journal.close();
  });

  it('skips a torn last line (the process died in the middle of a write)', () => {
    Journal.open(path).close();
    writeFileSync(path, '{"k":"key:a","v":1}\n{"k":"key:b","v":');
    const journal = Journal.open(path);
    expect(journal.skipped).toBe(1);
    expect([...journal.list('key:')]).toEqual([['key:a', 1]]);
    journal.close();
  });

  it('rewrites itself with the live entries when it has grown to four times what is live', () => {
    const journal = Journal.open(path, { compactAbove: 50 });
    for (let i = 0; i < 200; i += 1) {
      journal.set('key:hot', i);
      journal.set(`key:${i}`, i);
      journal.delete(`key:${i}`);
    }
    expect(lines()).toBeLessThanOrEqual(50);
    journal.close();
    const reopened = Journal.open(path);
    expect([...reopened.list('key:')]).toEqual([['key:hot', 199]]);
    reopened.close();
  });

  it('refuses a second opener while the first holds it, and takes over a lock whose process is gone', () => {
    const journal = Journal.open(path);
    expect(() => Journal.open(path)).toThrow(/already open in this process/);
    journal.close();

    writeFileSync(`${path}.lock`, '2147483646'); // no such process
    const taken = Journal.open(path);
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.pid));
    taken.close();
  });

  it('refuses a journal another live process holds', () => {
    Journal.open(path).close();
    writeFileSync(`${path}.lock`, String(process.ppid));
    expect(() => Journal.open(path)).toThrow(new RegExp(`in use by process ${process.ppid}`));
  });

  it('keeps changes made after close() in memory only', () => {
    const journal = Journal.open(path);
    journal.close();
    journal.set('key:late', 1);
    expect(journal.lateChanges).toBe(1);
    appendFileSync(path, '');
    const reopened = Journal.open(path);
    expect(reopened.get('key:late')).toBeUndefined();
    reopened.close();
  });
});
