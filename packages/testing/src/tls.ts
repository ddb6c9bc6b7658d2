import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PEM certificate and its private key. */
export interface FakeTlsCredentials {
  /** The certificate (PEM). Self-signed: pass it as `ca` to trust the server. */
  readonly cert: string;
  /** The private key (PEM, PKCS#8). */
  readonly key: string;
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve();
        return;
      }
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      reject(
        new Error(
          missing
            ? "https needs the openssl command on PATH to generate a certificate (or pass https: { key, cert })"
            : `openssl failed: ${stderr.trim() || error.message}`,
          { cause: error },
        ),
      );
    });
  });
}

/**
 * Generates a self-signed P-256 certificate for `127.0.0.1`, `::1` and `localhost`, valid for one
 * day, with the `openssl` command (Node has no API to create certificates; `openssl` is on every
 * Linux and macOS machine, and this keeps the package free of X.509 dependencies).
 *
 * @returns The certificate and key in PEM.
 * @throws Error when `openssl` is missing or fails.
 */
export async function generateSelfSignedCertificate(): Promise<FakeTlsCredentials> {
  const dir = await mkdtemp(join(tmpdir(), "latchkey-fake-idp-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=latchkey-fake-idp",
      "-addext",
      "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
      "-addext",
      "extendedKeyUsage=serverAuth",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
    const [key, cert] = await Promise.all([readFile(keyFile, "utf8"), readFile(certFile, "utf8")]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
