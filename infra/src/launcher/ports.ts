import net, { type AddressInfo } from 'node:net';

/**
 * A TCP port of 127.0.0.1 free at the time of asking (the kernel picks it): for the launcher's
 * tests and the load tool, which start the services on ports of their own.
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
