// The root component: boots the auth session, then shows the sign-in page or the chat.
import { useEffect } from 'react';
import { bootSession } from '../state/session';
import { useSession } from '../state';
import { AuthPage } from './AuthPage';
import { ChatApp } from './ChatApp';

export function App() {
  const status = useSession((s) => s.status);
  useEffect(() => {
    void bootSession();
  }, []);
  if (status === 'loading') {
    return (
      <div className="splash" role="status" aria-live="polite">
        <span className="brand-mark" aria-hidden="true" />
        <span className="visually-hidden">Loading Natter…</span>
      </div>
    );
  }
  return status === 'authenticated' ? <ChatApp /> : <AuthPage />;
}
