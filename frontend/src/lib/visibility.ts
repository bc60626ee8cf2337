/** One IntersectionObserver shared by many elements, as Svelte attachments (lazy page loading). */
import type { Attachment } from 'svelte/attachments';

export type VisibilityCallback = (visible: boolean) => void;

export function createVisibility(rootMargin = '1200px 0px'): (callback: VisibilityCallback) => Attachment<Element> {
  const callbacks = new Map<Element, VisibilityCallback>();
  let observer: IntersectionObserver | null = null;

  function ensureObserver(): IntersectionObserver | null {
    if (observer || typeof IntersectionObserver === 'undefined') return observer;
    observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) callbacks.get(entry.target)?.(entry.isIntersecting);
      },
      { rootMargin },
    );
    return observer;
  }

  return (callback) => (element) => {
    const io = ensureObserver();
    if (!io) {
      // no IntersectionObserver (old browser, tests): everything counts as visible
      callback(true);
      return;
    }
    callbacks.set(element, callback);
    io.observe(element);
    return () => {
      io.unobserve(element);
      callbacks.delete(element);
    };
  };
}
