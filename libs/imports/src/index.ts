export * from './import-facts.dto';
export * from './import-facts.handler';
export * from './imports.module';
