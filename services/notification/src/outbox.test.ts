import { defaultKey, Outbox } from './outbox';
import { ManualClock } from '../../../shared/service-kit/src/testing/stub-contract.test.util';

const confirmed = { orderId: 'ord-1', customerId: 'cus-1', type: 'ORDER_CONFIRMED' } as const;

describe('Outbox', () => {
  test('keeps a notification with its subject and time', () => {
    const clock = new ManualClock('2025-03-03T09:00:00.000Z');
    const outbox = new Outbox({ clock: clock.now, newId: () => 'ntf_1' });
    expect(outbox.add(defaultKey(confirmed), confirmed)).toEqual({
      kind: 'created',
      notification: {
        notificationId: 'ntf_1',
        idempotencyKey: 'ord-1:ORDER_CONFIRMED',
        orderId: 'ord-1',
        customerId: 'cus-1',
        type: 'ORDER_CONFIRMED',
        channel: 'email',
        subject: 'Your order ord-1 is confirmed',
        status: 'SENT',
        createdAt: '2025-03-03T09:00:00.000Z',
      },
    });
    expect(outbox.forOrder('ord-1')).toHaveLength(1);
  });

  test('the same key again returns the stored notification and sends nothing more', () => {
    const outbox = new Outbox();
    const first = outbox.add('k', confirmed);
    const again = outbox.add('k', { ...confirmed });
    expect(again.kind).toBe('existing');
    expect(again.notification).toBe(first.notification);
    expect(outbox.size).toBe(1);
  });

  test('the same key for another notification is refused', () => {
    const outbox = new Outbox();
    outbox.add('k', confirmed);
    expect(outbox.add('k', { ...confirmed, type: 'ORDER_SHIPPED' }).kind).toBe('key_reused');
    expect(outbox.add('k', { ...confirmed, customerId: 'cus-2' }).kind).toBe('key_reused');
    expect(outbox.size).toBe(1);
  });

  test('lists by order, and the most recent across orders, oldest first', () => {
    const outbox = new Outbox();
    for (const orderId of ['a', 'b', 'c']) outbox.add(`${orderId}:1`, { ...confirmed, orderId });
    outbox.add('a:2', { ...confirmed, orderId: 'a', type: 'ORDER_SHIPPED' });
    expect(outbox.forOrder('a').map((n) => n.type)).toEqual(['ORDER_CONFIRMED', 'ORDER_SHIPPED']);
    expect(outbox.recent(2).map((n) => n.idempotencyKey)).toEqual(['c:1', 'a:2']);
    expect(outbox.recent(10)).toHaveLength(4);
  });
});
