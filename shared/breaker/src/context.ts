import { kParent, NEVER_ABORTED, parentSignal, type ExecuteContext, type InternalOptions } from './policy';

/** A context that hands on the caller's (or outer policy's) signal, read only when the function reads it. */
export function passThroughContext(options: InternalOptions | undefined): ExecuteContext {
  if (options === undefined || (options.signal === undefined && options[kParent] === undefined)) return NEVER_ABORTED;
  return {
    get signal() {
      return parentSignal(options) ?? NEVER_ABORTED.signal;
    },
  };
}
