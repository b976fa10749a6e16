export { createNotificationApp, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_LIST_LIMIT, notificationBodySchema } from './app';
export type { NotificationApp, NotificationAppOptions } from './app';
export { configSchema, SERVICE_NAME } from './config';
export type { NotificationConfig } from './config';
export { defaultKey, NOTIFICATION_TYPES, Outbox } from './outbox';
export type { AddResult, Notification, NotificationRequest, NotificationType, OutboxOptions } from './outbox';
