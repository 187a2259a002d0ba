/** Where the user is. One state, no router: the app has a handful of screens and no URLs to share. */
export type View =
  | { readonly name: 'inbox' }
  | { readonly name: 'case'; readonly caseId: string }
  | { readonly name: 'directory' }
  | { readonly name: 'compose'; readonly expertId?: string }
  | { readonly name: 'outbox' }
  | { readonly name: 'rejections' }
  | { readonly name: 'settings' };

export type Navigate = (view: View) => void;
