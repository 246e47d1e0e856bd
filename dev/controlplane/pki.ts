// The certificates the local cluster's add-ons need, made with openssl (Node can parse X.509 but not
// issue it). ECDSA P-256 keys: generated in milliseconds, and accepted by every Go TLS stack involved.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CertificateFiles {
  cert: string;
  key: string;
}

export interface LocalPki {
  /** kube-apiserver --requestheader-client-ca-file: aggregated API servers trust requests signed by it. */
  frontProxyCa: string;
  /** kube-apiserver --proxy-client-cert-file/--proxy-client-key-file (CN front-proxy-client). */
  frontProxyClient: CertificateFiles;
  /**
   * kube-apiserver --client-ca-file. No client certificate is ever issued from it (clients use tokens),
   * but aggregated API servers expect the API server to publish one and complain once a minute otherwise.
   */
  clientCa: string;
  /** Signs every serving certificate below; the caBundle of APIServices and webhooks. */
  servingCa: string;
  servingCaPem: string;
  /** One serving certificate for every add-on the API server calls (SERVING_NAMES), and for KWOK. */
  serving: CertificateFiles;
  /**
   * KEDA's cert-dir: ca.crt, tls.crt and tls.key. Its operator and metrics server talk gRPC over mutual
   * TLS from it, and its webhooks serve tls.crt.
   */
  kedaCertDir: string;
}

/** The Service names the API server dials (ExternalName Services to localhost): <name>.<namespace>.svc. */
export const SERVING_NAMES = [
  "keda-metrics-apiserver.keda.svc",
  "keda-admission-webhooks.keda.svc",
  "metrics-server.kube-system.svc",
  "prometheus-adapter.kube-system.svc",
  "localhost",
] as const;

export function createLocalPki(dir: string, openssl: string): LocalPki {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]): void => {
    execFileSync(openssl, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  };
  const key = (name: string): string => {
    const path = join(dir, `${name}.key`);
    run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path]);
    return path;
  };
  const ca = (name: string, commonName: string): CertificateFiles => {
    const files = { key: key(name), cert: join(dir, `${name}.crt`) };
    run([
      "req",
      "-x509",
      "-new",
      "-key",
      files.key,
      "-out",
      files.cert,
      "-days",
      "30",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    return files;
  };
  const leaf = (
    name: string,
    issuer: CertificateFiles,
    commonName: string,
    usage: string,
    altNames: readonly string[] = [],
  ): CertificateFiles => {
    const files = { key: key(name), cert: join(dir, `${name}.crt`) };
    const csr = join(dir, `${name}.csr`);
    const extensions = join(dir, `${name}.ext`);
    const sans = altNames.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`));
    writeFileSync(
      extensions,
      [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        `extendedKeyUsage=${usage}`,
        ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
      ].join("\n"),
    );
    run(["req", "-new", "-key", files.key, "-out", csr, "-subj", `/CN=${commonName}`]);
    run([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      issuer.cert,
      "-CAkey",
      issuer.key,
      "-CAcreateserial",
      "-out",
      files.cert,
      "-days",
      "30",
      "-extfile",
      extensions,
    ]);
    rmSync(csr);
    rmSync(extensions);
    return files;
  };

  const frontProxyCa = ca("front-proxy-ca", "front-proxy-ca");
  const frontProxyClient = leaf("front-proxy-client", frontProxyCa, "front-proxy-client", "clientAuth");
  const clientCa = ca("client-ca", "mlautoscale-local-client-ca");
  const servingCa = ca("serving-ca", "mlautoscale-local-serving-ca");
  // clientAuth too: KEDA's operator and metrics server present it to each other over gRPC.
  const serving = leaf("serving", servingCa, "mlautoscale-local-addons", "serverAuth,clientAuth", [
    ...SERVING_NAMES,
    "keda-operator.keda.svc.cluster.local",
    "127.0.0.1",
  ]);
  // KEDA's layout: ca.crt, tls.crt and tls.key in one folder.
  const kedaCertDir = join(dir, "keda");
  mkdirSync(kedaCertDir);
  copyFileSync(servingCa.cert, join(kedaCertDir, "ca.crt"));
  copyFileSync(serving.cert, join(kedaCertDir, "tls.crt"));
  copyFileSync(serving.key, join(kedaCertDir, "tls.key"));

  return {
    frontProxyCa: frontProxyCa.cert,
    clientCa: clientCa.cert,
    frontProxyClient,
    servingCa: servingCa.cert,
    servingCaPem: readFileSync(servingCa.cert, "utf8"),
    serving,
    kedaCertDir,
  };
}
