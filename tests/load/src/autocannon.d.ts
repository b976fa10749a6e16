/** The part of autocannon 9's programmatic API the load tool uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface RequestContext {
      [key: string]: unknown;
    }
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      setupRequest?: (request: Request, context: RequestContext) => Request | undefined;
      onResponse?: (status: number, body: string, context: RequestContext, headers: Record<string, string | string[]>) => void;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      amount?: number;
      timeout?: number;
      pipelining?: number;
      overallRate?: number;
      connectionRate?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      requests?: Request[];
      initialContext?: RequestContext;
      excludeErrorStats?: boolean;
    }
    interface Result {
      requests: { total: number; average: number };
      latency: { p50: number; p99: number; max: number };
      errors: number;
      timeouts: number;
      non2xx: number;
      duration: number;
      [key: string]: unknown;
    }
    interface Instance extends EventEmitter {
      stop(): void;
    }
  }

  function autocannon(options: autocannon.Options, callback: (error: Error | null, result: autocannon.Result) => void): autocannon.Instance;
  export = autocannon;
}
