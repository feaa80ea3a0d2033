import { Global, Module } from '@nestjs/common';
import { RetractEventHandler } from './retract-event/retract-event.handler';
import { RetractionRules } from './retraction-rules';

@Global()
@Module({ providers: [RetractionRules, RetractEventHandler], exports: [RetractionRules] })
export class CorrectionsModule {}
