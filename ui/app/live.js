// Live updates of one neighborhood: server-sent events from GET .../events, fed by Redis pub/sub,
// so a change handled by any instance shows here. Views subscribe by kind and refetch what changed.

import { t } from './i18n.js';

export class LiveFeed {
  constructor(neighborhoodId, statusNode) {
    // Without a neighborhood the feed stays silent (an archived one has nothing to report).
    this.url = neighborhoodId ? `/api/v1/neighborhoods/${neighborhoodId}/events` : null;
    this.statusNode = statusNode;
    this.listeners = new Map(); // kind -> Set<fn>
    this.retryTimer = null;
    this.closed = false;
    this.connect();
  }

  setStatus(state, text) {
    if (!this.statusNode) return;
    this.statusNode.dataset.state = state;
    this.statusNode.textContent = text;
  }

  connect() {
    if (this.closed || this.url === null) return;
    if (typeof EventSource === 'undefined') {
      this.setStatus('off', t('app-live-unavailable'));
      return;
    }
    this.source = new EventSource(this.url, { withCredentials: true });
    this.source.addEventListener('open', () => {
      this.setStatus('live', t('app-live-on'));
      // Whatever happened while disconnected: every view refetches.
      this.emit({ kind: 'reconnected' });
    });
    this.source.addEventListener('error', () => {
      if (this.source.readyState === EventSource.CLOSED) {
        this.setStatus('off', t('app-live-paused'));
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.connect(), 5000);
      } else {
        this.setStatus('reconnecting', t('app-live-reconnecting'));
      }
    });
    this.source.addEventListener('message', (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event && typeof event.kind === 'string') this.emit(event);
    });
  }

  emit(event) {
    const kinds = event.kind === 'reconnected' ? [...this.listeners.keys()] : [event.kind];
    for (const kind of kinds) {
      for (const listener of this.listeners.get(kind) ?? []) listener(event);
    }
  }

  /** Calls `listener(event)` for each event of `kind`; returns the unsubscribe function. */
  on(kind, listener) {
    if (!this.listeners.has(kind)) this.listeners.set(kind, new Set());
    this.listeners.get(kind).add(listener);
    return () => this.listeners.get(kind)?.delete(listener);
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.source?.close();
  }
}

/** Runs `work` at most once at a time, again once more if asked meanwhile (bursts of events). */
export function coalesce(work) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await work();
        } catch {
          // The view shows its own errors; a failed refresh is retried on the next event.
        }
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = null;
    }
  };
  return run;
}
