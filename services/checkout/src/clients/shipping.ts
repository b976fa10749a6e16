import type { HttpClient } from '@checkout/service-kit';
import { z } from 'zod';
import type { ShippingAddress } from '../model';
import { ContractError } from './inventory';
import { type ClientOptions, dependencyClient, quickRetry } from './policies';

const shipmentSchema = z.looseObject({ shipmentId: z.string(), orderId: z.string() });
export type Shipment = z.output<typeof shipmentSchema>;

export interface ShipmentRequest {
  orderId: string;
  address: ShippingAddress;
  items: { sku: string; quantity: number }[];
}

export class ShippingClient {
  readonly http: HttpClient;

  constructor(options: ClientOptions) {
    // One shipment per order (shipping returns the existing one for the same order): retried.
    this.http = dependencyClient('shipping', { ...options, retry: options.retry ?? quickRetry });
  }

  get breaker() {
    return this.http.breaker;
  }

  async schedule(request: ShipmentRequest): Promise<Shipment> {
    const res = await this.http.post('/shipments', request, { idempotent: true });
    if (res.status === 200 || res.status === 201) return shipmentSchema.parse(res.data);
    throw new ContractError('shipping', 'POST /shipments', res.status);
  }

  async shipmentsOf(orderId: string): Promise<Shipment[]> {
    const res = await this.http.get('/shipments', { params: { orderId } });
    if (res.status !== 200) throw new ContractError('shipping', 'GET /shipments', res.status);
    const data = res.data as unknown;
    const list = Array.isArray(data) ? data : z.looseObject({ shipments: z.array(z.unknown()) }).parse(data).shipments;
    return z.array(shipmentSchema).parse(list);
  }

  close(): void {
    this.http.close();
  }
}
