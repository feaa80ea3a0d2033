export * from './membership.events';
export * from './membership.decider';
export * from './membership.projection';
export * from './membership.module';
export * from './record-join/record-join.dto';
export * from './record-leave/record-leave.dto';
export * from './record-join/record-join.handler';
