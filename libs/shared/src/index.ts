export * from './valid-date';
export * from './streams';
export * from './errors';
export * from './command-meta';
export * from './projections';
export * from './recorder';
export * from './event-view';
export * from './shared.module';
