/**
 * Switches that break the event store on purpose, for the tests that show the randomized checker
 * catches a broken build. Not exported from the package; never set outside tests.
 */
export const brokenForTests = {
  /** Skip the event-id check inside group commit: retries after ambiguous writes duplicate events. */
  skipIdCheck: false,
  /** Accept a consumer-group settle from any member, not only the event's current claim: a stale owner's ack lands. */
  unfencedSettles: false,
  /** Retention ignores consumer groups: GC deletes records a group has not taken in yet. */
  gcIgnoresGroups: false,
  /** Readers ignore the GC floor: a cold reader follows index entries to deleted records. */
  readersIgnoreFloor: false,
};
