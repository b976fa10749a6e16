export { createShippingApp, shipmentBodySchema } from './app';
export type { ShippingApp, ShippingAppOptions } from './app';
export { configSchema, SERVICE_NAME } from './config';
export type { ShippingConfig } from './config';
export { addBusinessDays, routeTo, ShipmentBook } from './shipments';
export type { Address, ScheduleResult, Shipment, ShipmentBookOptions, ShipmentItem, ShipmentRequest } from './shipments';
