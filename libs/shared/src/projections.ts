import { Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { DB } from '@app/db';
import type { RecordedEvent } from '@app/event-store';

export type Projection = (trx: Kysely<DB>, events: RecordedEvent[]) => Promise<void>;

/**
 * The projections every append runs inline, in its transaction. The rebuild command runs the
 * very same functions over the whole log, so inline and rebuilt tables cannot drift apart.
 */
@Injectable()
export class Projections {
  private readonly projections: Array<{ name: string; project: Projection; tables: string[] }> = [];

  register(name: string, tables: string[], project: Projection): void {
    if (this.projections.some((p) => p.name === name)) {
      throw new Error(`projection ${name} is registered twice`);
    }
    this.projections.push({ name, project, tables });
  }

  /** The tables the projections own, for the rebuild to empty. */
  tables(): string[] {
    return this.projections.flatMap((p) => p.tables);
  }

  async apply(trx: Kysely<DB>, events: RecordedEvent[]): Promise<void> {
    for (const { project } of this.projections) {
      await project(trx, events);
    }
  }
}
