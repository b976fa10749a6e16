import type { OrderLedger } from './invariants';

/** Reads each order's charges (payment) and reservation (inventory) from the stubs' ledgers. */

async function getJson(url: string): Promise<unknown> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return await res.json();
      await res.arrayBuffer();
      throw new Error(`${url}: ${res.status}`);
    } catch (error) {
      if (attempt >= 2) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** `shipping`: also read each order's shipments (when payment was killed: the evidence of a capture its ledger lost). */
export async function readLedgers(orderIds: readonly string[], urls: { payment: string; inventory: string; shipping?: string }, concurrency = 16): Promise<Map<string, OrderLedger>> {
  const ledgers = new Map<string, OrderLedger>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orderIds.length) {
      const orderId = orderIds[next++]!;
      const id = encodeURIComponent(orderId);
      const [charges, reservations, shipments] = await Promise.all([
        getJson(`${urls.payment}/charges?orderId=${id}`) as Promise<{ charges?: { status: string; createdAt?: string }[] }>,
        getJson(`${urls.inventory}/reservations?orderId=${id}`) as Promise<{ reservations?: { status: string }[] }>,
        urls.shipping === undefined ? undefined : (getJson(`${urls.shipping}/shipments?orderId=${id}`) as Promise<{ shipments?: { shipmentId?: string; createdAt?: string }[] }>),
      ]);
      ledgers.set(orderId, {
        charges: (charges.charges ?? []).map((c) => ({ status: c.status, ...(c.createdAt === undefined ? {} : { createdAt: c.createdAt }) })),
        reservations: (reservations.reservations ?? []).map((r) => ({ status: r.status })),
        ...(shipments === undefined
          ? {}
          : { shipments: (shipments.shipments ?? []).map((x) => ({ ...(x.shipmentId === undefined ? {} : { shipmentId: x.shipmentId }), ...(x.createdAt === undefined ? {} : { createdAt: x.createdAt }) })) }),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, orderIds.length) }, worker));
  return ledgers;
}
