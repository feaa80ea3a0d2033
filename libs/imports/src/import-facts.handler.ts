import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { RetractEventDto, retractEvent, RetractionRules } from '@app/corrections';
import { EventStore } from '@app/event-store';
import { recordMembershipFact, RecordJoinDto, RecordLeaveDto } from '@app/membership';
import {
  OrganisationsRepository,
  registerAlliance,
  RegisterAllianceDto,
  registerOrganisation,
  RegisterOrganisationDto,
  renameOrganisation,
  RenameOrganisationDto,
} from '@app/organisations';
import { CommandMeta, DomainError, FactError, RecordContext, Recorder, SLUG, validateStrict } from '@app/shared';
import { FUNDING_FACTS } from './funding-facts';

export interface FactDeps {
  organisations: OrganisationsRepository;
  store: EventStore;
  rules: RetractionRules;
}

type PathKind = 'slug' | 'uuid';

export interface FactSpec {
  dto: new () => object;
  /** Ids the single endpoint takes from its path; here they sit in the fact itself. */
  path: Record<string, PathKind>;
  /** Path ids that may be left out (a funding fact may bring its own fundingId). */
  optionalPath?: string[];
  run(ctx: RecordContext, deps: FactDeps, ids: Record<string, string>, body: object): Promise<{ event?: unknown; events?: unknown[] }>;
}

const FACTS: Record<string, FactSpec> = {
  organisation: {
    dto: RegisterOrganisationDto,
    path: {},
    run: (ctx, _d, _ids, body) => registerOrganisation(ctx, body as RegisterOrganisationDto),
  },
  alliance: {
    dto: RegisterAllianceDto,
    path: {},
    run: (ctx, _d, _ids, body) => registerAlliance(ctx, body as RegisterAllianceDto),
  },
  join: {
    dto: RecordJoinDto,
    path: { allianceId: 'slug' },
    run: (ctx, d, ids, body) =>
      recordMembershipFact(ctx, d.organisations, ids.allianceId, (body as RecordJoinDto).organisationId, {
        kind: 'join',
        input: body as RecordJoinDto,
      }),
  },
  leave: {
    dto: RecordLeaveDto,
    path: { allianceId: 'slug', organisationId: 'slug' },
    run: (ctx, d, ids, body) =>
      recordMembershipFact(ctx, d.organisations, ids.allianceId, ids.organisationId, { kind: 'leave', input: body as RecordLeaveDto }),
  },
  rename: {
    dto: RenameOrganisationDto,
    path: { organisationId: 'slug' },
    run: (ctx, _d, ids, body) => renameOrganisation(ctx, ids.organisationId, body as RenameOrganisationDto),
  },
  retraction: {
    dto: RetractEventDto,
    path: { eventId: 'uuid' },
    run: (ctx, d, ids, body) => retractEvent(ctx, d.store, d.rules, ids.eventId, body as RetractEventDto),
  },
  ...FUNDING_FACTS,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ParsedFact {
  spec: FactSpec;
  ids: Record<string, string>;
  body: object;
}

/** Validates every fact up front, so one response names every malformed fact with its index. */
export function parseFacts(facts: Array<Record<string, unknown>>): ParsedFact[] {
  const errors: FactError[] = [];
  const parsed: ParsedFact[] = [];
  facts.forEach((raw, index) => {
    const { fact, ...rest } = raw;
    const spec = typeof fact === 'string' && Object.hasOwn(FACTS, fact) ? FACTS[fact] : undefined;
    if (!spec) {
      errors.push({ index, field: 'fact', message: `must be one of ${Object.keys(FACTS).join(', ')}` });
      return;
    }
    const ids: Record<string, string> = {};
    for (const [name, kind] of Object.entries(spec.path)) {
      const value = rest[name];
      delete rest[name];
      if (value === undefined && spec.optionalPath?.includes(name)) {
        continue;
      }
      if (typeof value !== 'string' || !(kind === 'slug' ? SLUG : UUID).test(value)) {
        errors.push({ index, field: name, message: kind === 'slug' ? 'must be a slug ([a-z0-9][a-z0-9-]{0,62})' : 'must be a UUID' });
        continue;
      }
      ids[name] = kind === 'uuid' ? value.toLowerCase() : value;
    }
    const { value: body, errors: problems } = validateStrict(spec.dto, rest);
    errors.push(...problems.map((e) => ({ index, ...e })));
    parsed.push({ spec, ids, body });
  });
  if (errors.length) {
    throw new DomainError(400, `${new Set(errors.map((e) => e.index)).size} of ${facts.length} facts are invalid: ${errors.map((e) => `[${e.index}] ${e.field}: ${e.message}`).join('; ')}`, errors);
  }
  return parsed;
}

export class ImportFactsCommand {
  constructor(
    readonly facts: Array<Record<string, unknown>>,
    readonly meta: CommandMeta,
  ) {}
}

/**
 * All facts in one transaction: each goes through the same decision as its single endpoint,
 * seeing the facts before it. Every refusal is collected with its index; any refusal rolls
 * the whole import back.
 */
@CommandHandler(ImportFactsCommand)
export class ImportFactsHandler implements ICommandHandler<ImportFactsCommand> {
  constructor(
    private readonly recorder: Recorder,
    private readonly organisations: OrganisationsRepository,
    private readonly store: EventStore,
    private readonly rules: RetractionRules,
  ) {}

  async execute({ facts, meta }: ImportFactsCommand) {
    const parsed = parseFacts(facts);
    const deps: FactDeps = { organisations: this.organisations, store: this.store, rules: this.rules };
    return this.recorder.execute(meta, async (ctx) => {
      const events: unknown[] = [];
      const errors: FactError[] = [];
      for (const [index, fact] of parsed.entries()) {
        try {
          const result = await fact.spec.run(ctx, deps, fact.ids, fact.body);
          events.push(...(result.events ?? [result.event]));
        } catch (error) {
          if (!(error instanceof DomainError)) {
            throw error;
          }
          errors.push({ index, message: error.message });
        }
      }
      if (errors.length) {
        throw new DomainError(
          409,
          `nothing was recorded: ${errors.length} of ${facts.length} facts were refused: ${errors.map((e) => `[${e.index}] ${e.message}`).join('; ')}`,
          errors,
        );
      }
      return { events, count: events.length };
      // Thousands of facts with their own all-or-nothing rule: a transaction of its own.
    }, { alone: true });
  }
}
