import type { PutBody, PutOptions, PutResult } from '../object-store.js';
import { type StoreCall, WrappedStore } from './wrapped-store.js';

/**
 * A store that drops If-Match / If-None-Match on PUT, as some S3-compatible stores do: every
 * mechanism built on conditional writes is broken over it. Checkers run over it to show they catch
 * a broken build, and capability probes to show they detect one.
 */
export class IgnoresConditionsStore extends WrappedStore {
  protected around<T>(_call: StoreCall, run: () => Promise<T>): Promise<T> {
    return run();
  }

  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const { ifMatch: _m, ifNoneMatch: _n, ...rest } = options;
    return super.put(key, body, rest);
  }
}
