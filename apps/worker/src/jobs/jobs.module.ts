import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobWorkers } from './job-workers';

@Module({ imports: [DiscoveryModule], providers: [JobWorkers] })
export class JobsModule {}
