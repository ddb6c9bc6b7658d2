/** The device authorization endpoint (RFC 8628 §3.1, §3.2). */
import { json, NO_STORE, oauthError } from "../../http.js";
import { randomToken } from "../../tokens.js";
import { formWithClient } from "../client-auth.js";
import { SCOPE_TOKEN } from "../config.js";
import { nowSeconds, type RequestContext } from "../context.js";
import type { DeviceRecord } from "../state.js";
import { normalizeUserCode } from "./device.js";

const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

function randomUserCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const letters = [...bytes].map((byte) => USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length]);
  return `${letters.slice(0, 4).join("")}-${letters.slice(4).join("")}`;
}

/** Starts a device authorization: a device code, a user code and where to enter it. */
export async function deviceAuthorization(
  context: RequestContext,
  request: Request,
): Promise<Response> {
  const { config, state } = context;
  const form = await formWithClient(context, request);
  if (form instanceof Response) {
    return form;
  }
  const { params, client } = form;
  const scope = params.get("scope") ?? "";
  if (scope !== "" && !scope.split(" ").every((token) => SCOPE_TOKEN.test(token))) {
    return oauthError(400, "invalid_scope", "scope is malformed");
  }
  let userCode = randomUserCode();
  while (state.devicesByUserCode.has(normalizeUserCode(userCode))) {
    userCode = randomUserCode();
  }
  const record: DeviceRecord = {
    deviceCode: randomToken(32),
    userCode,
    clientId: client.clientId,
    scope,
    expiresAtMs: config.now() + config.deviceTtl * 1000,
    intervalSeconds: config.deviceInterval,
    lastPollMs: undefined,
    status: config.deviceAutoApprove ? "approved" : "pending",
    subject: config.deviceAutoApprove ? config.subject : undefined,
    authTime: nowSeconds(context),
  };
  state.rememberDevice(record, normalizeUserCode(userCode));
  return json(
    200,
    {
      device_code: record.deviceCode,
      user_code: userCode,
      verification_uri: config.endpoints.deviceVerification,
      verification_uri_complete: `${config.endpoints.deviceVerification}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: config.deviceTtl,
      interval: config.deviceInterval,
    },
    NO_STORE,
  );
}
