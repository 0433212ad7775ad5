import { generateKeyPairSync, randomBytes, sign } from "node:crypto";

// Just enough DER (X.690) to write one self-signed X.509 v3 certificate.
function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
const explicit = (index: number, item: Buffer) => tlv(0xa0 + index, item);

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift(0x80 | (value & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function generalizedTime(date: Date): Buffer {
  return tlv(0x18, Buffer.from(`${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`, "ascii"));
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid("2.5.4.3"), utf8(commonName))));
}

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));

export interface SelfSignedCertificate {
  readonly cert: string;
  readonly key: string;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * A fresh P-256 key and a self-signed certificate for it, in memory only:
 * the certificate rennet shows for unknown SNI when no default certificate
 * Secret is configured. `now` is the clock (validity starts an hour before it).
 */
export function selfSignedCertificate(
  commonName: string,
  dnsNames: readonly string[],
  now: Date,
): SelfSignedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const serial = randomBytes(16);
  // A positive INTEGER in minimal DER: the top bit clear, and never a leading zero byte
  // (OpenSSL rejects "0x00 0x0?…" as illegal padding, so 1 start in ~256 failed).
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now.getTime() + 365 * 86_400_000);
  const subjectAltName = sequence(...dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, "ascii"))));
  const extensions = explicit(
    3,
    sequence(
      sequence(oid("2.5.29.17"), tlv(0x04, subjectAltName)),
      // basicConstraints: not a CA (critical)
      sequence(oid("2.5.29.19"), tlv(0x01, Buffer.from([0xff])), tlv(0x04, sequence())),
    ),
  );
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ECDSA_WITH_SHA256,
    name(commonName),
    sequence(generalizedTime(notBefore), generalizedTime(notAfter)),
    name(commonName),
    publicKey.export({ type: "spki", format: "der" }),
    extensions,
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = sequence(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.from([0]), signature));
  return { cert: pem("CERTIFICATE", certificate), key: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}
