import { Global, Module } from '@nestjs/common';
import { IdempotentWrites } from './idempotent-writes';
import { Projections } from './projections';
import { Recorder } from './recorder';

@Global()
@Module({ providers: [Projections, Recorder, IdempotentWrites], exports: [Projections, Recorder, IdempotentWrites] })
export class SharedModule {}
