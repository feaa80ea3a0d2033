import { Global, Module } from '@nestjs/common';
import { Projections } from './projections';
import { Recorder } from './recorder';

@Global()
@Module({ providers: [Projections, Recorder], exports: [Projections, Recorder] })
export class SharedModule {}
