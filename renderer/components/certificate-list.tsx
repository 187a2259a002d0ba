import type { SetupState } from '../../shared/api/index.ts';

type CertificateStatus = NonNullable<SetupState['identity']>['certificates'][number];

const STATE_WORDS: Record<CertificateStatus['state'], string> = {
  valid: 'Valid',
  expiring: 'Expires soon',
  expired: 'Expired',
  'not-yet-valid': 'Not yet valid',
  revoked: 'Revoked by the region',
  untrusted: 'Not trusted',
};
const USE_WORDS: Record<CertificateStatus['use'], string> = {
  signing: 'Signing',
  encryption: 'Encryption',
  hub: 'Hub',
  anchor: 'Regional CA',
};

/** Certificates with who they name, until when, and whether they hold. */
export function CertificateList({
  certificates,
  label,
}: {
  certificates: readonly CertificateStatus[];
  label: string;
}) {
  return (
    <table className="data-table certificate-list" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Use</th>
          <th scope="col">Subject</th>
          <th scope="col">Valid until</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {certificates.map((c) => (
          <tr key={`${c.use}-${c.serialNumber}`}>
            <td>{USE_WORDS[c.use]}</td>
            <td>{c.subject}</td>
            <td>{c.notAfter.slice(0, 10)}</td>
            <td>
              <span className="badge" data-tone={c.state === 'valid' ? 'ok' : c.state === 'expiring' ? 'warn' : 'bad'}>
                {STATE_WORDS[c.state]}
              </span>
              {c.problem && <span className="hint"> {c.problem}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
