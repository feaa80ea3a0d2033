/** The `type` of a webhook message. Values are a public contract: never rename one. */
export enum WebhookEventType {
  MembershipJoined = 'membership.joined',
  MembershipLeft = 'membership.left',
  FundingCommitted = 'funding.committed',
  FundingTranchePaid = 'funding.tranche_paid',
  FundingTerminated = 'funding.terminated',
  EventRetracted = 'event.retracted',
  OrganisationRegistered = 'organisation.registered',
  OrganisationRenamed = 'organisation.renamed',
  OrganisationUpdated = 'organisation.updated',
  AllianceRegistered = 'alliance.registered',
  Test = 'webhook.test',
}

export const WEBHOOK_EVENT_TYPES: readonly string[] = Object.values(WebhookEventType);

/** Domain event type in the log -> webhook type. Events not listed here are not sent. */
const BY_DOMAIN_TYPE: Readonly<Record<string, WebhookEventType>> = {
  MemberJoined: WebhookEventType.MembershipJoined,
  MemberLeft: WebhookEventType.MembershipLeft,
  FundingCommitted: WebhookEventType.FundingCommitted,
  FundingTranchePaid: WebhookEventType.FundingTranchePaid,
  FundingTerminated: WebhookEventType.FundingTerminated,
  EventRetracted: WebhookEventType.EventRetracted,
  OrganisationRegistered: WebhookEventType.OrganisationRegistered,
  OrganisationRenamed: WebhookEventType.OrganisationRenamed,
  OrganisationUpdated: WebhookEventType.OrganisationUpdated,
  AllianceRegistered: WebhookEventType.AllianceRegistered,
};

export function webhookTypeOf(domainType: string): WebhookEventType | null {
  return Object.prototype.hasOwnProperty.call(BY_DOMAIN_TYPE, domainType) ? BY_DOMAIN_TYPE[domainType] : null;
}

export const DOMAIN_EVENT_TYPES: readonly string[] = Object.keys(BY_DOMAIN_TYPE);
