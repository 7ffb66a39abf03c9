/** The page browsers get for errors: a title and one sentence, never details. */
import { html } from "./html.js";
import { renderLayout } from "./layout.js";

/** Render an error page. */
export function renderErrorPage(options: { title: string; message: string }): string {
  return renderLayout({ title: options.title, userEmail: null }, html`<p>${options.message}</p><p><a href="/">Back to the start</a></p>`);
}
