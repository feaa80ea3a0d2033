export * from './projection-rebuilder';
export * from './rebuild.module';
