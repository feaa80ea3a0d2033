-- Indexes for the point-in-time questions (libs/questions). "Member on D as known at K" reads
-- the rows believed at K: those still believed now (recorded_to IS NULL) and those that were
-- closed after K. The two halves are separate index scans joined by UNION ALL, so a question
-- about the present never touches closed history, and one about the past touches only the
-- rows closed after its knownAt.

-- Current belief. Covering (every column a member list, a change list or a count reads), so
-- the member set is an index-only scan; valid_to is a key column so that "valid_to > D" is
-- checked in the index, not on the heap.
CREATE INDEX membership_intervals_current_cover_idx ON membership_intervals
  (alliance_id, valid_from, valid_to)
  INCLUDE (recorded_from, organisation_id, role, since_text, since_precision, until_text, until_precision)
  WHERE recorded_to IS NULL;

-- Closed rows by when they were closed: "believed at K" = closed after K. Covering likewise.
CREATE INDEX membership_intervals_closed_idx ON membership_intervals
  (alliance_id, recorded_to)
  INCLUDE (recorded_from, valid_from, valid_to, organisation_id, role, since_text, since_precision, until_text, until_precision)
  WHERE recorded_to IS NOT NULL;

-- The same two halves for one organisation's memberships; the current half also finds a
-- pair's believed rows when the projection recomputes them.
CREATE INDEX membership_intervals_org_current_idx ON membership_intervals (organisation_id, alliance_id)
  WHERE recorded_to IS NULL;
CREATE INDEX membership_intervals_org_closed_idx ON membership_intervals (organisation_id, recorded_to)
  WHERE recorded_to IS NOT NULL;

-- Renames only: names are read as "the registration name unless a rename holds", and most
-- organisations are never renamed.
CREATE INDEX organisation_names_renames_idx ON organisation_names (organisation_id, valid_from)
  WHERE valid_from IS NOT NULL;

-- Superseded by the indexes above (every reader of membership_intervals goes through them);
-- each index dropped is one less to maintain on every projected event.
DROP INDEX membership_intervals_current_idx;
DROP INDEX membership_intervals_alliance_idx;
DROP INDEX membership_intervals_org_idx;

-- Retraction flags in histories and change lists: the retraction of an event sits in the
-- event's own stream; this finds it without reading the stream's other events.
-- Text, not uuid: an index expression that could fail would make appends fail.
CREATE INDEX events_retracted_target_idx ON events ((data ->> 'eventId'))
  WHERE type = 'EventRetracted';

-- The projections look pairs and names up through these while they write, so the rebuild
-- (which drops the other non-unique indexes while it replays) keeps them.
COMMENT ON INDEX membership_facts_org_idx IS 'rebuild: keep (the membership projection reads a pair''s facts)';
COMMENT ON INDEX membership_intervals_org_current_idx IS 'rebuild: keep (the membership projection reads a pair''s believed intervals)';
COMMENT ON INDEX organisation_names_org_idx IS 'rebuild: keep (renames and updates read an organisation''s names)';
