// The server's chaos hooks (`perpx serve --chaos`, engine/gateway/handlers-chaos.ts) as calls:
// one request each, JSON in and out, a one-line Error on any non-2xx answer.

export interface ChaosTarget {
  serverUrl: string;
  adminToken: string;
}

const CHAOS_CALL_TIMEOUT_MS = 15_000;

/** POST (body given) or GET (body null) /admin/v1/chaos/<path>. */
export async function chaosCall(t: ChaosTarget, path: string, body: Record<string, unknown> | null): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.serverUrl}/admin/v1/chaos/${path}`, {
    method: body === null ? 'GET' : 'POST',
    headers: { 'x-perpx-admin': t.adminToken, 'content-type': 'application/json' },
    body: body === null ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CHAOS_CALL_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) {
    const hint = res.status === 404 ? ' (is the server started with --chaos?)' : '';
    throw new Error(`chaos ${path} → ${res.status} ${text.slice(0, 300)}${hint}`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}
