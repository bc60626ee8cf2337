/** Hash routes (#/, #/history, #/jobs/{id}): the app is static files served by the API, with no server routes. */

export type Route = { name: 'home' } | { name: 'history' } | { name: 'job'; id: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/history') return { name: 'history' };
  const job = /^\/jobs\/([^/?#]+)$/.exec(path);
  if (job) return { name: 'job', id: decodeURIComponent(job[1]) };
  return { name: 'home' };
}

export const hrefs = {
  home: '#/',
  history: '#/history',
  job: (id: string) => `#/jobs/${encodeURIComponent(id)}`,
};

export class Router {
  route = $state<Route>({ name: 'home' });

  constructor() {
    if (typeof window === 'undefined') return;
    this.route = parseHash(window.location.hash);
    window.addEventListener('hashchange', () => {
      this.route = parseHash(window.location.hash);
    });
  }

  go(href: string): void {
    window.location.hash = href.replace(/^#/, '');
  }
}
