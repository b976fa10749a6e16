/**
 * Log lines of the children: split a byte stream into lines and prefix each with the
 * service's name, padded and coloured, the way `docker compose up` does.
 */

/** Splits chunks into complete lines; keeps the unfinished tail for the next chunk. */
export class LineSplitter {
  #tail = '';

  /** The complete lines in this chunk (without their line ends). */
  push(chunk: string): string[] {
    const text = this.#tail + chunk;
    const lines = text.split(/\r?\n/);
    this.#tail = lines.pop() ?? '';
    return lines;
  }

  /** What is left when the stream ends (a last line without a newline). */
  flush(): string[] {
    const rest = this.#tail;
    this.#tail = '';
    return rest === '' ? [] : [rest];
  }
}

export interface PrefixOptions {
  /** Width the names are padded to (the longest name). */
  readonly width: number;
  /** ANSI colour code (e.g. 36 for cyan). */
  readonly colour: number;
  /** Colour only when writing to a terminal (and NO_COLOR is unset). */
  readonly useColour: boolean;
}

export function prefixFor(name: string, options: PrefixOptions): string {
  const label = `${name.padEnd(options.width)} | `;
  return options.useColour ? `\u001b[${options.colour}m${label}\u001b[0m` : label;
}

export function prefixLines(name: string, lines: readonly string[], options: PrefixOptions): string {
  const prefix = prefixFor(name, options);
  return lines.map((line) => `${prefix}${line}\n`).join('');
}

/** Whether to colour output: a TTY, and neither NO_COLOR nor FORCE_COLOR=0. */
export function shouldColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return isTTY === true;
}
