/** One stream per organisation, alliance, membership (alliance + organisation) and funding. */
export const streams = {
  organisation: (id: string) => `organisation-${id}`,
  alliance: (id: string) => `alliance-${id}`,
  // Slugs never contain '.', so the pair is unambiguous.
  membership: (allianceId: string, organisationId: string) => `membership-${allianceId}.${organisationId}`,
  funding: (id: string) => `funding-${id}`,
};

export function parseMembershipStream(streamId: string): { allianceId: string; organisationId: string } | null {
  const m = /^membership-([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(streamId);
  return m ? { allianceId: m[1], organisationId: m[2] } : null;
}

export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
