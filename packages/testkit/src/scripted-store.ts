import { type ObjectStore, type StoreCall, TransientError, WrappedStore } from '@bucketdb/store';

/** What a rule does to the requests it matches: fail before running them, or hold them first. */
export interface ScriptedRule {
  /** Which requests it applies to. */
  match(call: StoreCall): boolean;
  /** Throw this (default: a TransientError) instead of running the request. */
  fail?: () => unknown;
  /** Run the request, then throw this instead of its answer (a write that landed but looks failed). */
  failAfter?: () => unknown;
  /** Run the request only once this promise settles. */
  hold?: () => Promise<unknown>;
  /** How many matching requests it affects (default 1). */
  times?: number;
}

/**
 * A store wrapper whose faults a test scripts exactly: "fail the next GET of log/2 once", "hold
 * this handle's PUTs until I say so". For regression tests of precise interleavings; randomized
 * faults are ChaosStore's job.
 */
export class ScriptedStore extends WrappedStore {
  readonly #rules: (ScriptedRule & { left: number })[] = [];
  readonly calls: StoreCall[] = [];

  constructor(inner: ObjectStore) {
    super(inner);
  }

  /** Adds a rule; returns a function that removes it. */
  add(rule: ScriptedRule): () => void {
    const entry = { ...rule, left: rule.times ?? 1 };
    this.#rules.push(entry);
    return () => {
      entry.left = 0;
    };
  }

  protected async around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    this.calls.push(call);
    const rule = this.#rules.find((r) => r.left > 0 && r.match(call));
    if (rule) {
      rule.left--;
      if (rule.hold) await rule.hold().catch(() => {});
      if (rule.failAfter) {
        await run();
        throw rule.failAfter();
      }
      if (rule.fail || !rule.hold) {
        throw rule.fail
          ? rule.fail()
          : new TransientError(`scripted fault on ${call.op} ${call.key}`, { key: call.key });
      }
    }
    return run();
  }
}
