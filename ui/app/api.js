// The one way the pages talk to /api/v1: JSON in and out, and every failure turned into an
// ApiError carrying the API's own message, so a page can always show what went wrong.

import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Field errors by field name, e.g. { phone: "Use international format" }. */
  fieldMessages() {
    const byField = {};
    for (const detail of this.details) {
      if (detail && detail.field && !(detail.field in byField)) byField[detail.field] = detail.message;
    }
    return byField;
  }
}

/**
 * An error of the page's own making (no answer, or an answer without a message). Its words are
 * looked up again when shown (`errorText`), so a page whose catalog arrives after the failure
 * (the join page asks for both at once) still shows words, not the message's id.
 */
function ownError(status, code, id, vars = {}) {
  const error = new ApiError(status, code, t(id, vars));
  error.words = [id, vars];
  return error;
}

let onSignedOut = null;

/** Called (once per failing request) when the API says the session is gone. */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

/**
 * Calls the API. `path` is relative to /api/v1 unless it starts with "/".
 * Resolves with the parsed JSON (or null for 204); rejects with an ApiError. `keepalive` lets the
 * request finish after the page is gone (pagehide).
 */
export async function api(path, { method = 'GET', body, contentType, query, signedOutIsError = false, keepalive = false } = {}) {
  const url = withQuery(path.startsWith('/') ? path : `/api/v1/${path}`, query);
  const headers = { accept: 'application/json' };
  // JSON unless the caller sends something else as is (a CSV file, say).
  if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined || contentType ? body : JSON.stringify(body),
      credentials: 'same-origin',
      // Outlives the page: a decision sent as the captain leaves still arrives.
      keepalive,
    });
  } catch {
    throw ownError(0, 'network', 'app-shared-network');
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON: the message below says what happened.
  }
  if (!response.ok) {
    const details = Array.isArray(data?.details) ? data.details : [];
    const error = typeof data?.message === 'string' && data.message
      ? new ApiError(response.status, data?.code ?? 'unknown', data.message, details)
      : ownError(response.status, data?.code ?? 'unknown', 'app-shared-status', { status: response.status });
    error.details = details;
    if (response.status === 401 && !signedOutIsError && onSignedOut) onSignedOut(error);
    throw error;
  }
  return data;
}

/** The text to show for any failure: the API's message, or a plain sentence. */
export function errorText(error) {
  if (error instanceof ApiError) return error.words ? t(...error.words) : error.message;
  return t('app-shared-failed');
}
