import { Global, Module } from '@nestjs/common';
import { DATABASE, Database } from '@app/db';
import { EventStore } from './event-store';

@Global()
@Module({
  providers: [{ provide: EventStore, inject: [DATABASE], useFactory: (db: Database) => new EventStore(db) }],
  exports: [EventStore],
})
export class EventStoreModule {}
