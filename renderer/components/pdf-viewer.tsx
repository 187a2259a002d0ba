import { useEffect, useRef, useState } from 'react';
import type * as PdfJs from 'pdfjs-dist';
// Served from the app's own origin (script-src 'self' covers the worker): nothing of pdf.js comes from elsewhere.
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';
import { useIntl } from 'react-intl';
import type { MessageId } from '../../shared/i18n/index.ts';
import { bytesOfBase64 } from '../files.ts';
import { useT } from '../i18n/index.ts';

let pdfjs: Promise<typeof PdfJs> | undefined;
/** pdf.js is loaded with the first PDF shown, not with the app. */
function loadPdfJs(): Promise<typeof PdfJs> {
  pdfjs ??= import('pdfjs-dist').then((lib) => {
    lib.GlobalWorkerOptions.workerSrc = workerUrl;
    return lib;
  });
  return pdfjs;
}

/**
 * A PDF is anyone's file: pdf.js gets its bytes and nothing else. No URLs, so nothing is fetched (fonts a file does
 * not embed fall back to the system's; the CSP's connect-src 'none' would refuse a fetch anyway); no WebAssembly (the
 * CSP allows none: images are decoded in JavaScript); no XFA forms. Scripts and links belong to pdf.js's annotation
 * layer, which this viewer does not build: pages are drawn on a canvas only.
 */
const DOCUMENT_OPTIONS = {
  enableXfa: false,
  useWasm: false,
  useWorkerFetch: false,
  disableRange: true,
  disableStream: true,
  disableAutoFetch: true,
  // Pages are drawn here, on the page's own canvases (no canvas handed to another worker).
  disableWorkerRendering: true,
} as const;

/** Relative to the page as wide as its frame (100 %): what a report or a letter is read at. */
const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3] as const;
const DEFAULT_ZOOM = 1;

type Loaded = { pdf: PdfJs.PDFDocumentProxy } | { problem: MessageId };

/** Why a PDF cannot be shown, in words the user can act on (pdf.js's own messages are for developers). */
function problemOf(error: unknown): MessageId {
  const name = error instanceof Error ? error.name : '';
  return name === 'PasswordException' ? 'viewer.pdf.password' : 'viewer.pdf.unreadable';
}

/** A PDF page by page on a canvas, with its text for screen readers: one page drawn at a time, at the zoom chosen. */
export function PdfViewer({ base64, title }: { base64: string; title: string }) {
  const t = useT();
  const intl = useIntl();
  const [loaded, setLoaded] = useState<Loaded>();
  const [pageNumber, setPageNumber] = useState(1);
  const [zoom, setZoom] = useState<number>(DEFAULT_ZOOM);

  useEffect(() => {
    let closed = false;
    let destroy: (() => Promise<void>) | undefined;
    loadPdfJs()
      .then((lib) => {
        if (closed) return undefined;
        // pdf.js hands the bytes to its worker (the buffer is moved): a copy of its own each time.
        const task = lib.getDocument({ ...DOCUMENT_OPTIONS, data: bytesOfBase64(base64) });
        destroy = () => task.destroy();
        return task.promise.then((pdf) => {
          if (!closed) setLoaded({ pdf });
        });
      })
      .catch((error: unknown) => {
        if (!closed) setLoaded({ problem: problemOf(error) });
      });
    return () => {
      closed = true;
      void destroy?.();
    };
  }, [base64]);

  if (!loaded) return <p className="hint">{t('viewer.pdf.opening')}</p>;
  if ('problem' in loaded)
    return (
      <p className="hint" data-testid="pdf-problem">
        {t(loaded.problem)}
      </p>
    );
  const { pdf } = loaded;
  const pages = pdf.numPages;
  const zoomIndex = ZOOMS.indexOf(zoom as (typeof ZOOMS)[number]);
  return (
    <div className="pdf-viewer" data-testid="pdf-viewer">
      <div className="pdf-toolbar no-print" role="group" aria-label={t('viewer.pdf.pages', { title })}>
        <button type="button" disabled={pageNumber <= 1} onClick={() => setPageNumber((n) => n - 1)}>
          {t('viewer.pdf.previous')}
        </button>
        <span aria-live="polite" data-testid="pdf-page-number">
          {t('viewer.pdf.pageOf', { page: pageNumber, pages })}
        </span>
        <button type="button" disabled={pageNumber >= pages} onClick={() => setPageNumber((n) => n + 1)}>
          {t('viewer.pdf.next')}
        </button>
        <button type="button" disabled={zoomIndex <= 0} onClick={() => setZoom(ZOOMS[zoomIndex - 1]!)}>
          {t('viewer.zoomOut')}
        </button>
        <span>{intl.formatNumber(zoom, { style: 'percent' })}</span>
        <button type="button" disabled={zoomIndex >= ZOOMS.length - 1} onClick={() => setZoom(ZOOMS[zoomIndex + 1]!)}>
          {t('viewer.zoomIn')}
        </button>
      </div>
      <PdfPage
        // A page or zoom of its own gets a canvas of its own: a canvas takes one drawing at a time.
        key={`${pageNumber}@${zoom}`}
        pdf={pdf}
        pageNumber={pageNumber}
        zoom={zoom}
        pages={pages}
        title={title}
      />
    </div>
  );
}

