import type { ComponentChildren } from 'preact';
import { BASE, navigate } from './router.ts';

/** An in-app link: a real <a href> (open in a new tab works), navigated without a reload. */
export function Link({ href, children, class: className, ...rest }: { href: string; children: ComponentChildren; class?: string; 'aria-label'?: string }) {
  return (
    <a
      href={BASE + href}
      class={className}
      {...rest}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
