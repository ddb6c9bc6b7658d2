/** The device verification page (RFC 8628 §3.3), where the user approves or denies a user code. */
import { escapeHtml, htmlError, htmlPage, parseParams } from "../../http.js";
import { mediaType, nowSeconds, type RequestContext, type ServerContext } from "../context.js";
import type { DeviceRecord } from "../state.js";

/** User codes compare case-insensitively, ignoring dashes and spaces (RFC 8628 §6.1). */
export function normalizeUserCode(userCode: string): string {
  return userCode.toUpperCase().replace(/[-\s]/g, "");
}

/** Answers a pending device authorization; a string explains why it cannot be. */
export function answerDevice(
  context: ServerContext,
  userCode: string,
  approved: boolean,
  sub: string,
): DeviceRecord | string {
  const { config, state } = context;
  const record = state.devicesByUserCode.get(normalizeUserCode(userCode));
  if (record === undefined) {
    return "unknown user code";
  }
  if (record.status !== "pending") {
    return "this code was already answered";
  }
  if (config.now() >= record.expiresAtMs) {
    return "this code has expired";
  }
  if (!config.users.has(sub)) {
    return `unknown user "${sub}"`;
  }
  record.status = approved ? "approved" : "denied";
  record.subject = approved ? sub : undefined;
  record.authTime = nowSeconds(context);
  return record;
}

function deviceForm(
  context: ServerContext,
  userCode: string,
  message: string | undefined,
  status = 200,
): Response {
  const { config } = context;
  const alert = message === undefined ? "" : `<p role="alert">${escapeHtml(message)}</p>`;
  const body = `${alert}<form method="post" action="${escapeHtml(config.paths.deviceVerification)}">
<label>Code <input name="user_code" value="${escapeHtml(userCode)}" autocomplete="off"></label>
<label>User <input name="login" value="${escapeHtml(config.subject)}" autocomplete="username"></label>
<button type="submit" name="action" value="approve">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`;
  return htmlPage(status, "Connect a device", body);
}

/** `GET /device` shows the form, `POST /device` answers it. */
export async function deviceVerification(
  context: RequestContext,
  request: Request,
): Promise<Response> {
  const { config } = context;
  if (request.method === "GET") {
    return deviceForm(context, new URL(request.url).searchParams.get("user_code") ?? "", undefined);
  }
  if (mediaType(request) !== "application/x-www-form-urlencoded") {
    return htmlError("The form must be posted as application/x-www-form-urlencoded.");
  }
  const params = parseParams(new URLSearchParams(await request.text()));
  context.log.params = params.raw;
  const userCode = params.get("user_code") ?? "";
  const approved = params.get("action") !== "deny";
  const result = answerDevice(context, userCode, approved, params.get("login") ?? config.subject);
  if (typeof result === "string") {
    return deviceForm(context, userCode, result, 400);
  }
  return htmlPage(
    200,
    approved ? "Device connected" : "Request denied",
    `<p>${approved ? "You can return to your device." : "The device was not connected."}</p>`,
  );
}
