// A web app as a developer would write it with aws-amplify, bundled for the browser by the hosted
// browser test (esbuild). Its settings come from the page (window.GATEHOUSE_APP).
import { Amplify } from 'aws-amplify';
import { Hub } from 'aws-amplify/utils';
import { fetchAuthSession, getCurrentUser, signInWithRedirect, signOut } from 'aws-amplify/auth';

declare global {
  interface Window {
    GATEHOUSE_APP: { userPoolId: string; userPoolClientId: string; domain: string; endpoint: string; redirect: string; scopes: string[] };
    app: Record<string, (...a: any[]) => Promise<unknown>>;
    appEvents: string[];
  }
}

const c = window.GATEHOUSE_APP;
window.appEvents = [];
Hub.listen('auth', ({ payload }) => {
  window.appEvents.push(payload.event + ('message' in payload && payload.message ? `: ${payload.message}` : ''));
});
Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: c.userPoolId, userPoolClientId: c.userPoolClientId, userPoolEndpoint: c.endpoint,
      loginWith: { oauth: { domain: c.domain, scopes: c.scopes, redirectSignIn: [c.redirect], redirectSignOut: [c.redirect], responseType: 'code' } },
    },
  },
});

window.app = {
  signIn: (custom?: string) => signInWithRedirect(custom ? { provider: { custom } } : undefined),
  signOut: () => signOut(),
  async tokens() {
    const s = await fetchAuthSession();
    return s.tokens ? { access: s.tokens.accessToken.toString(), id: s.tokens.idToken?.toString() } : null;
  },
  user: () => getCurrentUser(),
};
