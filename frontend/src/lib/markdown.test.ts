import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

function render(source: string): HTMLElement {
  const element = document.createElement('div');
  element.innerHTML = renderMarkdown(source);
  return element;
}

describe('renderMarkdown', () => {
  it('renders markdown: headings, emphasis, tables, links', () => {
    const html = render('# Title\n\nSome *words*.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://example.com)');
    expect(html.querySelector('h1')?.textContent).toBe('Title');
    expect(html.querySelector('em')?.textContent).toBe('words');
    expect(html.querySelectorAll('td')).toHaveLength(2);
    const link = html.querySelector('a');
    expect(link?.getAttribute('href')).toBe('https://example.com');
    expect(link?.getAttribute('rel')).toBe('noopener noreferrer nofollow');
  });

  it('shows HTML written in the document as text, block and inline', () => {
    const html = render('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\nsay <b>not bold</b> here');
    expect(html.querySelector('script, img, b, [onerror]')).toBeNull();
    expect(html.textContent).toContain('<script>alert(1)</script>');
    expect(html.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(html.textContent).toContain('say <b>not bold</b> here');
  });

  it('drops javascript: links', () => {
    const html = render('[click](javascript:alert(3))');
    expect(html.querySelector('a[href^="javascript"]')).toBeNull();
  });
});
