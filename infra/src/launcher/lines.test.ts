import { LineSplitter, prefixFor, prefixLines, shouldColour } from './lines';

describe('LineSplitter', () => {
  test('gives complete lines and keeps a partial one for the next chunk', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(splitter.push(':2}\r\n\n')).toEqual(['{"b":2}', '']);
    expect(splitter.push('tail')).toEqual([]);
    expect(splitter.flush()).toEqual(['tail']);
    expect(splitter.flush()).toEqual([]);
  });
});

describe('prefixes', () => {
  test('pads names to one width, colours only when asked', () => {
    expect(prefixFor('payment', { width: 12, colour: 33, useColour: false })).toBe('payment      | ');
    expect(prefixFor('payment', { width: 12, colour: 33, useColour: true })).toBe('\u001b[33mpayment      | \u001b[0m');
    expect(prefixLines('worker', ['one', 'two'], { width: 8, colour: 34, useColour: false })).toBe('worker   | one\nworker   | two\n');
    expect(prefixLines('worker', [], { width: 8, colour: 34, useColour: false })).toBe('');
  });

  test('colour on a terminal, unless NO_COLOR; FORCE_COLOR decides otherwise', () => {
    expect(shouldColour(true, {})).toBe(true);
    expect(shouldColour(false, {})).toBe(false);
    expect(shouldColour(undefined, {})).toBe(false);
    expect(shouldColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColour(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColour(true, { FORCE_COLOR: '0' })).toBe(false);
  });
});
