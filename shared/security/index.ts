/** What other layers may use of shared/security/: they import it from here only (eslint rule rts/layers). */
export { CONTENT_SECURITY_POLICY, FRAME_ANCESTORS_DIRECTIVE } from './content-security-policy.ts';