function PdfPage({
  pdf,
  pageNumber,
  zoom,
  pages,
  title,
}: {
  pdf: PdfJs.PDFDocumentProxy;
  pageNumber: number;
  zoom: number;
  pages: number;
  title: string;
}) {
  const t = useT();
  const frame = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [text, setText] = useState<string>();
  const [problem, setProblem] = useState<MessageId>();

  useEffect(() => {
    let closed = false;
    let cancel: (() => void) | undefined;
    void (async () => {
      try {
        const page = await pdf.getPage(pageNumber);
        const target = canvas.current;
        if (closed || !target || !frame.current) return;
        const style = getComputedStyle(frame.current);
        const room = frame.current.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const viewport = page.getViewport({ scale: (zoom * room) / page.getViewport({ scale: 1 }).width });
        // Drawn at the screen's own resolution, shown at the page's size in CSS pixels.
        const ratio = window.devicePixelRatio || 1;
        target.width = Math.floor(viewport.width * ratio);
        target.height = Math.floor(viewport.height * ratio);
        target.style.width = `${Math.floor(viewport.width)}px`;
        target.style.height = `${Math.floor(viewport.height)}px`;
        const task = page.render({
          canvas: target,
          viewport,
          ...(ratio !== 1 && { transform: [ratio, 0, 0, ratio, 0, 0] }),
        });
        cancel = () => task.cancel();
        await task.promise;
        const content = await page.getTextContent();
        if (!closed) setText(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
      } catch (error) {
        if (!closed && !(error instanceof Error && error.name === 'RenderingCancelledException'))
          setProblem('viewer.pdf.pageProblem');
      }
    })();
    return () => {
      closed = true;
      cancel?.();
    };
  }, [pdf, pageNumber, zoom]);

  return (
    // Focusable, so that a page larger than its frame can be scrolled from the keyboard.
    <div
      ref={frame}
      className="pdf-page"
      role="group"
      tabIndex={0}
      aria-label={t('viewer.pdf.pageScrollable', { page: pageNumber, pages, title })}
    >
      <canvas
        ref={canvas}
        role="img"
        aria-label={t('viewer.pdf.pageLabel', { page: pageNumber, pages, title })}
        data-testid="pdf-canvas"
      />
      {problem && <p className="hint">{t(problem)}</p>}
      {text && (
        <div className="visually-hidden" data-testid="pdf-page-text">
          {text}
        </div>
      )}
    </div>
  );
}
