import { SetMetadata } from '@nestjs/common';

export const ON_JOB = 'worker:on-job';

export interface OnJobMetadata {
  queue: string;
  name: string;
}

/** Marks a provider method as the handler of one job: `(job, token) => Promise<result>`. */
export const OnJob = (queue: string, name: string) => SetMetadata<string, OnJobMetadata>(ON_JOB, { queue, name });
