import { generateKeyPairSync, randomBytes } from "node:crypto";
import { stringify } from "yaml";

export interface ServiceAccountKeys {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** The key kube-apiserver signs ServiceAccount tokens (TokenRequest) with, and verifies them by. */
export function serviceAccountKeys(): ServiceAccountKeys {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export function adminToken(): string {
  return randomBytes(24).toString("hex");
}

/** A --token-auth-file line: the token's user belongs to system:masters, the cluster-admin group. */
export function tokenAuthFile(token: string): string {
  return `${token},admin,admin-uid,"system:masters"\n`;
}

export function adminKubeconfig(server: string, caPem: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "mlautoscale-local",
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: "admin", user: { token } }],
    contexts: [{ name: "mlautoscale-local", context: { cluster: "mlautoscale-local", user: "admin" } }],
    "current-context": "mlautoscale-local",
  });
}
