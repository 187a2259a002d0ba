import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import type { Message } from 'rhea';
import type { CmsSigner } from '../../../shared/cms/index.ts';
import {
  sealMessage,
  PROTOCOL_VERSION,
  type ApplicationProperties,
  type ConsultStatusUpdate,
} from '../../../shared/protocol/index.ts';
import {
  buildConsultRequest,
  buildConsultStatus,
  buildDirectoryUpdate,
  buildHubNotice,
  type ConsultRequestInput,
} from '../../../shared/protocol/fhir/index.ts';
import { newMessageId } from '../../../transport/index.ts';
import type { BenchPractitioner } from './downlink-bench-region.ts';

/**
 * Test support for downlink-bench.ts: what arrives at its workstation — consults from the applicant, sealed with the
 * real CMS profile as the hub forwards them, and notices and directory updates signed by the hub.
 */
export interface BenchPeer {
  /** A consult.request from the applicant to the expert; `payload` may edit the Bundle before it is signed. */
  request(input?: {
    caseId?: string;
    priority?: ConsultRequestInput['priority'];
    payload?: (bundle: Record<string, unknown>) => void;
  }): Promise<Message & { caseId: string }>;
  /** A consult.status from the applicant. */
  status(input: {
    caseId: string;
    status: Extract<ConsultStatusUpdate, 'cancelled' | 'information-provided'>;
    sequence: number;
    note: string;
  }): Promise<Message>;
  /** A hub.notice signed by the hub, e.g. crl-updated with a CRL; `edit` may change the Bundle before it is signed. */
  hubNotice(
    input: { notice: string; text: string; crl?: Uint8Array },
    edit?: (bundle: Record<string, unknown>) => void,
  ): Promise<Message>;
  /**
   * A directory.update from the hub from `baseVersion` to `version` (retiring one role nobody holds); `edit` may change
   * the Bundle before it is signed.
   */
  hubUpdate(baseVersion: number, version: number, edit?: (bundle: Record<string, unknown>) => void): Promise<Message>;
}

export function createBenchPeer(input: {
  applicant: BenchPractitioner;
  applicantEndpoint: string;
  expert: BenchPractitioner;
  expertEndpoint: string;
  hub: CmsSigner;
}): BenchPeer {
  const { applicant, expert, hub, applicantEndpoint, expertEndpoint } = input;

  async function consultMessage(
    properties: ApplicationProperties,
    payload: (messageId: string, timestamp: Date) => Bundle,
    edit?: (bundle: Record<string, unknown>) => void,
  ): Promise<Message> {
    const messageId = newMessageId();
    const creationTime = new Date();
    const bundle = payload(messageId, creationTime) as unknown as Record<string, unknown>;
    edit?.(bundle);
    const fields = await sealMessage({
      messageId,
      creationTime,
      userId: 'hub',
      properties,
      payload: bundle as unknown as Bundle,
      signer: applicant.signing,
      recipientCertificates: [expert.encryption.certificate, applicant.encryption.certificate],
    });
    return fields as unknown as Message;
  }
  const consultProperties = (caseId: string, sequence: number) => ({
    rtsVersion: PROTOCOL_VERSION,
    rtsSender: applicantEndpoint,
    rtsCase: caseId,
    rtsFromPractitioner: applicant.id,
    rtsToPractitioner: expert.id,
    rtsSequence: sequence,
  });

  return {
    async hubNotice(input, edit) {
      const messageId = newMessageId();
      const creationTime = new Date();
      const payload = buildHubNotice(
        { messageId, timestamp: creationTime, sender: 'hub' },
        { ...input, toEndpoint: expertEndpoint },
      ) as unknown as Record<string, unknown>;
      edit?.(payload);
      const fields = await sealMessage({
        messageId,
        creationTime,
        userId: 'hub',
        properties: {
          rtsType: 'hub.notice',
          rtsVersion: PROTOCOL_VERSION,
          rtsSender: 'hub',
          rtsNotice: input.notice,
          rtsToEndpoint: expertEndpoint,
        },
        payload: payload as unknown as Bundle,
        signer: hub,
      });
      return fields as unknown as Message;
    },
    async hubUpdate(baseVersion, version, edit) {
      const messageId = newMessageId();
      const creationTime = new Date();
      const payload = buildDirectoryUpdate({ messageId, timestamp: creationTime, sender: 'hub' }, [
        { retire: 'PractitionerRole/clinic-a.dr-nobody' },
      ]) as unknown as Record<string, unknown>;
      edit?.(payload);
      const fields = await sealMessage({
        messageId,
        creationTime,
        userId: 'hub',
        properties: {
          rtsType: 'directory.update',
          rtsVersion: PROTOCOL_VERSION,
          rtsSender: 'hub',
          rtsDirectoryBaseVersion: baseVersion,
          rtsDirectoryVersion: version,
        },
        payload: payload as unknown as Bundle,
        signer: hub,
      });
      return fields as unknown as Message;
    },
    async request(input = {}) {
      const caseId = input.caseId ?? randomUUID();
      const message = await consultMessage(
        { rtsType: 'consult.request', ...consultProperties(caseId, 1) },
        (messageId, timestamp) =>
          buildConsultRequest(
            { messageId, timestamp, sender: applicantEndpoint },
            {
              caseId,
              from: applicant.id,
              to: expert.id,
              sequence: 1,
              priority: input.priority ?? 'routine',
              reason: 'Chest pain since this morning',
              patient: { family: 'Nilsen', given: ['Kari'], gender: 'female', birthDate: '1961-04-12' },
            },
          ),
        input.payload,
      );
      return Object.assign(message, { caseId });
    },
    async status(input) {
      return consultMessage(
        { rtsType: 'consult.status', ...consultProperties(input.caseId, input.sequence), rtsStatus: input.status },
        (messageId, timestamp) =>
          buildConsultStatus(
            { messageId, timestamp, sender: applicantEndpoint },
            {
              caseId: input.caseId,
              from: applicant.id,
              to: expert.id,
              sequence: input.sequence,
              status: input.status,
              note: input.note,
            },
          ),
      );
    },
  };
}
