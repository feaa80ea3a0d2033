export * from './access.module';
export * from './api-keys.repository';
export * from './metrics-access';
