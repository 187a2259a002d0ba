import { COMMANDS, API_ERROR_CODES, type SetupState } from '../../../shared/api/index.ts';
import { isEnrolmentError } from '../../../shared/enrolment/index.ts';
import type { CommandHandlers } from '../api/command-dispatcher.ts';
import { AUDIT_ACTIONS } from '../audit/audit-log.ts';
import { CoreError } from '../core-error.ts';
import { IdentityError } from '../identity/practitioner-identity.ts';
import { checkEnrolment, describeEnrolment, profileOfEnrolment } from '../settings/enrolment-intake.ts';
import { connectionProfileSchema, type ConnectionProfile } from '../settings/workstation-settings.ts';
import { brokerPasswordAccount } from '../vault/vault-accounts.ts';
import type { CoreContext } from './core-context.ts';
import { plainProfileProblem, type CoreLink } from './link.ts';
import type { StateViews } from './state-views.ts';

type SetupCommands = Pick<
  CommandHandlers,
  | typeof COMMANDS.getAppInfo
  | typeof COMMANDS.getConnectionState
  | typeof COMMANDS.getSetupState
  | typeof COMMANDS.setProfile
  | typeof COMMANDS.readEnrolment
  | typeof COMMANDS.enrol
  | typeof COMMANDS.setUiPreferences
  | typeof COMMANDS.setTrust
  | typeof COMMANDS.importPkcs12
  | typeof COMMANDS.createCertificateRequest
  | typeof COMMANDS.importCertificate
>;

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** A refused enrolment file is one line for the user, and nothing of the set-up has changed. */
async function enrolmentStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isEnrolmentError(error))
      throw new CoreError(
        API_ERROR_CODES.enrolmentRefused,
        error.reason,
        `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}. Nothing was changed.`,
        { ...(error.params && { params: error.params }) },
      );
    throw error;
  }
}

async function identityStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof IdentityError)
      throw new CoreError(
        error.code === 'identity-invalid' ? API_ERROR_CODES.identityInvalid : API_ERROR_CODES.notConfigured,
        error.reason,
        error.message,
        { ...(error.params && { params: error.params }) },
      );
    throw error;
  }
}

