/**
 * Fill a store with N minimal sessions through its own API (BENCH_PREFILL), for the scale measurement.
 */
import { forEachConcurrent, minimalExpressSession, minimalRecord, newSessionId, newStoreKey } from "./fill.js";

type CloakroomStore = { capabilities: object; create(key: string, record: object): Promise<void> };
type ExpressStore = { set(sid: string, session: object, callback: (error?: unknown) => void): void };

export async function prefillStore(store: object, count: number): Promise<void> {
  const now = Date.now();
  const started = performance.now();
  if ("capabilities" in store) {
    const s = store as CloakroomStore;
    await forEachConcurrent(count, 256, (i) => s.create(newStoreKey(), minimalRecord(`filler-${i}`, now)));
  } else {
    const s = store as ExpressStore;
    await forEachConcurrent(count, 256, (i) =>
      new Promise<void>((resolve, reject) => s.set(newSessionId(), minimalExpressSession(`filler-${i}`), (e) => (e ? reject(e) : resolve()))),
    );
  }
  console.error(`prefilled ${count} sessions in ${Math.round(performance.now() - started)} ms`);
}
