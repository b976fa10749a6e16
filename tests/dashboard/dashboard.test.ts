/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against real
 * services: the four stubs, checkout and the payment-retry worker in this process on port 0,
 * the real RabbitMQ under a prefix of this run's own (deleted afterwards). Saves
 * docs/images/dashboard-healthy.png and dashboard-broken.png.
 *
 *   npx jest tests/dashboard
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createCheckout } from '../../services/checkout/src/app';
import type { CheckoutConfig } from '../../services/checkout/src/config';
import {
  checkoutConfig,
  deleteTopologyOf,
  order,
  type RunningCheckout,
  setFaults,
  startCheckout,
  startStubs,
  startWorker,
  type RunningWorker,
  type Stubs,
  waitFor,
} from '../../services/checkout/src/testing/world.test.util';
import { type RunningService, start } from '@checkout/service-kit';

jest.setTimeout(60_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const IMAGES = path.resolve(__dirname, '../../docs/images');

let stubs: Stubs;
let config: CheckoutConfig;
let app: RunningCheckout;
let worker: RunningWorker;
let browser: Browser;
let page: Page;
let token: string;
const consoleErrors: string[] = [];
/** Uncaught exceptions of the page's script, in every test. */
const pageErrors: string[] = [];

beforeAll(async () => {
  stubs = await startStubs();
  token = stubs.payment.service.config.ADMIN_TOKEN!;
  config = checkoutConfig(stubs, {
    ADMIN_TOKEN: token,
    PAYMENT_OPEN_MS: '4000',
    BREAKER_WINDOW_SIZE: '10',
    BREAKER_MINIMUM_CALLS: '4',
  });
  app = await startCheckout(config);
  await app.checkout.connection.ready();
  worker = await startWorker(config);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => {
    consoleErrors.push(`pageerror: ${error.message}`);
    pageErrors.push(error.message);
  });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop(2_000);
  await app?.stop();
  for (const running of stubs?.running ?? []) await running.shutdown();
});

