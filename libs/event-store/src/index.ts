export * from './types';
export * from './errors';
export * from './event-store';
export * from './subscription-runner';
export * from './event-store.module';
export * from './subscription-host';
