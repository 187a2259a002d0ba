import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { I18nProvider } from './i18n/index.ts';
import { getRtsApi } from './rts-bridge.ts';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');
const api = getRtsApi();
createRoot(root).render(
  <StrictMode>
    <I18nProvider api={api}>
      <App api={api} />
    </I18nProvider>
  </StrictMode>,
);
