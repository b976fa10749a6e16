export { connect, MessagingConnection } from './connection';
export type { CloseOptions, ConnectionEvents, ConnectionState, MessagingStats, PublishOptions } from './connection';
export { RetryingConsumer } from './consumer';
export type { ConsumerEvents, ConsumerOptions, ConsumerStats, DeliveryContext, Handler } from './consumer';
export {
  ConnectionLostError,
  describeError,
  HandlerTimeoutError,
  isConnectionLostError,
  isHandlerTimeoutError,
  isNotConnectedError,
  isPermanentError,
  isPublishNackedError,
  isPublishTimeoutError,
  isTopologyError,
  isUnroutableError,
  MessagingError,
  NotConnectedError,
  PermanentError,
  PublishNackedError,
  PublishTimeoutError,
  TopologyError,
  UnroutableError,
} from './errors';
export type { NotConnectedReason } from './errors';
export type { Unsubscribe } from './events';
export { HEADERS } from './headers';
export type { Headers as MessageHeaders, ParkedKind } from './headers';
export { backoffDelay } from './backoff';
export { DEFAULTS, parseDuration, resolveTiers, tierLabel } from './options';
export type { DelayTier, MessagingOptions, QueueTypePreference, ReconnectOptions, ResolvedOptions, TierInput } from './options';
export { countParked, peekParked, replayParked } from './parking';
export type { ParkedMessage, ReplayResult } from './parking';
export { PARKING_DELIVERY_LIMIT, topologyNames, WORK_DELIVERY_LIMIT } from './topology';
export type { DeclaredTopology, DelayQueueNames, QueueDepth, QueueDepths, QueueType, TopologyNames } from './topology';
export type { PublishCounters } from './publisher';
export { parseParkingArgs, runParkingCli } from './cli/parking';
export type { CliIo, ParkingCliArgs } from './cli/parking';
