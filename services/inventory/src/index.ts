export { createInventoryApp, MAX_ITEMS, MAX_QUANTITY, reservationBodySchema } from './app';
export type { InventoryApp, InventoryAppOptions } from './app';
export { CATALOG, CURRENCY, SKUS } from './catalog';
export type { Product } from './catalog';
export { configSchema, MAX_STOCK, SERVICE_NAME } from './config';
export type { InventoryConfig } from './config';
export { Inventory } from './inventory';
export type {
  InventoryOptions,
  ItemRequest,
  ReleaseResult,
  Reservation,
  ReservationStatus,
  ReservedItem,
  ReserveResult,
  Shortage,
  StockLevel,
} from './inventory';
