// File names for corpus entries and run directories: lowercase, runs of anything that is not a
// letter or digit become one '-', no '-' at either end, at most 80 characters.

export const MAX_SLUG = 80;

export function slugify(text: string, max = MAX_SLUG): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
  return slug || 'untitled';
}
