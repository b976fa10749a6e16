import { randomUUID } from 'node:crypto';

/** Realistic orders: a random customer, 1–3 distinct products of the catalog, an address, a card token. */

export interface Product {
  readonly sku: string;
  readonly price?: number;
}

export interface OrderBody {
  customerId: string;
  items: { sku: string; quantity: number }[];
  paymentToken: string;
  shippingAddress: { name: string; line1: string; city: string; postalCode: string; country: string };
}

const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Margaret Hamilton', 'Ken Thompson'];
const CITIES: readonly [string, string, string][] = [
  ['Berlin', '10115', 'DE'],
  ['Wien', '1010', 'AT'],
  ['Paris', '75001', 'FR'],
  ['Amsterdam', '1012', 'NL'],
  ['Brussel', '1000', 'BE'],
  ['Madrid', '28001', 'ES'],
];
const TOKENS = ['tok_visa', 'tok_mastercard', 'tok_amex'];

export function makeOrder(products: readonly Product[], random: () => number = Math.random): OrderBody {
  if (products.length === 0) throw new Error('no products to order');
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const lines = 1 + Math.floor(random() * Math.min(3, products.length));
  const skus = new Set<string>();
  while (skus.size < lines) skus.add(pick(products).sku);
  const [city, postalCode, country] = pick(CITIES);
  return {
    customerId: `cus-${1 + Math.floor(random() * 5000)}`,
    items: [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(random() * 2) })),
    paymentToken: pick(TOKENS),
    shippingAddress: { name: pick(NAMES), line1: `Street ${1 + Math.floor(random() * 200)}`, city, postalCode, country },
  };
}

/** A unique Idempotency-Key per order. */
export function makeKey(): string {
  return `load-${randomUUID()}`;
}
