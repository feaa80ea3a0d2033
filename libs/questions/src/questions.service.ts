import { Injectable } from '@nestjs/common';
import { EventStore } from '@app/event-store';
import { eventView, notFound, todayIso, ValidDate } from '@app/shared';
import { toCsv } from './csv';
import { FactCursor, MemberFilter, Moment, QuestionsRepository } from './questions.repository';
import { renderTimelineSvg } from './timeline-svg';

/** What every question gets: the world on `at`, as known at `knownAt`. */
export interface Ask {
  at: ValidDate;
  knownAt: Date;
}

const moment = (ask: Ask): Moment => ({ date: ask.at.date, knownAt: ask.knownAt });

const echo = (ask: Ask) => ({ at: ask.at.on, atPrecision: ask.at.precision, knownAt: ask.knownAt.toISOString() });

export const MEMBERS_CSV_HEADER = ['organisationId', 'name', 'country', 'kind', 'role', 'since'];

/**
 * Point-in-time questions, answered from the projection tables (never by replaying the log).
 * Unknown ids are 404 as known now; an alliance or organisation registered after knownAt
 * simply has nothing to show at that knownAt.
 */
@Injectable()
export class QuestionsService {
  constructor(
    private readonly repo: QuestionsRepository,
    private readonly store: EventStore,
  ) {}

  /** The ask with a knownAt whose answer is final (see EventStore.settledKnownAt). */
  async settle(ask: Ask): Promise<Ask> {
    return { ...ask, knownAt: await this.store.settledKnownAt(ask.knownAt) };
  }

  async members(allianceId: string, ask: Ask, filter: MemberFilter, page: { limit: number; cursor: string | null }) {
    ask = await this.settle(ask);
    // The 404 check and the question run side by side: the question is empty for an unknown id.
    const [, { total, members }] = await Promise.all([
      this.alliance(allianceId),
      this.repo.members(allianceId, moment(ask), todayIso(), filter, { limit: page.limit + 1, cursor: page.cursor }),
    ]);
    const shown = members.slice(0, page.limit);
    return {
      allianceId,
      ...echo(ask),
      ...filter,
      count: total,
      members: shown.map((r) => ({
        organisationId: r.organisation_id!,
        name: r.name,
        currentName: r.current_name,
        country: r.country,
        kind: r.kind,
        role: r.role,
        since: r.since_text,
        sincePrecision: r.since_precision,
      })),
      nextCursor: members.length > page.limit ? shown[shown.length - 1].organisation_id : null,
    };
  }

  async membersCsv(allianceId: string, ask: Ask, filter: MemberFilter): Promise<string> {
    const answer = await this.members(allianceId, ask, filter, { limit: Number.MAX_SAFE_INTEGER - 1, cursor: null });
    return toCsv([
      MEMBERS_CSV_HEADER,
      ...answer.members.map((m) => [m.organisationId, m.name, m.country, m.kind, m.role, m.since]),
    ]);
  }

  async stats(allianceId: string, ask: Ask) {
    ask = await this.settle(ask);
    const [, rows] = await Promise.all([this.alliance(allianceId), this.repo.stats(allianceId, moment(ask))]);
    const byCountry: Record<string, number> = {};
    const byKind: Record<string, number> = {};
    let count = 0;
    for (const r of rows) {
      count += r.n;
      byCountry[r.country ?? 'unknown'] = (byCountry[r.country ?? 'unknown'] ?? 0) + r.n;
      byKind[r.kind ?? 'unknown'] = (byKind[r.kind ?? 'unknown'] ?? 0) + r.n;
    }
    return { allianceId, ...echo(ask), count, byCountry: sortKeys(byCountry), byKind: sortKeys(byKind) };
  }

  /** `at` names the organisations (it defaults to `to`); the member sets are compared on `from` and `to`. */
  /** `events` is a list like any other: `limit` of them after `cursor`, and `nextCursor`. */
  async changes(allianceId: string, from: ValidDate, to: ValidDate, ask: Ask, page: { limit: number; cursor: FactCursor | null }) {
    ask = await this.settle(ask);
    await this.alliance(allianceId);
    const [changed, facts] = await Promise.all([
      this.repo.changes(allianceId, from.date, to.date, moment(ask), todayIso()),
      this.repo.factsBetween(allianceId, from.date, to.date, ask.knownAt, { limit: page.limit + 1, after: page.cursor }),
    ]);
    const shown = facts.slice(0, page.limit);
    const last = shown[shown.length - 1];
    const view = (r: (typeof changed)[number], on: string | null, precision: string | null) => ({
      organisationId: r.organisation_id,
      name: r.name,
      currentName: r.current_name,
      on,
      precision,
    });
    return {
      allianceId,
      from: from.on,
      fromPrecision: from.precision,
      to: to.on,
      toPrecision: to.precision,
      ...echo(ask),
      joined: changed.filter((r) => r.change === 'joined').map((r) => view(r, r.since_text, r.since_precision)),
      left: changed.filter((r) => r.change === 'left').map((r) => view(r, r.until_text, r.until_precision)),
      events: shown.map((f) => ({ ...eventView(f.event), retracted: f.retracted, retractedBy: f.retractedBy })),
      nextCursor: facts.length > page.limit ? `${last.date}.${last.event.position}` : null,
    };
  }

  async timeline(allianceId: string, ask: Ask) {
    ask = await this.settle(ask);
    const name = await this.alliance(allianceId);
    const points = await this.repo.timeline(allianceId, ask.at.date, ask.knownAt);
    return { allianceId, name, ...echo(ask), points };
  }

  async timelineSvg(allianceId: string, ask: Ask): Promise<string> {
    const t = await this.timeline(allianceId, ask);
    return renderTimelineSvg({
      title: `${t.name}: members over time`,
      subtitle: `to ${t.at}, as known at ${t.knownAt}`,
      points: t.points,
      until: ask.at.date,
    });
  }

  async memberships(organisationId: string, ask: Ask) {
    ask = await this.settle(ask);
    const name = await this.organisation(organisationId, ask);
    const rows = await this.repo.memberships(organisationId, moment(ask));
    return {
      organisationId,
      ...name,
      ...echo(ask),
      memberships: rows.map((r) => ({
        allianceId: r.alliance_id,
        name: r.alliance_name,
        role: r.role,
        since: r.since_text,
        sincePrecision: r.since_precision,
      })),
    };
  }

  async history(organisationId: string, ask: Ask, page: { limit: number; after: string | null }) {
    ask = await this.settle(ask);
    const name = await this.organisation(organisationId, ask);
    // One row more than the page says whether there is a next one: nextCursor is null at the end.
    const rows = await this.repo.history(organisationId, ask.knownAt, { limit: page.limit + 1, after: page.after });
    const shown = rows.slice(0, page.limit);
    return {
      organisationId,
      ...name,
      ...echo(ask),
      events: shown.map((r) => ({ ...eventView(r.event), retracted: r.retractedBy !== null, retractedBy: r.retractedBy })),
      nextCursor: rows.length > page.limit ? shown[shown.length - 1].event.position : null,
    };
  }

  private async alliance(id: string): Promise<string> {
    const name = await this.repo.allianceName(id);
    if (name === null) {
      throw notFound(`no alliance ${id}`);
    }
    return name;
  }

  /** 404 when unknown now; its name on `at` and today's, as known at knownAt (null before it was registered). */
  private async organisation(id: string, ask: Ask) {
    const row = await this.repo.name(id, moment(ask), todayIso());
    if (!row) {
      throw notFound(`no organisation ${id}`);
    }
    return { name: row.name, currentName: row.current_name };
  }
}

function sortKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