/** The set-up: the region's connection (by hand or from an enrolment file), the trust, the practitioner's certificates. */
export function setupCommands(ctx: CoreContext, views: StateViews, link: CoreLink): SetupCommands {
  const { options, settings } = ctx;

  /** Saves a checked profile (and the broker password into the keychain) and connects with it. */
  async function saveProfile(profile: ConnectionProfile, brokerPassword: string | undefined): Promise<SetupState> {
    if (brokerPassword !== undefined)
      await options.vault.set(brokerPasswordAccount(profile.endpointId), brokerPassword);
    // Registration is idempotent at the hub: after any change of region (e.g. a new demo region) register again.
    if (JSON.stringify(settings.read().profile) !== JSON.stringify(profile)) ctx.need().registration.reset();
    settings.setProfile(profile);
    await link.disconnect();
    await link.connect();
    return views.setupChanged();
  }

  /** With both certificates in place the downlink can be read and the workstation registered. */
  async function identityChanged(): Promise<SetupState> {
    // New trust (a CRL or certificates set in Settings, an enrolment): what waited for it is handled again.
    ctx.link?.receiver?.handleParkedAgain();
    await link.startReceiving();
    return views.setupChanged();
  }

  return {
    [COMMANDS.getAppInfo]: async () => ({ productName: options.productName, version: options.version }),
    [COMMANDS.getConnectionState]: async () => ctx.connectionState(),
    [COMMANDS.getSetupState]: async () => views.setupState(),
    [COMMANDS.setProfile]: async ({ profile, brokerPassword }) => {
      ctx.need();
      const plain = plainProfileProblem(profile);
      if (plain)
        throw new CoreError(
          API_ERROR_CODES.invalidRequest,
          'connection-plain-amqp',
          `The connection was not saved: ${plain}.`,
        );
      return saveProfile(profile, brokerPassword);
    },
    [COMMANDS.readEnrolment]: async ({ enrolmentBase64 }) =>
      describeEnrolment(
        await enrolmentStep(() => checkEnrolment(fromBase64(enrolmentBase64), ctx.need().identity.trust())),
      ),
    [COMMANDS.enrol]: async ({ enrolmentBase64, brokerPassword }) => {
      const { identity, audit } = ctx.unlocked();
      const checked = await enrolmentStep(() => checkEnrolment(fromBase64(enrolmentBase64), identity.trust()));
      const { enrolment } = checked;
      const profile = await enrolmentStep(async () => profileOfEnrolment(enrolment));
      // The settings keep a profile only within the contract's limits: checked here, before anything is applied.
      const bounded = connectionProfileSchema.safeParse(profile);
      if (!bounded.success)
        throw new CoreError(
          API_ERROR_CODES.enrolmentRefused,
          'enrolment-connection-out-of-bounds',
          `The enrolment file was not applied: its connection is outside what a workstation keeps (${bounded.error.issues
            .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
            .join('; ')}). Nothing was changed.`,
        );
      const plain = plainProfileProblem(profile);
      if (plain)
        throw new CoreError(
          API_ERROR_CODES.enrolmentRefused,
          'enrolment-plain-amqp',
          `The enrolment file was not applied: ${plain}. Nothing was changed.`,
        );
      // The trust first: it is what can still be refused (e.g. a hub certificate the CRL revokes), before anything changed.
      try {
        await identity.setTrust({
          anchorsPem: enrolment.caCertificatePem,
          crlsPem: enrolment.crlPem,
          hubCertificatePem: enrolment.hubCertificatePem,
        });
      } catch (error) {
        if (error instanceof IdentityError)
          throw new CoreError(
            API_ERROR_CODES.enrolmentRefused,
            error.reason,
            `The enrolment file was not applied: ${error.message.replace(/\.$/, '')}. Nothing was changed.`,
            { ...(error.params && { params: error.params }) },
          );
        throw error;
      }
      audit.append({
        actor: identity.practitionerId() ?? 'system',
        action: AUDIT_ACTIONS.enrolled,
        subject: `endpoint:${enrolment.endpoint.id}`,
        detail: `region ${enrolment.region}, CA SHA-256 ${checked.caFingerprint}, file issued ${enrolment.issuedAt}`,
      });
      return saveProfile(profile, brokerPassword);
    },
    [COMMANDS.setUiPreferences]: async (preferences) => {
      settings.setUi(Object.fromEntries(Object.entries(preferences).filter(([, v]) => v !== undefined)));
      return views.setupChanged();
    },
    [COMMANDS.setTrust]: async (input) => {
      const { identity } = ctx.unlocked();
      await identityStep(() =>
        identity.setTrust({
          anchorsPem: input.anchorsPem,
          hubCertificatePem: input.hubCertificatePem,
          ...(input.crlsPem && { crlsPem: input.crlsPem }),
        }),
      );
      // A current CRL loaded again (Settings) lets the downlink be read again.
      return identityChanged();
    },
    [COMMANDS.importPkcs12]: async ({ use, pkcs12Base64, password }) => {
      const { identity, audit } = ctx.unlocked();
      const status = await identityStep(() =>
        identity.importPkcs12({ use, pkcs12: fromBase64(pkcs12Base64), password }),
      );
      audit.append({
        actor: status.practitionerId ?? 'system',
        action: AUDIT_ACTIONS.identityImported,
        subject: `certificate:${use}`,
      });
      return identityChanged();
    },
    [COMMANDS.createCertificateRequest]: async (input) => {
      const { identity } = ctx.unlocked();
      return {
        requestPem: await identity.createRequest({
          use: input.use,
          practitionerId: input.practitionerId,
          ...(input.organization && { organization: input.organization }),
        }),
      };
    },
    [COMMANDS.importCertificate]: async ({ use, certificatePem }) => {
      const { identity, audit } = ctx.unlocked();
      const status = await identityStep(() => identity.importCertificate({ use, certificatePem }));
      audit.append({
        actor: status.practitionerId ?? 'system',
        action: AUDIT_ACTIONS.identityImported,
        subject: `certificate:${use}`,
      });
      return identityChanged();
    },
  };
}
