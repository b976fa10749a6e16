import type { RequestHandler } from 'express';
import { z } from 'zod';
import { type FieldError, ValidationError } from './errors';

/**
 * A token that travels between services and ends up in logs, URLs and other services' ids
 * (order, customer, reservation ids, idempotency keys): 1 to `max` visible ASCII characters,
 * no spaces.
 */
export function visibleAscii(max: number): z.ZodString {
  return z.string().regex(new RegExp(`^[\\x21-\\x7e]{1,${max}}$`), `must be 1-${max} visible ASCII characters without spaces`);
}

/** Ids of orders, customers, reservations, charges: `visibleAscii(128)`. */
export const idSchema = visibleAscii(128);

/** Where a value came from; used in the error message ("Invalid body"). */
export type InputSource = 'body' | 'query' | 'params' | 'headers' | 'input';

/** Turns zod issues into `{ path, message }` pairs, one per offending field. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const fields: FieldError[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      // One entry per unknown key, so that a client sees which field to drop.
      for (const key of issue.keys) fields.push({ path: [...base, key].join('.'), message: 'Unknown field' });
    } else {
      fields.push({ path: base.join('.'), message: issue.message });
    }
  }
  return fields;
}

/**
 * Parses `value` with `schema` and returns the parsed (typed, defaulted) value,
 * or throws a `ValidationError` (→ 400 with field errors) naming every bad field.
 *
 * ```ts
 * const query = validate(z.object({ orderId: z.string().min(1) }), req.query, 'query');
 * ```
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, source: InputSource = 'input'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(fieldErrors(result.error), `Invalid ${source}`);
}

/**
 * Middleware that validates `req.body` and replaces it with the parsed value.
 * A request without a body has `req.body === undefined`, which an object schema
 * reports as a 400 like any other invalid input.
 */
export function validateBody<S extends z.ZodType>(schema: S): RequestHandler {
  return (req, _res, next) => {
    req.body = validate(schema, req.body, 'body');
    next();
  };
}
