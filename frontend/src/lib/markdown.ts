/**
 * Markdown from parsed documents is untrusted: it is rendered with marked and the HTML is always sanitized with
 * DOMPurify before it reaches the page. HTML written in the markdown itself is document text (a PDF that says
 * "<b>" means the characters, not bold), so it is shown as text, never as markup. Images, forms, styles and
 * embedded SVG/MathML are dropped; links open in a new tab without a referrer.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

const marked = new Marked({
  async: false,
  gfm: true,
  renderer: {
    // raw HTML blocks and inline tags of the source: shown as the characters they are
    html: ({ text }) => escapeHtml(text),
  },
});

let hooked = false;

function addLinkHook(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

export function renderMarkdown(source: string): string {
  addLinkHook();
  const html = marked.parse(source, { async: false });
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['img', 'picture', 'video', 'audio', 'source', 'style', 'form', 'input', 'button', 'textarea',
      'select', 'iframe', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style', 'srcset'],
  });
}
