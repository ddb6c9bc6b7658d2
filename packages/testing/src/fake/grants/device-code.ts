import { oauthError } from "../../http.js";
import type { GrantContext } from "../client-auth.js";
import { takeFault } from "../context.js";
import { issueTokens, newFamily } from "../issue.js";

/** The device code grant (RFC 8628 §3.4, §3.5): polls answered per the record, the interval and the `device:*` faults. */
export async function deviceCodeGrant(context: GrantContext, _request: Request): Promise<Response> {
  const { config, state, params, client } = context;
  const deviceCode = params.get("device_code");
  if (deviceCode === undefined) {
    return oauthError(400, "invalid_request", "device_code is required");
  }
  const record = state.devicesByCode.get(deviceCode);
  if (record === undefined || record.clientId !== client.clientId || record.status === "used") {
    return oauthError(400, "invalid_grant", "unknown device_code");
  }
  const lastPoll = record.lastPollMs;
  record.lastPollMs = config.now();
  const scripted = takeFault(context, (name) => name.startsWith("device:"));
  switch (scripted?.name) {
    case "device:authorization_pending":
      return oauthError(400, "authorization_pending", "the user has not answered yet (scripted)");
    case "device:slow_down":
      record.intervalSeconds += 5;
      return oauthError(
        400,
        "slow_down",
        `polling too fast; wait ${record.intervalSeconds} s (scripted)`,
      );
    case "device:access_denied":
      return oauthError(400, "access_denied", "the user denied the request (scripted)");
    case "device:expired_token":
      return oauthError(400, "expired_token", "the device_code has expired (scripted)");
    default:
      break;
  }
  if (config.now() >= record.expiresAtMs) {
    return oauthError(400, "expired_token", "the device_code has expired");
  }
  if (record.status === "denied") {
    return oauthError(400, "access_denied", "the user denied the request");
  }
  if (lastPoll !== undefined && record.lastPollMs - lastPoll < record.intervalSeconds * 1000) {
    record.intervalSeconds += 5;
    return oauthError(400, "slow_down", `polling too fast; wait ${record.intervalSeconds} s`);
  }
  if (record.status === "pending" || record.subject === undefined) {
    return oauthError(400, "authorization_pending", "the user has not answered yet");
  }
  record.status = "used";
  const family = newFamily(context, client.clientId, record.subject, record.scope, record.authTime);
  return issueTokens(context, client, family, {
    scope: record.scope,
    nonce: undefined,
    refreshToken: undefined,
    fromRefresh: false,
  });
}
