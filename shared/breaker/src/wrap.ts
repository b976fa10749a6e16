import { kParent, type ExecuteContext, type ExecuteOptions, type InternalOptions, type Policy, type Work } from './policy';

/**
 * Nests policies, outermost first: `wrap(retry, breaker, bulkhead)` retries
 * calls that go through the breaker and then the bulkhead. Each inner policy
 * gets the outer one's signal (read only if the function reads its own).
 */
export function wrap(...policies: Policy[]): Policy {
  if (policies.length === 0) throw new TypeError('wrap: give at least one policy');
  policies.forEach((p, i) => {
    if (typeof p?.execute !== 'function') throw new TypeError(`wrap: argument ${i + 1} is not a policy (it has no execute method)`);
  });
  const last = policies.length - 1;
  const run = <T>(i: number, fn: Work<T>, options: InternalOptions | undefined): Promise<T> =>
    i === last
      ? policies[i]!.execute(fn, options)
      : policies[i]!.execute((ctx: ExecuteContext) => run(i + 1, fn, { [kParent]: ctx } as InternalOptions), options);
  return {
    execute: <T>(fn: Work<T>, options?: ExecuteOptions) => run(0, fn, options),
  };
}
