import { isIP } from 'node:net';
import {
  certificateFingerprint,
  enrolmentCaOf,
  EnrolmentError,
  verifyEnrolment,
  verifyEnrolmentWithItsOwnCa,
  type Enrolment,
} from '../../../shared/enrolment/index.ts';
import {
  describeCertificate,
  isNewerCrl,
  pemToDer,
  PEM_LABELS,
  readCrl,
  type CrlInfo,
} from '../../../shared/pki/index.ts';
import { assertEndpointId } from '../../../shared/protocol/index.ts';
import { DEFAULT_BROKER_KIND } from '../../../shared/broker/index.ts';
import type { EnrolmentSummary } from '../../../shared/api/index.ts';
import type { TrustConfig } from '../../../shared/cms/index.ts';
import type { ConnectionProfile } from './workstation-settings.ts';

/**
 * A workstation joining its region with one enrolment file (`.rtsenrol`, made by `rts region`). At first run no CA is
 * trusted yet: the file must be whole under the CA it carries, and the user compares that CA's fingerprint with the one
 * the administrator gave them by another channel. Once a CA is trusted, a newer file must verify against it: a file of
 * another CA is refused, so trust is never replaced behind the user's back.
 */
export interface CheckedEnrolment {
  readonly enrolment: Enrolment;
  /** SHA-256 of the region CA, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly caFingerprint: string;
  /** The file verified against the CA this workstation already trusts (a newer file of the same region). */
  readonly underTrustedCa: boolean;
}

/**
 * Verifies an enrolment file for this workstation; refuses (EnrolmentError, one line) a file altered after signing,
 * signed by anything but its region's enrolment signer, of another CA than the trusted one when there is one, with an
 * older CRL than the one held (a replayed old file would bring revoked certificates back), or made for a clinic system.
 */
export async function checkEnrolment(
  file: Uint8Array,
  trust: TrustConfig,
  now: Date = new Date(),
): Promise<CheckedEnrolment> {
  const trustedAnchors = trust.anchors;
  let checked: CheckedEnrolment;
  if (trustedAnchors.length === 0) {
    const verified = await verifyEnrolmentWithItsOwnCa(file, now);
    checked = { ...verified, underTrustedCa: false };
  } else {
    const named = enrolmentCaOf(file);
    const trusted = trustedAnchors.find((anchor) => bytesEqual(anchor, named));
    if (!trusted) {
      const fingerprints = await Promise.all(trustedAnchors.map((anchor) => certificateFingerprint(anchor)));
      throw new EnrolmentError(
        'enrolment-other-region',
        `the enrolment file is of another region CA (SHA-256 ${await certificateFingerprint(named)}) than the one this workstation trusts (${fingerprints.join(', ')})`,
      );
    }
    checked = {
      enrolment: await verifyEnrolment(file, trusted, now),
      caFingerprint: await certificateFingerprint(trusted),
      underTrustedCa: true,
    };
  }
  if (checked.underTrustedCa) {
    const carried = readCrl(pemToDer(checked.enrolment.crlPem, PEM_LABELS.crl));
    const newerHeld = (trust.crls ?? [])
      .map((der) => readCrl(der))
      .find((held) => held.issuer === carried.issuer && isNewerCrl(held, carried));
    if (newerHeld)
      throw new EnrolmentError(
        'enrolment-crl-older',
        `the enrolment file's CRL (${describeCrl(carried)}) is older than the one this workstation holds (${describeCrl(newerHeld)}); ask the administrator for a current file (rts region enrolment write)`,
      );
  }
  if (checked.enrolment.endpoint.kind !== 'workstation') {
    throw new EnrolmentError(
      'enrolment-not-for-workstation',
      `the enrolment file is for the ${checked.enrolment.endpoint.kind} "${checked.enrolment.endpoint.id}", not for a workstation`,
      { params: { kind: checked.enrolment.endpoint.kind, endpointId: checked.enrolment.endpoint.id } },
    );
  }
  return checked;
}

/** What the user compares and confirms before the file is applied. */
export function describeEnrolment(checked: CheckedEnrolment): EnrolmentSummary {
  const { enrolment } = checked;
  const crl = readCrl(pemToDer(enrolment.crlPem, PEM_LABELS.crl));
  const serverName = tlsServerNameOf(enrolment);
  return {
    region: enrolment.region,
    endpointId: enrolment.endpoint.id,
    brokerKind: enrolment.broker.kind ?? DEFAULT_BROKER_KIND,
    brokerHosts: enrolment.broker.hosts.map((h) => ({ host: h.host, port: h.port })),
    vhost: enrolment.broker.vhost,
    tls: enrolment.broker.tlsCaPem !== undefined,
    ...(serverName && { tlsServerName: serverName }),
    caSubject: describeCertificate(pemToDer(enrolment.caCertificatePem, PEM_LABELS.certificate)).subject,
    caFingerprint: checked.caFingerprint,
    hubSubject: describeCertificate(pemToDer(enrolment.hubCertificatePem, PEM_LABELS.certificate)).subject,
    ...(crl.nextUpdate && { crlNextUpdate: crl.nextUpdate.toISOString() }),
    issuedAt: enrolment.issuedAt,
    replacesTrust: checked.underTrustedCa,
  };
}

/**
 * The connection profile the file describes: the broker user is the endpoint id (the broker's `user_id` check and the
 * hub's routing rely on it), amqps with the file's broker CA when it names one.
 */
export function profileOfEnrolment(enrolment: Enrolment): ConnectionProfile {
  if (enrolment.broker.username !== enrolment.endpoint.id) {
    throw new EnrolmentError(
      'enrolment-broker-user-mismatch',
      `the enrolment file names broker user "${enrolment.broker.username}" for endpoint "${enrolment.endpoint.id}"; a workstation's broker user is its endpoint id`,
    );
  }
  const serverName = tlsServerNameOf(enrolment);
  return {
    hosts: enrolment.broker.hosts.map((h) => ({ host: h.host, port: h.port })),
    vhost: enrolment.broker.vhost,
    ...(enrolment.broker.kind && { brokerKind: enrolment.broker.kind }),
    endpointId: assertEndpointId(enrolment.endpoint.id),
    ...(enrolment.broker.tlsCaPem && {
      tls: { caPem: enrolment.broker.tlsCaPem, ...(serverName && { servername: serverName }) },
    }),
  };
}

/** The file's server name, else the first host when it is a DNS name (an IP address is no TLS server name, RFC 6066). */
function tlsServerNameOf(enrolment: Enrolment): string | undefined {
  if (!enrolment.broker.tlsCaPem) return undefined;
  const first = enrolment.broker.hosts[0]!.host;
  return enrolment.broker.tlsServerName ?? (isIP(first.replace(/^\[(.*)\]$/, '$1')) ? undefined : first);
}

const describeCrl = (crl: CrlInfo) =>
  crl.crlNumber === undefined ? `issued ${crl.thisUpdate.toISOString()}` : `number ${crl.crlNumber}`;

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
