import { Injectable } from '@nestjs/common';
import type { RecordedEvent } from '@app/event-store';
import type { RecordContext } from '@app/shared';

/** Returns why retracting `target` would break its stream's rules, or null when it may go. */
export type RetractionRule = (ctx: RecordContext, target: RecordedEvent, stream: RecordedEvent[]) => Promise<string | null> | string | null;

/** Feature modules say which of their event types can be retracted and under what rule. */
@Injectable()
export class RetractionRules {
  private readonly rules = new Map<string, RetractionRule>();

  register(eventType: string, rule: RetractionRule) {
    this.rules.set(eventType, rule);
  }

  get(eventType: string): RetractionRule | undefined {
    return this.rules.get(eventType);
  }

  types(): string[] {
    return [...this.rules.keys()].sort();
  }
}
