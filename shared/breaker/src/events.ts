/**
 * A tiny typed event emitter. Listeners are kept in arrays copied on change so
 * emitting never allocates; a listener that throws is reported as a process
 * warning and never breaks the component that emits.
 */
export type Listener<T> = (payload: T) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners: { [K in keyof Events]?: ReadonlyArray<Listener<Events[K]>> } = {};

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    if (typeof listener !== 'function') throw new TypeError(`listener for '${String(event)}' must be a function`);
    this.listeners[event] = [...(this.listeners[event] ?? []), listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const list = this.listeners[event] ?? [];
      const i = list.indexOf(listener);
      if (i !== -1) this.listeners[event] = [...list.slice(0, i), ...list.slice(i + 1)];
    };
  }

  /** Whether anyone listens: lets the emitter skip building a payload (or measuring) for nobody. */
  has<K extends keyof Events>(event: K): boolean {
    const list = this.listeners[event];
    return list !== undefined && list.length > 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners[event];
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (error) {
        reportListenerError(String(event), error);
      }
    }
  }
}

function reportListenerError(event: string, error: unknown): void {
  const message = `a '${event}' listener threw: ${error instanceof Error ? error.message : String(error)}`;
  if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') {
    process.emitWarning(message, { type: 'ListenerError', detail: error instanceof Error ? error.stack : undefined });
  }
}
