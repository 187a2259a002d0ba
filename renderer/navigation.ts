/** Where the user is. One state, no router: the app has a handful of screens and no URLs to share. */
export type View =
  | { readonly name: 'inbox' }
  | { readonly name: 'case'; readonly caseId: string }
  | { readonly name: 'directory' }
  | {
      readonly name: 'compose';
      readonly expertId?: string;
      /** Begun from an earlier case: its patient only, or its whole request (a redirect sent on). */
      readonly from?: { readonly caseId: string; readonly take: 'patient' | 'request' };
    }
  | { readonly name: 'outbox' }
  | { readonly name: 'rejections' }
  | { readonly name: 'settings' };

export type Navigate = (view: View) => void;
