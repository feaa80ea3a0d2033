export * from './csv';
export * from './questions.repository';
export * from './questions.service';
export * from './questions.module';
export * from './timeline-svg';
