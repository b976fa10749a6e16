import {
  createStubApp,
  type FieldError,
  fieldErrors,
  HttpError,
  idSchema,
  type Logger,
  type StubApp,
  type StubAppOptions,
  validate,
  ValidationError,
  visibleAscii,
} from '@checkout/service-kit';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { type NotificationConfig, SERVICE_NAME } from './config';
import { defaultKey, NOTIFICATION_TYPES, type NotificationRequest, Outbox } from './outbox';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
export const MAX_LIST_LIMIT = 500;

const id = idSchema;
const key = visibleAscii(MAX_IDEMPOTENCY_KEY_LENGTH);

/** `POST /notifications` body; unknown fields are refused. */
export const notificationBodySchema = z
  .object({
    orderId: id,
    customerId: id,
    type: z.enum(NOTIFICATION_TYPES),
    idempotencyKey: key.optional(),
  })
  .strict();

const listQuery = z.object({
  orderId: id.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(50),
});

/**
 * The key comes from the `Idempotency-Key` header or the body's `idempotencyKey`
 * (both may be given if they agree), else `${orderId}:${type}`.
 */
function parseNotification(req: Request): { key: string; request: NotificationRequest } {
  const header = req.get('Idempotency-Key');
  const headerKey = header === undefined ? undefined : key.safeParse(header);
  const body = notificationBodySchema.safeParse(req.body);
  const fields: FieldError[] = [];
  if (headerKey !== undefined && !headerKey.success) {
    fields.push(...fieldErrors(headerKey.error).map((field) => ({ ...field, path: 'Idempotency-Key' })));
  }
  if (!body.success) fields.push(...fieldErrors(body.error));
  else if (header !== undefined && body.data.idempotencyKey !== undefined && body.data.idempotencyKey !== header) {
    fields.push({ path: 'idempotencyKey', message: 'differs from the Idempotency-Key header' });
  }
  if (fields.length > 0 || !body.success) throw new ValidationError(fields, 'Invalid notification');
  const { idempotencyKey, ...request } = body.data;
  return { key: header ?? idempotencyKey ?? defaultKey(request), request };
}

function notificationRoutes(router: Router, outbox: Outbox, logger: Logger): void {
  router.post('/notifications', (req, res) => {
    const parsed = parseNotification(req);
    const result = outbox.add(parsed.key, parsed.request);
    const { notification } = result;
    if (result.kind === 'key_reused') {
      throw new HttpError(409, 'IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for another notification', {
        details: { notificationId: notification.notificationId },
      });
    }
    if (result.kind === 'created') {
      logger.info('notification sent', { orderId: notification.orderId, notificationId: notification.notificationId, type: notification.type });
    }
    res.status(result.kind === 'created' ? 201 : 200).json(notification);
  });

  router.get('/notifications', (req, res) => {
    const query = validate(listQuery, req.query, 'query');
    if (query.orderId !== undefined) {
      res.json({ orderId: query.orderId, notifications: outbox.forOrder(query.orderId) });
    } else {
      res.json({ total: outbox.size, notifications: outbox.recent(query.limit) });
    }
  });
}

export type NotificationAppOptions = StubAppOptions<NotificationConfig, 'outbox', Outbox>;
export type NotificationApp = StubApp<NotificationConfig, 'outbox', Outbox>;

/** The notification stub: the kit's stub app around its outbox (default: a new in-memory outbox on `clock`) and routes. */
export function createNotificationApp(options: NotificationAppOptions): NotificationApp {
  return createStubApp(SERVICE_NAME, 'outbox', options, (clock) => new Outbox({ clock }), notificationRoutes);
}
