import { breakerCounts, parseMetrics, retryBacklog } from './monitor';
import { makeOrder } from './orders';

describe('metrics parsing', () => {
  const text = [
    '# HELP retry_queue_messages Ready messages',
    '# TYPE retry_queue_messages gauge',
    'retry_queue_messages{queue="work"} 3',
    'retry_queue_messages{queue="parking"} 2',
    'retry_queue_messages{queue="payments.delay.1s"} 10',
    'retry_queue_messages{queue="payments.delay.2s"} 0',
    'circuit_breaker_calls_total{breaker="payment",outcome="success"} 40',
    'circuit_breaker_calls_total{breaker="payment",outcome="failure"} 12',
    'circuit_breaker_rejections_total{breaker="payment"} 100',
    'http_requests_total{route="/checkout",status="201"} 5',
    'garbage line',
    '',
  ].join('\n');

  it('reads samples with labels', () => {
    const samples = parseMetrics(text);
    expect(samples).toContainEqual({ name: 'retry_queue_messages', labels: { queue: 'work' }, value: 3 });
    expect(samples).toContainEqual({ name: 'http_requests_total', labels: { route: '/checkout', status: '201' }, value: 5 });
    expect(samples).toHaveLength(8); // the garbage line and comments skipped
  });

  it('sums the backlog (work + delay tiers) apart from parking', () => {
    expect(retryBacklog(parseMetrics(text))).toEqual({ backlog: 13, parked: 2 });
    expect(retryBacklog([])).toEqual({ backlog: 0, parked: 0 });
  });

  it('counts breaker calls by outcome and rejections', () => {
    expect(breakerCounts(parseMetrics(text))).toEqual({ payment: { success: 40, failure: 12, rejected: 100 } });
  });
});

describe('orders', () => {
  const products = [{ sku: 'A' }, { sku: 'B' }, { sku: 'C' }, { sku: 'D' }];

  it('makes valid, varied orders: 1–3 distinct items, a tok_ token, an address', () => {
    const sizes = new Set<number>();
    for (let i = 0; i < 200; i += 1) {
      const order = makeOrder(products);
      sizes.add(order.items.length);
      expect(order.items.length).toBeGreaterThanOrEqual(1);
      expect(order.items.length).toBeLessThanOrEqual(3);
      expect(new Set(order.items.map((item) => item.sku)).size).toBe(order.items.length);
      for (const item of order.items) expect(item.quantity).toBeGreaterThanOrEqual(1);
      expect(order.paymentToken).toMatch(/^tok_/);
      expect(order.paymentToken).not.toBe('tok_decline');
      expect(order.customerId).toMatch(/^cus-\d+$/);
      expect(order.shippingAddress.country).toMatch(/^[A-Z]{2}$/);
    }
    expect([...sizes].sort()).toEqual([1, 2, 3]);
  });

  it('refuses an empty catalog', () => {
    expect(() => makeOrder([])).toThrow('no products');
  });
});
