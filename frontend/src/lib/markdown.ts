/**
 * Markdown from parsed documents is untrusted: it is rendered with marked and the HTML is always sanitized with
 * DOMPurify before it reaches the page. Images, forms, styles and embedded SVG/MathML are dropped; links open in a
 * new tab without a referrer.
 */
import DOMPurify from 'dompurify';
import { marked } from 'marked';

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
  const html = marked.parse(source, { async: false, gfm: true });
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['img', 'picture', 'video', 'audio', 'source', 'style', 'form', 'input', 'button', 'textarea',
      'select', 'iframe', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style', 'srcset'],
  });
}
