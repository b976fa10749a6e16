/**
 * A per-call signal that follows several long-lived ones, made only when somebody reads it, and
 * whose listeners are removed by `dispose()` (AbortSignal.any keeps dependants alive on
 * long-lived sources in Node 20; this does not).
 */
export class LazyLinkedSignal {
  #controller: AbortController | undefined;
  #cleanup: Array<() => void> = [];
  #disposed = false;

  constructor(private readonly sources: readonly AbortSignal[]) {}

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    for (const source of this.sources) {
      if (source.aborted) {
        controller.abort(source.reason);
        break;
      }
      if (this.#disposed) continue;
      const onAbort = (): void => controller.abort(source.reason);
      source.addEventListener('abort', onAbort, { once: true });
      this.#cleanup.push(() => source.removeEventListener('abort', onAbort));
    }
    return controller.signal;
  }

  /** Aborts the linked signal directly (e.g. on a timeout). */
  abort(reason: unknown): void {
    if (this.#controller) this.#controller.abort(reason);
    else {
      this.#controller = new AbortController();
      this.#controller.abort(reason);
    }
  }

  dispose(): void {
    this.#disposed = true;
    for (const off of this.#cleanup) off();
    this.#cleanup = [];
  }
}