const checkoutOnce = async (): Promise<number> => {
  const res = await fetch(`${app.url}/checkout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(order([{ sku: 'KB-MECH-01', quantity: 1 }])),
  });
  await res.arrayBuffer();
  return res.status;
};

const stubFaults = async (url: string): Promise<{ active: boolean; settings: Record<string, unknown> }> => {
  const res = await fetch(`${url}/admin/faults`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { active: boolean; settings: Record<string, unknown> };
};

const card = (name: string) => page.locator(`[data-circuit="${name}"]`);
const stateOf = (name: string) => card(name).getAttribute('data-state');

async function useToken(value: string): Promise<void> {
  await page.fill('#token-input', value);
  await page.click('#token-save');
}

it('loads with no console errors and shows every circuit, the pipeline, the answers and the faults', async () => {
  for (let i = 0; i < 5; i++) expect(await checkoutOnce()).toBe(201);
  const res = await page.goto(`${app.url}/dashboard`);
  expect(res?.status()).toBe(200);
  await page.waitForSelector('body[data-connection="live"]', { timeout: 5_000 });
  for (const name of ['payment', 'inventory', 'shipping', 'notification']) {
    await card(name).waitFor({ timeout: 3_000 });
    expect(await stateOf(name)).toBe('CLOSED');
    // the state is written, not only coloured
    expect(await card(name).locator('[data-role=state]').textContent()).toContain('CLOSED');
  }
  await page.waitForSelector('[data-role=worker]', { timeout: 5_000 });
  await waitFor(async () => (await page.textContent('[data-role=worker]'))?.includes('Consuming'), { timeoutMs: 5_000, message: 'worker consuming' });
  await page.waitForSelector('#answers tr[data-status="201"]', { timeout: 5_000 });
  expect(await page.locator('#answers tr[data-status="201"] td').nth(2).textContent()).toBe('5');
  await page.waitForSelector('[data-stub="payment"] [data-role=current]');
  // The token is typed in, never in the page or the URL.
  expect(await page.content()).not.toContain(token);
  await useToken(token);
  await waitFor(async () => (await page.locator('[data-stub="payment"] [data-role=current]').textContent())?.includes('No faults'), { message: 'faults shown' });
  expect(page.url()).not.toContain(token);
  await page.waitForSelector('svg.spark rect', { timeout: 5_000 });
  mkdirSync(IMAGES, { recursive: true });
  await page.screenshot({ path: path.join(IMAGES, 'dashboard-healthy.png'), fullPage: true });
  expect(consoleErrors).toEqual([]);
});

it('turns the payment card OPEN within a second of payment failing, then HALF_OPEN and CLOSED after recovery', async () => {
  const breaker = app.checkout.clients.payment.breaker;
  let openedAt = 0;
  const off = breaker.on('stateChange', ({ to }) => {
    if (to === 'OPEN' && openedAt === 0) openedAt = Date.now();
  });
  try {
    // payment made to fail through the dashboard's own fault panel
    const panel = page.locator('[data-stub="payment"]');
    await panel.locator('input[name=errorRate]').fill('100');
    await panel.locator('[data-action=apply]').click();
    await waitFor(async () => (await stubFaults(stubs.urls.PAYMENT_URL)).settings.errorRate === 1, { message: 'payment failing' });
    await waitFor(async () => (await panel.locator('[data-role=current]').getAttribute('data-active')) === 'true', { timeoutMs: 3_000, message: 'fault shown' });
    for (let i = 0; i < 20 && breaker.state !== 'OPEN'; i++) expect([201, 202]).toContain(await checkoutOnce());
    expect(openedAt).toBeGreaterThan(0);
    await page.waitForSelector('[data-circuit="payment"][data-state="OPEN"]', { timeout: 1_000 });
    expect(Date.now() - openedAt).toBeLessThan(1_000);
    expect(await card('payment').locator('[data-role=state]').textContent()).toContain('OPEN');
    expect(await card('payment').locator('[data-role=until]').textContent()).toMatch(/Half-open in \d+\.\d s/);
    // a couple more orders while open: rejected at once, queued for the worker (202)
    for (let i = 0; i < 2; i++) expect(await checkoutOnce()).toBe(202);
    // the worker's own payment circuit opens on the queued charges: it pauses (cancels its consumer)
    await waitFor(async () => (await page.textContent('[data-role=worker]'))?.includes('No consumer'), { timeoutMs: 8_000, message: 'worker paused' }).catch((error: Error) => {
      const seen = worker.worker.counters;
      throw new Error(`${error.message}; worker breaker ${worker.clients.payment.breaker.state}, paused ${seen.pausedTimes}×, ${JSON.stringify(seen)}`);
    });
    await waitFor(async () => Number(await page.locator('[data-role=waiting]').textContent()) > 0, { timeoutMs: 5_000, message: 'queued payments shown' });
    // the panel's listing refreshes by itself: it counts the failures the stub injected since
    await waitFor(async () => /[1-9]\d* injected/.test((await panel.locator('[data-role=current]').textContent()) ?? ''), { timeoutMs: 5_000, message: 'injected failures counted' });
    // The open period (4 s) may have ended while we waited: a probe that still fails opens it again.
    if (breaker.state !== 'OPEN') {
      expect(await checkoutOnce()).toBe(202);
      expect(breaker.state).toBe('OPEN');
    }
    await page.waitForSelector('[data-circuit="payment"][data-state="OPEN"]', { timeout: 1_000 });
    await page.evaluate('window.scrollTo(0, 0)'); // the sticky header at the top of the image
    await page.screenshot({ path: path.join(IMAGES, 'dashboard-broken.png'), fullPage: true });

    await panel.locator('[data-action=clear]').click();
    await waitFor(async () => !(await stubFaults(stubs.urls.PAYMENT_URL)).active, { message: 'payment healthy' });
    // after the open period: 4 s, or up to 16 s when a failed probe made it grow
    await page.waitForSelector('[data-circuit="payment"][data-state="HALF_OPEN"]', { timeout: 20_000 });
    expect(await card('payment').locator('[data-role=state]').textContent()).toContain('HALF-OPEN');
    for (let i = 0; i < 10 && breaker.state !== 'CLOSED'; i++) expect(await checkoutOnce()).toBe(201);
    expect(breaker.state).toBe('CLOSED');
    await page.waitForSelector('[data-circuit="payment"][data-state="CLOSED"]', { timeout: 2_000 });
  } finally {
    off();
    setFaults(stubs.payment, {});
  }
});

it('shows a forced-open and a disabled circuit by word and icon, not by colour alone', async () => {
  const breaker = app.checkout.clients.notification.breaker;
  try {
    breaker.forceOpen();
    await waitFor(async () => (await stateOf('notification')) === 'FORCED_OPEN', { timeoutMs: 3_000, message: 'FORCED_OPEN shown' });
    expect(await card('notification').locator('[data-role=state]').textContent()).toMatch(/■\s*FORCED OPEN/);
    breaker.disable();
    await waitFor(async () => (await stateOf('notification')) === 'DISABLED', { timeoutMs: 3_000, message: 'DISABLED shown' });
    expect(await card('notification').locator('[data-role=state]').textContent()).toMatch(/○\s*DISABLED/);
  } finally {
    breaker.reset();
  }
  await waitFor(async () => (await stateOf('notification')) === 'CLOSED', { timeoutMs: 3_000, message: 'CLOSED again' });
});

it('sets and clears a fault from the panel (seen at the stub)', async () => {
  const panel = page.locator('[data-stub="shipping"]');
  await panel.locator('input[name=errorRate]').fill('30');
  await panel.locator('select[name=errorStatus]').selectOption('503');
  await panel.locator('input[name=latencyMs]').fill('40');
  await panel.locator('[data-action=apply]').click();
  await waitFor(async () => (await panel.locator('[data-role=result]').textContent()) === 'Applied.', { message: 'applied' });
  expect((await stubFaults(stubs.urls.SHIPPING_URL)).settings).toMatchObject({ errorRate: 0.3, errorStatus: 503, latencyMs: 40, hang: false });
  expect(await panel.locator('[data-role=current]').getAttribute('data-active')).toBe('true');

  await panel.locator('[data-action=clear]').click();
  await waitFor(async () => (await panel.locator('[data-role=result]').textContent()) === 'Cleared.', { message: 'cleared' });
  expect((await stubFaults(stubs.urls.SHIPPING_URL)).active).toBe(false);
});

it('replays parked messages from the button with the token', async () => {
  await page.click('#replay');
  await waitFor(async () => (await page.textContent('#replay-status'))?.startsWith('Replayed'), { message: 'replayed' });
  expect(await page.textContent('#replay-status')).toMatch(/^Replayed \d+, failed 0, 0 left parked\.$/);
});

it('changes nothing with a wrong token', async () => {
  await page.click('#token-forget');
  await useToken('wrong-token-0123456789');
  await waitFor(async () => (await page.textContent('#token-status'))?.includes('refused'), { message: 'token refused' });
  const panel = page.locator('[data-stub="inventory"]');
  await panel.locator('input[name=down]').check();
  await panel.locator('[data-action=apply]').click();
  await waitFor(async () => (await panel.locator('[data-role=result]').textContent())?.startsWith('403'), { message: '403 shown' });
  expect((await stubFaults(stubs.urls.INVENTORY_URL)).active).toBe(false);
  await page.click('#replay');
  await waitFor(async () => (await page.textContent('#replay-status'))?.startsWith('403'), { message: 'replay refused' });
  await page.click('#token-forget');
});

it('fits a phone-wide screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
  expect(overflow).toBeLessThanOrEqual(0);
  if (process.env.DASHBOARD_PHONE_SCREENSHOT) await page.screenshot({ path: process.env.DASHBOARD_PHONE_SCREENSHOT, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
});

it('says it is disconnected while checkout is down and reconnects by itself when it is back', async () => {
  const port = app.running.port;
  await app.running.shutdown();
  await page.waitForSelector('body[data-connection="down"]', { timeout: 6_000 });
  expect(await page.textContent('#connection')).toContain('Disconnected');
  // checkout comes back on the same port (a restart)
  const again = await createCheckout(config);
  const running: RunningService = await start(again.service, { port, shutdownTimeoutMs: 1_000 });
  app = {
    ...app,
    checkout: again,
    running,
    url: running.url,
    stop: async () => {
      await running.shutdown();
      await deleteTopologyOf(config);
    },
  };
  await page.waitForSelector('body[data-connection="live"]', { timeout: 8_000 });
  await card('payment').waitFor();
  expect(pageErrors).toEqual([]);
});
