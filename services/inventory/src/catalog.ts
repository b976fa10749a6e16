/** A product for sale. `price` is in minor units (euro cents). */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly price: number;
}

export const CURRENCY = 'EUR';

/** The stub's catalog: a handful of realistic products; every SKU starts with `INITIAL_STOCK` units. */
export const CATALOG: readonly Product[] = Object.freeze([
  { sku: 'KB-MECH-01', name: 'Mechanical keyboard, brown switches', price: 8_999 },
  { sku: 'MOUSE-WL-02', name: 'Wireless mouse', price: 2_999 },
  { sku: 'HUB-USBC-7', name: 'USB-C hub, 7 ports', price: 4_599 },
  { sku: 'MON-27-4K', name: '27-inch 4K monitor', price: 34_900 },
  { sku: 'HEADSET-NC', name: 'Noise-cancelling headset', price: 15_999 },
  { sku: 'CABLE-USBC-2M', name: 'USB-C cable, 2 m', price: 1_299 },
  { sku: 'STAND-LAPTOP', name: 'Aluminium laptop stand', price: 3_950 },
  { sku: 'WEBCAM-HD', name: 'Full HD webcam', price: 6_490 },
].map((product) => Object.freeze(product)));

export const SKUS: readonly string[] = CATALOG.map((product) => product.sku);
