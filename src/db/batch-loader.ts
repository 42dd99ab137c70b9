import DataLoader from "dataloader";

/**
 * Per-request batch loader of one entity by id: one read (`findByIds`, a repository's) for all the
 * ids a response mentions; the answers come back in the order asked, null for an id not found.
 */
export function createByIdLoader<T extends { id: string }>(findByIds: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    // Padded to a power of two (repeating the last id), so that batches of any size share a few
    // statement texts and do not crowd the hot paths out of the prepared-statement cache.
    const padded = [...ids];
    while (padded.length & (padded.length - 1)) padded.push(ids[ids.length - 1]!);
    const found = await findByIds(padded);
    const byId = new Map(found.map((value) => [value.id, value]));
    return ids.map((id) => byId.get(id) ?? null);
  }, { maxBatchSize: 500 });
}

