import { type RequestHandler, Router } from 'express';
import { requireBearerToken } from '../auth';
import type { Logger } from '../logger';
import { validate } from '../validate';
import type { FaultInjector } from './injector';
import { faultSettingsSchema } from './settings';

export interface FaultAdminOptions {
  /** Every route requires `Authorization: Bearer <adminToken>`. */
  adminToken: string;
  /** Parses JSON bodies (the kit's `jsonBody`); the admin router is mounted before the app-wide parser. */
  jsonBody: RequestHandler;
  logger?: Logger;
}

/**
 * `GET|PUT|DELETE /faults`, mounted by the kit under `/admin`:
 * - `GET` shows the settings and what they injected so far;
 * - `PUT` replaces the settings (every field optional, omitted = off) → 200 with the new snapshot, 400 on bad input;
 * - `DELETE` turns every fault off and releases hanging requests.
 */
export function faultAdminRouter(injector: FaultInjector, options: FaultAdminOptions): Router {
  const router = Router();
  router.use(requireBearerToken(options.adminToken));

  router.get('/faults', (_req, res) => {
    res.json(injector.snapshot());
  });

  router.put('/faults', options.jsonBody, (req, res) => {
    const settings = validate(faultSettingsSchema, req.body, 'body');
    injector.set(settings);
    options.logger?.warn('fault settings changed', { faults: settings });
    res.json(injector.snapshot());
  });

  router.delete('/faults', (_req, res) => {
    const released = injector.releaseHung();
    injector.clear();
    options.logger?.warn('faults cleared', { releasedHangingRequests: released });
    res.json(injector.snapshot());
  });

  return router;
}
