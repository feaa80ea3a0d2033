export * from './retraction-rules';
export * from './corrections.module';
export * from './retract-event/retract-event.dto';
export * from './retract-event/retract-event.handler';
