/**
 * The certificate rennet generates for unknown SNI (when no --default-certificate is given) must
 * be valid DER every time: a random serial number starting with a zero byte used to be encoded
 * with illegal padding, and then `rennet serve` failed to start ("asn1 encoding routines::illegal
 * padding") about once in 256 starts.
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { selfSignedCertificate } from "../src/tls/self-signed.js";

describe("the generated self-signed certificate", () => {
  it("parses, whatever random serial number it drew (4000 draws)", () => {
    const now = new Date();
    let failures = 0;
    let firstError = "";
    for (let i = 0; i < 4000; i++) {
      const { cert } = selfSignedCertificate("rennet", ["rennet.invalid"], now);
      try {
        new X509Certificate(cert);
      } catch (error) {
        failures++;
        firstError ||= String(error);
      }
    }
    expect(firstError).toBe("");
    expect(failures).toBe(0);
  });
});
