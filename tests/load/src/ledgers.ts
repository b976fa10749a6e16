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

export async function readLedgers(orderIds: readonly string[], urls: { payment: string; inventory: string }, concurrency = 16): Promise<Map<string, OrderLedger>> {
  const ledgers = new Map<string, OrderLedger>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orderIds.length) {
      const orderId = orderIds[next++]!;
      const id = encodeURIComponent(orderId);
      const [charges, reservations] = await Promise.all([
        getJson(`${urls.payment}/charges?orderId=${id}`) as Promise<{ charges?: { status: string; createdAt?: string }[] }>,
        getJson(`${urls.inventory}/reservations?orderId=${id}`) as Promise<{ reservations?: { status: string }[] }>,
      ]);
      ledgers.set(orderId, {
        charges: (charges.charges ?? []).map((c) => ({ status: c.status, ...(c.createdAt === undefined ? {} : { createdAt: c.createdAt }) })),
        reservations: (reservations.reservations ?? []).map((r) => ({ status: r.status })),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, orderIds.length) }, worker));
  return ledgers;
}
